"""``tastyguard run <job>`` and ``tastyguard plan``: the jobs outside Lambda."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console

from tastyguard.broker.errors import BrokerError
from tastyguard.cli.render import ConsoleNotifier, print_result
from tastyguard.cli.runtime import CliError, aws_session, build_runtime, fail
from tastyguard.config.models import Mode
from tastyguard.jobs.invocation import JobInvocation, JobName
from tastyguard.jobs.registry import run as run_registered
from tastyguard.jobs.results import AccountRunResult
from tastyguard.notify.ports import MemoryNotifier, Notifier

CONFIG = typer.Option(Path('tastyguard.yaml'), '--config', '-c', help='The configuration file.')
ACCOUNT = typer.Option(None, '--account', '-a', help='Only this account (default: every enabled account).')
API_URL = typer.Option(None, '--api-url', help="A paper broker's REST URL (e.g. from `tastyguard paper serve`).")
STREAMER_URL = typer.Option(
    None, '--streamer-url', help='Its account-streamer URL (derived from --api-url if omitted).'
)
SECRET = typer.Option(None, '--secret', help='Secrets Manager secret with the broker credentials (else the env vars).')
AS_JSON = typer.Option(False, '--json', help='Print one JSON object instead of tables.')

JOB_NAMES = {name.value.replace('_', '-'): name for name in JobName}


def execute(
    job: JobName,
    *,
    config: Path,
    account: str | None,
    mode: Mode | None,
    api_url: str | None,
    streamer_url: str | None,
    secret: str | None,
    as_json: bool,
) -> list[AccountRunResult]:
    """Run ``job`` once (always, whatever the market hours: a person asked for it)."""
    console = Console(stderr=as_json)
    notifier: Notifier = MemoryNotifier() if as_json else ConsoleNotifier(console)
    with aws_session(say=console.print) as embedded:
        runtime = build_runtime(
            config_path=config, api_url=api_url, streamer_url=streamer_url, secret_id=secret, mode=mode,
            notifier=notifier, embedded_aws=embedded,
        )  # fmt: skip
        if mode is Mode.LIVE and runtime.ctx.environment == 'production' and sys.stdin.isatty():
            typer.confirm('Submit real orders to your production tastytrade account?', abort=True)
        invocation = JobInvocation(job=job, account=account, scheduled_time=None, force=True)
        return run_registered(runtime.ctx, invocation)


def _emit(results: list[AccountRunResult], as_json: bool, *, reports: bool = False) -> None:
    if as_json:
        payload = results[0].to_cli_json() if len(results) == 1 else {'accounts': [r.to_cli_json() for r in results]}
        typer.echo(json.dumps(payload, indent=2))
        return
    console = Console()
    for result in results:
        print_result(console, result, reports=reports)


def run(
    job: str = typer.Argument(..., metavar='JOB', help=f'One of: {", ".join(JOB_NAMES)}.'),
    account: str | None = ACCOUNT,
    mode: Mode | None = typer.Option(None, '--mode', '-m', help='observe, shadow or live (default: the config).'),
    config: Path = CONFIG,
    api_url: str | None = API_URL,
    streamer_url: str | None = STREAMER_URL,
    secret: str | None = SECRET,
    as_json: bool = AS_JSON,
) -> None:
    """Run one job now (sync-positions, ensure-stops, reconcile-orders, digest)."""
    name = JOB_NAMES.get(job.replace('_', '-'))
    if name is None:
        raise typer.BadParameter(f'use one of {", ".join(JOB_NAMES)}', param_hint='JOB')
    try:
        results = execute(
            name, config=config, account=account, mode=mode, api_url=api_url, streamer_url=streamer_url,
            secret=secret, as_json=as_json,
        )  # fmt: skip
    except (CliError, BrokerError, KeyError) as error:
        raise fail(error) from None
    _emit(results, as_json)
    if any(result.status != 'ok' for result in results):
        raise typer.Exit(1)


def plan(
    account: str | None = ACCOUNT,
    config: Path = CONFIG,
    api_url: str | None = API_URL,
    streamer_url: str | None = STREAMER_URL,
    secret: str | None = SECRET,
    as_json: bool = AS_JSON,
) -> None:
    """Show what ensure-stops would do (observe mode: nothing is sent, not even a dry-run)."""
    try:
        results = execute(
            JobName.ENSURE_STOPS, config=config, account=account, mode=Mode.OBSERVE, api_url=api_url,
            streamer_url=streamer_url, secret=secret, as_json=as_json,
        )  # fmt: skip
    except (CliError, BrokerError, KeyError) as error:
        raise fail(error) from None
    _emit(results, as_json, reports=True)
    if any(result.status != 'ok' for result in results):
        raise typer.Exit(1)
