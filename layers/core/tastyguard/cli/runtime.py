"""What a command that talks to the broker needs: the configuration, the broker environment, credentials, a
checked connection, and a job context over the chosen store.

Everything a person can get wrong is checked before any job runs and explained in one message: a missing or
invalid configuration, a paper URL for a production config, missing credentials, credentials the broker
refuses (with advice for where they came from: the paper broker, the environment variables or a secret), a
broker that is not there, and configured accounts the broker does not know.
"""

from __future__ import annotations

import getpass
import json
import os
from dataclasses import dataclass
from pathlib import Path

from tastyguard.broker import Environment, OAuthCredentials, TastytradeClient
from tastyguard.broker.errors import (
    AuthenticationError,
    BrokerConnectionError,
    BrokerError,
    BrokerTimeoutError,
    ReauthorizationRequired,
    TokenEndpointNotFound,
)
from tastyguard.broker.models.accounts import Account
from tastyguard.cli import exit_codes
from tastyguard.cli.errors import CliError
from tastyguard.cli.options import check_api_url
from tastyguard.cli.stores import BROKER_SECRET, STACK_NAME, StoreKind, StoreSession
from tastyguard.config.loader import load_config, parse_config
from tastyguard.config.models import Mode, TastyguardConfig
from tastyguard.config.problems import ConfigError
from tastyguard.credentials import HOW_TO_STORE, CredentialsError, credentials_from_values
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.wiring import build_context
from tastyguard.notify.ports import Notifier

SECRET_ENV = 'TASTYTRADE_CLIENT_SECRET'  # noqa: S105 - variable names
REFRESH_ENV = 'TASTYTRADE_REFRESH_TOKEN'
API_URL_ENV = 'TASTYGUARD_API_URL'


@dataclass(frozen=True)
class BrokerCredentials:
    """The OAuth client secret and refresh token, and where they came from (for advice when refused)."""

    value: OAuthCredentials
    source: str  # 'environment' or the secret's name

    @property
    def from_environment(self) -> bool:
        """True when they came from TASTYTRADE_CLIENT_SECRET / TASTYTRADE_REFRESH_TOKEN."""
        return self.source == 'environment'


@dataclass(frozen=True)
class Target:
    """The configuration and the broker a command works with."""

    config: TastyguardConfig | None  # None: a paper broker without a file (every account it has)
    config_path: Path
    environment: Environment

    @property
    def is_paper(self) -> bool:
        """True for a paper broker."""
        return self.environment.name.value == 'paper'


def load_config_file(path: Path, *, explicit: bool) -> TastyguardConfig | None:
    """The configuration at ``path``; None when the default file is absent (a paper run may do without)."""
    if path.exists():
        try:
            return load_config(path)
        except ConfigError as error:
            raise CliError(f'{error}\nRun `./tastyguard config check {path}` for details.') from None
    if explicit:
        raise CliError(f'{path} does not exist')
    return None


def streamer_url_for(api_url: str) -> str:
    """The paper broker's account-streamer URL next to its REST URL."""
    scheme, rest = api_url.split('://', 1)
    return f'{"wss" if scheme == "https" else "ws"}://{rest.rstrip("/")}/account-streamer'


def resolve_target(config_path: Path, *, explicit: bool, api_url: str | None, streamer_url: str | None) -> Target:
    """Which configuration and broker: ``--api-url`` (or $TASTYGUARD_API_URL) means a paper broker."""
    config = load_config_file(config_path, explicit=explicit)
    url = api_url or _env_api_url()
    if url:
        if config is not None and config.environment.value != 'paper':
            raise CliError(
                f'{config_path} is for {config.environment.value}; --api-url is only for a paper broker '
                '(use -c with a configuration whose environment is paper, or drop --api-url)'
            )
        return Target(config, config_path, Environment.paper(url, streamer_url or streamer_url_for(url)))
    if config is None:
        raise CliError(
            f'{config_path} does not exist: copy tastyguard.example.yaml to {config_path} and edit it, or pass '
            '--api-url to use a paper broker with every account it has (`./tastyguard paper serve` starts one)'
        )
    if config.environment.value == 'paper':
        raise CliError(
            f'{config_path} is for a paper broker: pass --api-url (the api_url `./tastyguard paper serve` printed)'
        )
    return Target(config, config_path, Environment.named(config.environment.value))


def _env_api_url() -> str | None:
    value = os.environ.get(API_URL_ENV)
    if not value:
        return None
    try:
        return check_api_url(value)
    except Exception as error:  # typer.BadParameter: restate it for the variable
        raise CliError(f'{API_URL_ENV}: {error}', exit_code=exit_codes.USAGE) from None


def read_credentials(session: StoreSession, secret_id: str | None) -> BrokerCredentials:
    """From the environment variables, else the named secret (the stack's own for ``--store tastyguard``)."""
    secret, refresh = os.environ.get(SECRET_ENV), os.environ.get(REFRESH_ENV)
    name = secret_id or (BROKER_SECRET if session.kind is StoreKind.STACK else None)
    try:
        if secret or refresh:
            value = credentials_from_values(secret, refresh, source=f'the environment ({SECRET_ENV}/{REFRESH_ENV})')
            return BrokerCredentials(value, 'environment')
        if name:
            return BrokerCredentials(_from_secret(session, name), name)
    except CredentialsError as error:
        raise CliError(str(error)) from None
    raise CliError(
        f'no broker credentials: set {SECRET_ENV} and {REFRESH_ENV}, or pass --secret with the Secrets Manager '
        'secret that holds them. For a paper broker, `./tastyguard paper serve` prints both.'
    )


def _from_secret(session: StoreSession, name: str) -> OAuthCredentials:
    """The grant stored in ``name`` in the store's Secrets Manager (a client of this store, never a cached one)."""
    client = session.client('secretsmanager')
    try:
        text = client.get_secret_value(SecretId=name)['SecretString']
    except client.exceptions.ResourceNotFoundException:
        raise CredentialsError(
            f'the secret {name!r} does not exist in this AWS; create it with: {HOW_TO_STORE.format(secret=name)}'
        ) from None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise CredentialsError(
            f'the secret {name!r} is not a JSON object; store it with: {HOW_TO_STORE.format(secret=name)}'
        )
    try:
        return credentials_from_values(
            data.get('client_secret'), data.get('refresh_token'), source=f'the broker secret {name!r}'
        )
    except CredentialsError as error:
        raise CredentialsError(f'{error}; store the grant with: {HOW_TO_STORE.format(secret=name)}') from None


def connect(target: Target, credentials: BrokerCredentials, session: StoreSession) -> TastytradeClient:
    """A client of the target broker, sharing the store's access-token cache (and its breaker)."""
    return TastytradeClient(
        target.environment, credentials.value, token_cache=session.token_cache(target.environment.name.value)
    )


def _refused_advice(target: Target, credentials: BrokerCredentials) -> str:
    environment = target.environment.name.value
    if target.is_paper:
        return (
            f'the paper broker at {target.environment.api_url} refused these credentials: use the client_secret and '
            f'refresh_token its `./tastyguard paper serve` printed (export {SECRET_ENV}=... {REFRESH_ENV}=...); a '
            'restarted paper broker makes new ones unless started with --client-secret and --refresh-token'
        )
    where = (
        f'export the new values as {SECRET_ENV} and {REFRESH_ENV}'
        if credentials.from_environment
        else f'store it in the secret {credentials.source} (docs/deploy.md, "Store the grant")'
    )
    return (
        f'tastytrade ({environment}) refused the refresh grant: create a new grant (docs/deploy.md, "The grant"), '
        f'{where}, then ./tastyguard token reset -e {environment} --store {STACK_NAME}'
    )


def preflight(client: TastytradeClient, target: Target, credentials: BrokerCredentials) -> list[Account]:
    """Log in and list the accounts once, turning every way that fails into advice."""
    try:
        return client.accounts()
    except TokenEndpointNotFound as error:
        raise CliError(f'{error.message}. {error.hint}') from None
    except ReauthorizationRequired as error:
        if error.code == 'breaker_open':
            raise CliError(
                f'{error.message}. After storing a new grant: ./tastyguard token reset '
                f'-e {target.environment.name.value} (with the same --store)'
            ) from None
        raise CliError(f'{error.message}: {_refused_advice(target, credentials)}') from None
    except AuthenticationError as error:
        raise CliError(f'{error.message}: {_refused_advice(target, credentials)}') from None
    except (BrokerConnectionError, BrokerTimeoutError) as error:
        what = 'is the paper broker running (`./tastyguard paper serve`)?' if target.is_paper else 'check your network'
        raise CliError(f'cannot reach the broker at {target.environment.api_url}: {error.message}; {what}') from None
    except BrokerError as error:
        raise CliError(f'the broker at {target.environment.api_url} failed: {error}') from None


def settle_config(target: Target, accounts: list[Account], mode: Mode | None) -> TastyguardConfig:
    """The configuration to run with, checked against the broker's accounts (unknown ones are an error)."""
    if target.config is None:
        entries = [{'account_number': a.account_number, 'nickname': a.nickname} for a in accounts]
        return parse_config({'environment': 'paper', 'mode': (mode or Mode.SHADOW).value, 'accounts': entries})
    known = {account.account_number for account in accounts}
    unknown = [a.account_number for a in target.config.accounts if a.enabled and a.account_number not in known]
    if unknown:
        have = ', '.join(sorted(known)) or 'none'
        raise CliError(
            f'{target.config_path} lists {", ".join(unknown)}, which this login does not have (it has {have}): fix '
            'accounts[].account_number, or set enabled: false for it'
        )
    return target.config


def select_account(config: TastyguardConfig, account: str | None) -> str | None:
    """The ``--account`` the configuration knows (normalised), or None for every enabled account."""
    if account is None:
        return None
    wanted = account.strip().upper()
    numbers = [entry.account_number for entry in config.accounts]
    if wanted not in numbers:
        raise CliError(
            f'unknown account {account!r}: the configuration has {", ".join(numbers) or "no accounts"}',
            exit_code=exit_codes.USAGE,
        )
    return wanted


def job_context(
    config: TastyguardConfig, client: TastytradeClient, session: StoreSession, notifier: Notifier
) -> JobContext:
    """A job context over the open store."""
    return build_context(
        config=config,
        broker=client,
        state=session.state,
        notifier=notifier,
        owner=f'cli:{getpass.getuser()}:{os.getpid()}',
        kill_switch_parameter=session.kill_switch_parameter,
    )
