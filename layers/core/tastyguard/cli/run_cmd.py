"""``tastyguard run JOB``: one job now, outside Lambda."""

from __future__ import annotations

from pathlib import Path

import typer

from tastyguard.cli import options
from tastyguard.cli.choices import JobChoice, ModeChoice


def run(
    job: JobChoice = typer.Argument(
        ..., metavar='JOB', help='sync-positions, ensure-stops, reconcile-orders or digest.'
    ),
    account: str | None = options.ACCOUNT,
    mode: ModeChoice | None = typer.Option(None, '--mode', '-m', help='observe, shadow or live (default: the config).'),
    config: Path | None = options.CONFIG,
    api_url: str | None = options.API_URL,
    streamer_url: str | None = options.STREAMER_URL,
    secret: str | None = options.SECRET,
    store: str | None = options.STORE,
    as_json: bool = options.AS_JSON,
) -> None:
    """Run one job now. Exit status: 0 done, 1 a run did not complete, 3 critical alerts present."""
    from tastyguard.cli.jobs_view import Request, emit, run_job  # noqa: PLC0415 - keeps --help fast
    from tastyguard.config.models import Mode  # noqa: PLC0415
    from tastyguard.jobs.invocation import JobName  # noqa: PLC0415

    path, explicit = options.config_path(config)
    request = Request(path, explicit, account, api_url, streamer_url, secret, store, as_json)
    outcome = run_job(JobName(job.job_name), Mode(mode.value) if mode else None, request)
    raise typer.Exit(emit(outcome, as_json=as_json))
