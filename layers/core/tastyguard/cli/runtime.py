"""Building what a CLI command needs: AWS (configured or embedded), broker credentials, config, a job context.

AWS is whatever boto3 is configured for (``AWS_ENDPOINT_URL`` included). With no AWS configuration at all,
an embedded in-process moto stands in (the tables are created in it) and the command says so: nothing is
kept after the command ends.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import typer

from tastyguard.broker import Environment, OAuthCredentials, TastytradeClient
from tastyguard.config.loader import load_config, parse_config
from tastyguard.config.models import Mode, TastyguardConfig
from tastyguard.config.problems import ConfigError
from tastyguard.credentials import CredentialsError, credentials_from_secret, credentials_from_values
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.wiring import build_context
from tastyguard.notify.ports import Notifier
from tastyguard.store.schema import create_tables
from tastyguard.store.table import StateTable

SECRET_ENV = 'TASTYTRADE_CLIENT_SECRET'  # noqa: S105 - variable names
REFRESH_ENV = 'TASTYTRADE_REFRESH_TOKEN'


class CliError(Exception):
    """A problem the user can fix; printed without a traceback."""


def aws_configured() -> bool:
    """True when boto3 would reach some AWS (credentials or an endpoint override)."""
    if os.environ.get('AWS_ENDPOINT_URL'):
        return True
    return boto3.Session().get_credentials() is not None


@contextlib.contextmanager
def aws_session(*, say: Any = None) -> Iterator[bool]:
    """Yield True when an embedded moto is used (started here and stopped on exit)."""
    if aws_configured():
        yield False
        return
    from moto import mock_aws  # noqa: PLC0415 - only when no AWS is configured

    os.environ.setdefault('AWS_DEFAULT_REGION', 'us-east-1')
    with mock_aws():
        create_tables(boto3.client('dynamodb'))
        if say is not None:
            say('No AWS configuration found: using an embedded in-process AWS (moto); nothing is kept afterwards.')
        yield True


def streamer_url_for(api_url: str) -> str:
    """The paper broker's account-streamer URL next to its REST URL."""
    scheme, rest = api_url.split('://', 1)
    return f'{"wss" if scheme == "https" else "ws"}://{rest.rstrip("/")}/account-streamer'


def credentials(secret_id: str | None) -> OAuthCredentials:
    """From ``TASTYTRADE_CLIENT_SECRET`` / ``TASTYTRADE_REFRESH_TOKEN``, else the named Secrets Manager secret."""
    secret, refresh = os.environ.get(SECRET_ENV), os.environ.get(REFRESH_ENV)
    try:
        if secret or refresh:
            return credentials_from_values(secret, refresh, source=f'the environment ({SECRET_ENV}/{REFRESH_ENV})')
        if secret_id:
            return credentials_from_secret(secret_id)
    except CredentialsError as error:
        raise CliError(str(error)) from None
    raise CliError(
        f'no broker credentials: set {SECRET_ENV} and {REFRESH_ENV}, or pass --secret with the Secrets Manager '
        'secret that holds them. For the local paper broker, `tastyguard paper serve` prints both.'
    )


def config_for(
    path: Path, *, api_url: str | None, client: TastytradeClient | None, mode: Mode | None
) -> TastyguardConfig:
    """The configuration file, or (no file, paper broker given) one account entry per broker account."""
    if path.exists():
        try:
            return load_config(path)
        except ConfigError as error:
            raise CliError(f'{error}\nRun `tastyguard config check {path}` for details.') from None
    if api_url and client is not None:
        accounts = [
            {'account_number': account.account_number, 'nickname': account.nickname} for account in client.accounts()
        ]
        return parse_config({'environment': 'paper', 'mode': (mode or Mode.SHADOW).value, 'accounts': accounts})
    raise CliError(
        f'{path} does not exist. Copy tastyguard.example.yaml to {path} and edit it, or pass --api-url to use a '
        'paper broker with every account it has.'
    )


@dataclass
class Runtime:
    """What a job command works with."""

    ctx: JobContext
    embedded_aws: bool


def environment_for(config_env: str | None, api_url: str | None, streamer_url: str | None) -> Environment:
    """``--api-url`` means the paper environment; otherwise the configuration's environment."""
    if api_url:
        return Environment.paper(api_url.rstrip('/'), streamer_url or streamer_url_for(api_url))
    if config_env in (None, 'paper'):
        raise CliError('the paper environment needs --api-url (the `api_url` that `tastyguard paper serve` printed)')
    return Environment.named(config_env)


def build_runtime(
    *,
    config_path: Path,
    api_url: str | None,
    streamer_url: str | None,
    secret_id: str | None,
    mode: Mode | None,
    notifier: Notifier,
    embedded_aws: bool,
) -> Runtime:
    """Config, client and stores for one CLI command."""
    api_url = api_url or os.environ.get('TASTYGUARD_API_URL')
    creds = credentials(secret_id)
    preliminary = Environment.paper(api_url.rstrip('/'), streamer_url or streamer_url_for(api_url)) if api_url else None
    client = TastytradeClient(preliminary, creds) if preliminary else None
    config = config_for(config_path, api_url=api_url, client=client, mode=mode)
    if client is None:
        client = TastytradeClient(environment_for(config.environment.value, None, None), creds)
    elif config.environment.value != 'paper':
        raise CliError(f'{config_path} is for {config.environment.value}; --api-url is only for a paper broker')
    ctx = build_context(config=config, broker=client, state=StateTable(), notifier=notifier, owner=f'cli:{os.getpid()}')
    ctx.mode_override = mode
    return Runtime(ctx=ctx, embedded_aws=embedded_aws)


def fail(error: Exception) -> typer.Exit:
    """Print ``error`` for a person and return the exit to raise."""
    typer.secho(f'error: {error}', fg=typer.colors.RED, err=True)
    return typer.Exit(1)
