"""``tastyguard breaker status|reset``: the per-account order-write circuit breaker."""

from __future__ import annotations

from pathlib import Path

import typer

from tastyguard.cli import options

app = options.command_group('The per-account order-write circuit breaker.')


def _breaker(account: str | None, config: Path | None, store: str | None, *, reset: bool, as_json: bool) -> None:
    from tastyguard.cli.errors import guarded  # noqa: PLC0415 - keeps --help fast
    from tastyguard.cli.ops_view import breaker  # noqa: PLC0415

    path, explicit = options.config_path(config)
    guarded(breaker)(account, path, explicit=explicit, store=store, reset=reset, as_json=as_json)


@app.command('status')
def status(
    account: str | None = typer.Option(None, '--account', '-a', help='One account (default: every configured one).'),
    config: Path | None = options.CONFIG,
    store: str | None = options.STORE,
    as_json: bool = options.AS_JSON,
) -> None:
    """Whether each account's order-write breaker is tripped, and why."""
    _breaker(account, config, store, reset=False, as_json=as_json)


@app.command('reset')
def reset(
    account: str = typer.Option(..., '--account', '-a', help='The account (as in tastyguard.yaml).'),
    config: Path | None = options.CONFIG,
    store: str | None = options.STORE,
) -> None:
    """Allow order writes again on the account (after you found what caused the burst)."""
    _breaker(account, config, store, reset=True, as_json=False)
