"""The operations commands' work: tables, the token breaker, the kill switch and the order-write breaker.

Each acts on the store named explicitly (``--store`` or ``$TASTYGUARD_STORE``): an embedded store would only
change a copy that disappears with the command.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from tastyguard.cli import exit_codes
from tastyguard.cli.errors import CliError, echo_json
from tastyguard.cli.runtime import load_config_file
from tastyguard.cli.stores import StoreKind, StoreSession, choose_store, open_store
from tastyguard.store.control import CircuitBreaker, KillSwitch, KillSwitchState
from tastyguard.store.schema import TABLES, create_tables


def _persistent(store: str | None, what: str) -> Any:
    choice = choose_store(store, default=None, why_explicit=f' to {what}')
    if choice.kind is StoreKind.EMBEDDED:
        raise CliError(
            f'the embedded store lives only as long as one command, so there is nothing to {what} there: use '
            '--store tastyguard (the deployed stack) or --store http://127.0.0.1:5000 (a local endpoint)',
            exit_code=exit_codes.USAGE,
        )
    return choice


def _say_store(session: StoreSession, as_json: bool = False) -> None:
    """Which store (on stderr: stdout is the answer, for people and scripts alike)."""
    del as_json
    typer.secho(session.describe(), dim=True, err=True)


def store_init(store: str | None) -> None:
    """Create the tables at a local endpoint (the deployed stack creates its own)."""
    choice = _persistent(store, 'create tables in')
    if choice.kind is StoreKind.STACK:
        raise CliError(
            'the deployed stack creates and owns its tables (with encryption, backups and deletion protection); '
            'store init is for a local endpoint: --store http://127.0.0.1:5000',
            exit_code=exit_codes.USAGE,
        )
    with open_store(choice, require_tables=False) as session:
        _say_store(session, False)
        created = create_tables(session.client('dynamodb'))
        for spec in TABLES:
            typer.echo(f'{spec.name}: {"created" if spec.name in created else "already there"}')


def token_reset(environment: str, store: str | None, grant: str = 'default') -> None:
    """Close the re-authorization breaker of ``grant`` in ``environment`` and drop its cached access token."""
    choice = _persistent(store, 'reset the token breaker of')
    with open_store(choice) as session:
        _say_store(session, False)
        cache = session.token_cache(environment, grant)
        trip = cache.breaker()
        cache.reset_breaker()
        which = f'the {environment} token breaker' + ('' if grant == 'default' else f' of grant {grant}')
        if trip is None:
            typer.echo(f'{which} was not tripped; the cached access token was cleared')
        else:
            typer.echo(
                f'{which} is closed again (it tripped {trip.tripped_at:%Y-%m-%d %H:%M} UTC: '
                f'{trip.reason}); the next run logs in with the stored grant'
            )


def _kill_json(state: KillSwitchState, session: StoreSession) -> dict[str, Any]:
    return {
        'engaged': state.engaged,
        'reason': state.reason or None,
        'changed_by': state.changed_by or None,
        'changed_at': None if state.changed_at is None else state.changed_at.isoformat(),
        'parameter': session.kill_switch_parameter,
        'store': session.as_json(),
    }


def kill_switch(engaged: bool | None, reason: str, store: str | None, *, as_json: bool = False) -> None:
    """Engage or release the kill switch (``engaged`` None: only show it)."""
    choice = _persistent(store, 'flip the kill switch of' if engaged is not None else 'read the kill switch of')
    with open_store(choice) as session:
        _say_store(session, as_json)
        switch = KillSwitch(session.client('ssm'), session.kill_switch_parameter)
        if engaged is None:
            state = switch.read()
        else:
            state = switch.set(engaged=engaged, reason=reason, changed_by=getpass.getuser(), now=datetime.now(UTC))
        if as_json:
            echo_json(_kill_json(state, session))
            return
        if engaged is not None:
            word = 'ENGAGED: no order writes' if state.engaged else 'released: order writes allowed'
            typer.echo(f'kill switch {word} ({reason})')
            return
        by = f' by {state.changed_by}' if state.changed_by else ''
        when = f' at {state.changed_at:%Y-%m-%d %H:%M} UTC' if state.changed_at else ''
        typer.echo(f'{"ENGAGED" if state.engaged else "off"}{by}{when}: {state.reason or "-"}')


def _accounts(config_path: Path, explicit: bool, account: str | None) -> list[str]:
    from tastyguard.cli.runtime import select_account  # noqa: PLC0415

    config = load_config_file(config_path, explicit=explicit)
    if config is None:
        raise CliError(
            f'{config_path} does not exist; the breaker commands check account numbers against it (pass -c PATH)',
        )
    chosen = select_account(config, account)
    return [chosen] if chosen else [entry.account_number for entry in config.accounts]


def breaker(
    account: str | None, config_path: Path, *, explicit: bool, store: str | None, reset: bool, as_json: bool = False
) -> None:
    """Show (or reset) the order-write breaker of the configured accounts."""
    if reset and account is None:
        raise CliError('say which account to reset: --account NUMBER', exit_code=exit_codes.USAGE)
    numbers = _accounts(config_path, explicit, account)
    choice = _persistent(store, 'reset the breaker of' if reset else 'read the breaker of')
    with open_store(choice) as session:
        _say_store(session, as_json)
        breaker = CircuitBreaker(session.state, max_writes=1, window_seconds=60)  # limits matter only for writes
        rows: list[dict[str, Any]] = []
        for number in numbers:
            trip = breaker.tripped(number)
            if reset:
                breaker.reset(number)
                typer.echo(
                    f'the order-write breaker of {number} is closed'
                    + ('' if trip is not None else ' (it was not tripped)')
                )
                continue
            rows.append(
                {
                    'account': number,
                    'tripped': trip is not None,
                    'tripped_at': None if trip is None else trip.tripped_at.isoformat(),
                    'reason': None if trip is None else trip.reason,
                }
            )
        if reset:
            return
        if as_json:
            echo_json({'store': session.as_json(), 'accounts': rows})
            return
        for row in rows:
            state = 'closed' if not row['tripped'] else f'TRIPPED {row["tripped_at"][:16]} UTC: {row["reason"]}'
            typer.echo(f'{row["account"]}: {state}' if len(rows) > 1 else state)
