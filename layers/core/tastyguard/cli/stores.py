"""Where a command keeps tastyguard's state: always an explicit choice, shown by every command.

* ``embedded``: an in-process AWS (moto). Nothing leaves the process and nothing is kept. Whatever AWS
  configuration the machine has (profiles, credentials, ``AWS_ENDPOINT_URL``) is ignored for the command.
* a URL (``http://127.0.0.1:5000``): a local AWS endpoint such as ``moto_server`` or DynamoDB Local, to keep
  state between commands. A loopback endpoint gets a region and dummy credentials if none are set.
* ``tastyguard``: the deployed stack, by name, in the AWS account and region your AWS configuration selects
  (``AWS_PROFILE``, ``AWS_REGION``). Only when asked for.

The choice comes from ``--store`` or ``$TASTYGUARD_STORE``; a command with no choice uses its default (embedded
for paper runs) or, where embedded state would be meaningless or dangerous, says which to pass.
"""

from __future__ import annotations

import contextlib
import enum
import ipaddress
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tastyguard.cli import exit_codes
from tastyguard.cli.errors import CliError, StoreContext
from tastyguard.store.control import DEFAULT_KILL_SWITCH_PARAMETER
from tastyguard.store.schema import STATE_TABLE, create_tables
from tastyguard.store.table import StateTable

if TYPE_CHECKING:
    from tastyguard.broker.tokens import TokenCache

EMBEDDED = 'embedded'
STACK_NAME = 'tastyguard'
"""The deployed stack's name (``infra/constants.py`` ``STACK_NAME``); its resources have fixed names."""
BROKER_SECRET = 'tastyguard/broker'  # noqa: S105 - a secret's name
TOKEN_SECRET = 'tastyguard/access-token'  # noqa: S105 - a secret's name
TOPIC_NAME = 'tastyguard-notifications'
EMBEDDED_REGION = 'us-east-1'

_PREFLIGHT = Config(connect_timeout=3, read_timeout=10, retries={'max_attempts': 1, 'mode': 'standard'})
_AWS_SELECTORS = ('AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_ENDPOINT_URL')


class StoreKind(enum.StrEnum):
    """The three kinds of store."""

    EMBEDDED = 'embedded'
    ENDPOINT = 'endpoint'
    STACK = 'stack'


@dataclass(frozen=True)
class StoreChoice:
    """A store as the user named it."""

    kind: StoreKind
    value: str  # 'embedded', the endpoint URL, or the stack name

    @property
    def option(self) -> str:
        """How to name this store on the command line."""
        return f'--store {self.value}'


def parse_store(value: str) -> StoreChoice:
    """``embedded``, an ``http(s)://`` endpoint URL, or the stack's name; anything else is a usage error."""
    text = value.strip()
    if text.lower() == EMBEDDED:
        return StoreChoice(StoreKind.EMBEDDED, EMBEDDED)
    if '://' in text:
        parts = urlsplit(text)
        if parts.scheme not in ('http', 'https') or not parts.netloc:
            raise CliError(f'--store {value!r}: an endpoint must be an http:// or https:// URL', exit_code=2)
        return StoreChoice(StoreKind.ENDPOINT, text.rstrip('/'))
    if text == STACK_NAME:
        return StoreChoice(StoreKind.STACK, text)
    looks_like_host = ':' in text and not text.startswith(':')
    hint = f' (an endpoint needs its scheme: http://{text})' if looks_like_host else ''
    raise CliError(
        f"unknown store {value!r}{hint}: use 'embedded' (in-process, nothing kept), a local AWS endpoint URL such "
        f"as http://127.0.0.1:5000, or the deployed stack's name '{STACK_NAME}'",
        exit_code=exit_codes.USAGE,
    )


def choose_store(value: str | None, *, default: StoreChoice | None, why_explicit: str = '') -> StoreChoice:
    """The store named by ``--store`` / ``$TASTYGUARD_STORE``, else ``default``; no default means "say which"."""
    if value:
        return parse_store(value)
    if default is not None:
        return default
    raise CliError(
        f'say which store{why_explicit}: --store {STACK_NAME} (the deployed stack, in the AWS account and region '
        'of your AWS profile) or --store http://127.0.0.1:5000 (a local endpoint), or set TASTYGUARD_STORE',
        exit_code=exit_codes.USAGE,
    )


EMBEDDED_STORE = StoreChoice(StoreKind.EMBEDDED, EMBEDDED)


@dataclass
class StoreSession:
    """An open store: the AWS clients of this command point at it."""

    choice: StoreChoice
    region: str
    account_id: str | None = None
    partition: str = 'aws'
    profile: str | None = None
    _state: StateTable | None = field(default=None, repr=False)

    @property
    def kind(self) -> StoreKind:
        """The store's kind."""
        return self.choice.kind

    def describe(self) -> str:
        """One line for people: which store this command uses."""
        if self.kind is StoreKind.EMBEDDED:
            return 'store: embedded (in-process AWS; nothing is kept after this command)'
        if self.kind is StoreKind.ENDPOINT:
            return f'store: local endpoint {self.choice.value} ({self.region})'
        profile = f', profile {self.profile}' if self.profile else ''
        return f'store: the deployed stack {self.choice.value} (AWS account {self.account_id}, {self.region}{profile})'

    def as_json(self) -> dict[str, Any]:
        """The store in ``--json`` output."""
        return {
            'kind': self.kind.value,
            'name': self.choice.value,
            'region': self.region,
            'account_id': self.account_id,
        }

    @property
    def state(self) -> StateTable:
        """The state table."""
        if self._state is None:
            self._state = StateTable()
        return self._state

    def client(self, service: str) -> Any:
        """A boto3 client of this store's AWS."""
        return boto3.client(service)  # type: ignore[call-overload]

    @property
    def topic_arn(self) -> str | None:
        """The stack's notification topic (None for the other stores)."""
        if self.kind is not StoreKind.STACK or self.account_id is None:
            return None
        return f'arn:{self.partition}:sns:{self.region}:{self.account_id}:{TOPIC_NAME}'

    def token_cache(self, environment: str, grant: str = 'default') -> TokenCache:
        """This store's shared access-token cache of ``grant``: the one the stack's jobs use, with its
        re-authorization breaker (a command never logs in while the breaker is open, and a refused grant trips it
        for the jobs too)."""
        from tastyguard.config.grants import DEFAULT_GRANT, token_secret_name  # noqa: PLC0415
        from tastyguard.store.tokens import AwsTokenCache  # noqa: PLC0415

        secret = TOKEN_SECRET if grant == DEFAULT_GRANT else token_secret_name(grant)
        return AwsTokenCache(
            self.state, self.client('secretsmanager'), secret_id=secret, environment=environment, grant=grant
        )

    @property
    def kill_switch_parameter(self) -> str:
        """The kill switch's SSM parameter."""
        return DEFAULT_KILL_SWITCH_PARAMETER


@contextlib.contextmanager
def _environment(set_: dict[str, str], unset: tuple[str, ...] = (), *, own_endpoints: bool = True) -> Iterator[None]:
    """Change os.environ (and boto3's default session, which caches credentials) for the block only.

    ``own_endpoints`` drops service-specific endpoint overrides, which would send one service elsewhere.
    """
    saved = dict(os.environ)
    saved_session = boto3.DEFAULT_SESSION
    for key in unset:
        os.environ.pop(key, None)
    if own_endpoints:
        for key in [key for key in os.environ if key.startswith('AWS_ENDPOINT_URL_')]:
            os.environ.pop(key)
    os.environ.update(set_)
    boto3.DEFAULT_SESSION = None
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        boto3.DEFAULT_SESSION = saved_session


def embedded_environment() -> dict[str, str]:
    """The variables of an embedded AWS: dummy credentials, one region, no profile or credential files."""
    return {
        'AWS_ACCESS_KEY_ID': 'embedded',
        'AWS_SECRET_ACCESS_KEY': 'embedded',
        'AWS_SESSION_TOKEN': 'embedded',
        'AWS_DEFAULT_REGION': EMBEDDED_REGION,
        'AWS_REGION': EMBEDDED_REGION,
        'AWS_CONFIG_FILE': os.devnull,
        'AWS_SHARED_CREDENTIALS_FILE': os.devnull,
    }


@contextlib.contextmanager
def embedded_aws() -> Iterator[None]:
    """An in-process AWS for the block, with the tables created, whatever this machine has configured."""
    from moto import mock_aws  # noqa: PLC0415 - the other stores never pay for moto

    with _environment(embedded_environment(), unset=_AWS_SELECTORS), mock_aws():
        create_tables(boto3.client('dynamodb'))
        yield


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ''
    if host == 'localhost':
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_tables(choice: StoreChoice, *, require_tables: bool) -> None:
    """Reach the store once, quickly, and say what to do when it is unreachable or has no tables."""
    dynamodb = boto3.client('dynamodb', config=_PREFLIGHT)
    try:
        dynamodb.describe_table(TableName=STATE_TABLE.name)
    except ClientError as error:
        if error.response.get('Error', {}).get('Code') != 'ResourceNotFoundException':
            raise
        if require_tables:
            raise CliError(
                f'{StoreContext.label} has no table {STATE_TABLE.name}: {StoreContext.missing_tables_hint}'
            ) from None
    except BotoCoreError as error:
        if choice.kind is StoreKind.ENDPOINT:
            raise CliError(
                f'cannot reach the AWS endpoint {choice.value} ({type(error).__name__}): start it (for example '
                '`moto_server -H 127.0.0.1 -p 5000`) or fix --store / TASTYGUARD_STORE'
            ) from None
        raise


def _complete_endpoint_settings(choice: StoreChoice) -> None:
    """A loopback endpoint works without AWS configuration: a region and dummy credentials if none are set."""
    session = boto3.Session()
    if session.region_name is None:
        os.environ['AWS_DEFAULT_REGION'] = EMBEDDED_REGION
    configured = any(key in os.environ for key in ('AWS_ACCESS_KEY_ID', 'AWS_PROFILE', 'AWS_DEFAULT_PROFILE'))
    if _is_loopback(choice.value) and not configured:
        # Do not search for credentials (that would ask the EC2 metadata service): a local endpoint takes any
        os.environ |= {'AWS_ACCESS_KEY_ID': 'local', 'AWS_SECRET_ACCESS_KEY': 'local'}
    elif session.get_credentials() is None:
        if not _is_loopback(choice.value):
            raise CliError(
                f'no AWS credentials for the endpoint {choice.value}: set AWS_ACCESS_KEY_ID and '
                'AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) for it'
            )
        os.environ |= {'AWS_ACCESS_KEY_ID': 'local', 'AWS_SECRET_ACCESS_KEY': 'local'}
    boto3.DEFAULT_SESSION = None


def _stack_identity(choice: StoreChoice) -> tuple[str, str, str, str | None]:
    """(region, account id, partition, profile) of the AWS the stack store talks to."""
    session = boto3.Session()
    region = session.region_name
    if region is None:
        raise CliError(
            f'no AWS region for the stack {choice.value}: set AWS_REGION (or the region of your AWS profile) to the '
            'region the stack is deployed in'
        )
    if session.get_credentials() is None:
        raise CliError(
            f'no AWS credentials for the stack {choice.value}: set AWS_PROFILE to a profile of the account it is '
            'deployed in (aws configure, or aws sso login --profile <name>)'
        )
    identity = boto3.client('sts', config=_PREFLIGHT).get_caller_identity()
    arn = identity['Arn']
    return region, identity['Account'], arn.split(':')[1], session.profile_name if 'AWS_PROFILE' in os.environ else None


@contextlib.contextmanager
def open_store(choice: StoreChoice, *, require_tables: bool = True) -> Iterator[StoreSession]:
    """Point this command's AWS clients at ``choice`` for the block (and check it is there)."""
    StoreContext.label = None
    if choice.kind is StoreKind.EMBEDDED:
        with embedded_aws():
            StoreContext.label = 'the embedded store'
            try:
                yield StoreSession(choice, region=EMBEDDED_REGION)
            finally:
                StoreContext.label = StoreContext.missing_tables_hint = None
        return
    if choice.kind is StoreKind.ENDPOINT:
        with _environment({'AWS_ENDPOINT_URL': choice.value}):
            StoreContext.label = f'the store at {choice.value}'
            StoreContext.missing_tables_hint = (
                f'create the tables first: ./tastyguard store init --store {choice.value}'
            )
            try:
                _complete_endpoint_settings(choice)
                _check_tables(choice, require_tables=require_tables)
                yield StoreSession(choice, region=boto3.Session().region_name or EMBEDDED_REGION)
            finally:
                StoreContext.label = StoreContext.missing_tables_hint = None
        return
    with _environment({}, own_endpoints=False):
        StoreContext.label = f'the stack {choice.value}'
        try:
            region, account_id, partition, profile = _stack_identity(choice)
            StoreContext.label = f'the stack {choice.value} in AWS account {account_id}, {region}'
            StoreContext.missing_tables_hint = (
                'it is not deployed there: deploy it (make deploy, docs/deploy.md), or set AWS_PROFILE / AWS_REGION '
                'to the account and region where it is'
            )
            _check_tables(choice, require_tables=require_tables)
            yield StoreSession(choice, region=region, account_id=account_id, partition=partition, profile=profile)
        finally:
            StoreContext.label = StoreContext.missing_tables_hint = None
