"""``tastyguard plan``: what ensure-stops would do, with nothing sent and nothing written."""

from __future__ import annotations

from pathlib import Path

import typer

from tastyguard.cli import options


def plan(
    account: str | None = options.ACCOUNT,
    config: Path | None = options.CONFIG,
    api_url: str | None = options.API_URL,
    streamer_url: str | None = options.STREAMER_URL,
    secret: str | None = options.SECRET,
    store: str | None = options.STORE,
    as_json: bool = options.AS_JSON,
) -> None:
    """Show what ensure-stops would do (sends and writes nothing).

    No order, no dry-run, nothing written to any store.
    Exit status: 0 nothing critical, 1 the plan could not be made, 3 critical alerts present.
    """
    from tastyguard.cli.jobs_view import Request, emit  # noqa: PLC0415 - keeps --help fast
    from tastyguard.cli.jobs_view import plan as make_plan  # noqa: PLC0415

    path, explicit = options.config_path(config)
    request = Request(path, explicit, account, api_url, streamer_url, secret, store, as_json)
    raise typer.Exit(emit(make_plan(request), as_json=as_json))
