"""``tastyguard status``: positions, stops, coverage, the safety switches and the last runs, per account."""

from __future__ import annotations

from pathlib import Path

import typer

from tastyguard.cli import options


def status(
    account: str | None = options.ACCOUNT,
    config: Path | None = options.CONFIG,
    api_url: str | None = options.API_URL,
    streamer_url: str | None = options.STREAMER_URL,
    secret: str | None = options.SECRET,
    store: str | None = options.STORE,
    timezone: str | None = options.TIMEZONE,
    watch: float | None = typer.Option(
        None, '--watch', '-w', min=5, help='Refresh every SECONDS (at least 5) until Ctrl-C.', metavar='SECONDS'
    ),
    as_json: bool = options.AS_JSON,
) -> None:
    """Positions, stops and coverage; safety switches; last runs.

    Every position of every account with quantity, mark, stops, coverage and status; the kill switch, the
    breaker, the last run of each job and the open alerts. Reads only. Exit status: 0, 1 on an error, 3 critical
    alerts present.
    """
    from tastyguard.cli.errors import CliError  # noqa: PLC0415 - keeps --help fast
    from tastyguard.cli.jobs_view import Request  # noqa: PLC0415
    from tastyguard.cli.status_view import show  # noqa: PLC0415
    from tastyguard.cli.timezones import Zone  # noqa: PLC0415
    from tastyguard.store.table import utc_now  # noqa: PLC0415

    if watch is not None and as_json:
        raise CliError('--watch is for people; for scripts run `status --json` on your own schedule', exit_code=2)
    path, explicit = options.config_path(config)
    request = Request(path, explicit, account, api_url, streamer_url, secret, store, as_json)
    raise typer.Exit(show(request, Zone.named(timezone), watch=watch, now=utc_now))
