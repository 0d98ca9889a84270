"""``tastyguard history``: what each run of one account did, with order ids and prices."""

from __future__ import annotations

from pathlib import Path

import typer

from tastyguard.cli import options


def history(
    account: str = typer.Option(..., '--account', '-a', help='The account (as in tastyguard.yaml).'),
    limit: int = typer.Option(20, '--limit', '-n', min=1, max=500, help='How many runs, newest first.'),
    config: Path | None = options.CONFIG,
    store: str | None = options.STORE,
    timezone: str | None = options.TIMEZONE,
    as_json: bool = options.AS_JSON,
) -> None:
    """What the newest runs of one account did.

    Job, mode, status, and each order write with its order id and prices.
    """
    from tastyguard.cli.history_view import show  # noqa: PLC0415 - keeps --help fast
    from tastyguard.cli.timezones import Zone  # noqa: PLC0415

    path, explicit = options.config_path(config)
    show(account, limit, path, explicit=explicit, store=store, zone=Zone.named(timezone), as_json=as_json)
