"""Operations: ``store init``, ``token reset``, ``kill-switch``, ``status``, ``history``.

They act on whatever AWS boto3 is configured for (a deployed stack, or a local endpoint through
``AWS_ENDPOINT_URL``); ``store init`` creates the same tables the stack deploys.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path

import boto3
import typer
from rich.console import Console
from rich.table import Table

from tastyguard.cli.runtime import CliError, aws_configured, fail
from tastyguard.config.grants import token_secret_name
from tastyguard.config.loader import load_config
from tastyguard.config.problems import ConfigError
from tastyguard.store.alerts import AlertStateStore
from tastyguard.store.control import DEFAULT_KILL_SWITCH_PARAMETER, CircuitBreaker, KillSwitch
from tastyguard.store.runs import RunStore
from tastyguard.store.schema import TABLES, create_tables
from tastyguard.store.table import StateTable
from tastyguard.store.tokens import AwsTokenCache

store_app = typer.Typer(help='The DynamoDB tables.', no_args_is_help=True)
token_app = typer.Typer(help='The shared access token and its re-authorization breaker.', no_args_is_help=True)
breaker_app = typer.Typer(help='The per-account order-write circuit breaker.', no_args_is_help=True)
kill_app = typer.Typer(help='The kill switch: stop every order write (existing stops stay).', no_args_is_help=True)

PARAMETER = typer.Option(DEFAULT_KILL_SWITCH_PARAMETER, '--parameter', help='The SSM parameter of the kill switch.')
CONFIG = typer.Option(Path('tastyguard.yaml'), '--config', '-c', help='The configuration file.')


def _require_aws() -> None:
    if not aws_configured():
        raise fail(
            CliError('no AWS configuration: set AWS_PROFILE / credentials, or AWS_ENDPOINT_URL for a local endpoint')
        )


@store_app.command('init')
def store_init() -> None:
    """Create the tables where boto3 points (the stack's definitions; existing tables are left alone)."""
    _require_aws()
    created = create_tables(boto3.client('dynamodb'))
    for spec in TABLES:
        typer.echo(f'{spec.name}: {"created" if spec.name in created else "already there"}')


@token_app.command('reset')
def token_reset(
    environment: str = typer.Option(..., '--environment', '-e', help='production, sandbox or paper'),
    grant: str = typer.Option('default', '--grant', '-g', help='The grant (login) that was re-authorized.'),
    secret: str | None = typer.Option(
        None, '--token-secret', help="The access-token cache secret (default: the grant's own)."
    ),
) -> None:
    """Close a grant's re-authorization breaker (after storing its new grant in its secret)."""
    _require_aws()
    cache = AwsTokenCache(
        StateTable(),
        boto3.client('secretsmanager'),
        secret_id=secret or token_secret_name(grant),
        environment=environment,
        grant=grant,
    )
    trip = cache.breaker()
    cache.reset_breaker()
    if trip is None:
        typer.echo(
            f'the {environment} token breaker of grant {grant} was not tripped; the cached access token was cleared'
        )
    else:
        typer.echo(
            f'the {environment} token breaker of grant {grant} is closed again '
            f'(it tripped {trip.tripped_at:%Y-%m-%d %H:%M}: {trip.reason})'
        )


def _switch(engaged: bool, reason: str, parameter: str) -> None:
    _require_aws()
    state = KillSwitch(boto3.client('ssm'), parameter).set(
        engaged=engaged, reason=reason, changed_by=getpass.getuser(), now=datetime.now(UTC)
    )
    typer.echo(
        f'kill switch {"ENGAGED: no order writes" if state.engaged else "released: order writes allowed"} ({reason})'
    )


@kill_app.command('on')
def kill_on(
    reason: str = typer.Option(..., '--reason', help='Why (shown in every blocked run).'), parameter: str = PARAMETER
) -> None:
    """Block every order write now. Protective stops already at the broker stay where they are."""
    _switch(True, reason, parameter)


@kill_app.command('off')
def kill_off(reason: str = typer.Option('released', '--reason'), parameter: str = PARAMETER) -> None:
    """Allow order writes again."""
    _switch(False, reason, parameter)


@kill_app.command('status')
def kill_status(parameter: str = PARAMETER) -> None:
    """Show the kill switch."""
    _require_aws()
    state = KillSwitch(boto3.client('ssm'), parameter).read()
    by = f' by {state.changed_by}' if state.changed_by else ''
    typer.echo(f'{"ENGAGED" if state.engaged else "off"}{by}: {state.reason or "-"}')


def _accounts(config: Path) -> list[str]:
    try:
        return [account.account_number for account in load_config(config).accounts]
    except ConfigError as error:
        raise fail(error) from None


def status(config: Path = CONFIG) -> None:
    """The latest run of each job and the open alerts, per account."""
    _require_aws()
    console = Console()
    state = StateTable()
    for account in _accounts(config):
        latest: dict[str, str] = {}
        for run in RunStore(state).recent(account, limit=50):
            latest.setdefault(run.job, f'{run.started_at:%Y-%m-%d %H:%M} {run.status.value} ({run.mode})')
        table = Table(title=f'{account}', title_justify='left')
        table.add_column('job')
        table.add_column('last run')
        for job, text in sorted(latest.items()):
            table.add_row(job, text)
        console.print(table)
        for record in AlertStateStore(state).all(account).values():
            if record.open and record.kind != 'shadow':
                console.print(f'  [{record.severity}] {record.message}')


def history(
    account: str = typer.Option(..., '--account', '-a'),
    limit: int = typer.Option(20, '--limit', '-n', min=1, max=500),
) -> None:
    """The newest runs of one account with what they did."""
    _require_aws()
    console = Console()
    table = Table(title=f'runs of {account}', title_justify='left')
    for column in ('started', 'job', 'mode', 'status', 'actions', 'errors'):
        table.add_column(column)
    for run in RunStore(StateTable()).recent(account, limit=limit):
        done = [
            f'{a.get("kind")} {a.get("symbol")}: {a.get("result")}' for a in run.actions if a.get('kind') != 'report'
        ]
        table.add_row(
            f'{run.started_at:%Y-%m-%d %H:%M:%S}',
            run.job,
            run.mode,
            run.status.value,
            '\n'.join(done) or '-',
            '\n'.join(run.errors) or '-',
        )
    console.print(table)


def _breaker() -> CircuitBreaker:
    return CircuitBreaker(StateTable(), max_writes=1, window_seconds=60)  # limits do not matter to read or reset


@breaker_app.command('status')
def breaker_status(account: str = typer.Option(..., '--account', '-a')) -> None:
    """Whether the account's order-write breaker is tripped, and why."""
    _require_aws()
    trip = _breaker().tripped(account)
    typer.echo('closed' if trip is None else f'TRIPPED {trip.tripped_at:%Y-%m-%d %H:%M}: {trip.reason}')


@breaker_app.command('reset')
def breaker_reset(account: str = typer.Option(..., '--account', '-a')) -> None:
    """Allow order writes again on the account (after you found what caused the burst)."""
    _require_aws()
    _breaker().reset(account)
    typer.echo(f'the order-write breaker of {account} is closed')
