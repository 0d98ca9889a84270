"""``tastyguard config check|show``: validate and explain the configuration file."""

from __future__ import annotations

from pathlib import Path

import typer

from tastyguard.cli import options
from tastyguard.cli.errors import guarded

app = options.command_group('Check and explain the tastyguard.yaml configuration.')

_PATH = typer.Argument(Path('tastyguard.yaml'), help='The configuration file.', show_default=True)


@app.command('check')
@guarded
def check(
    path: Path = _PATH,
    deploy: bool = typer.Option(
        False, '--deploy', help='Also refuse what must not be deployed (the example, a paper broker, no recipient).'
    ),
    quiet: bool = typer.Option(False, '--quiet', '-q', help='Print only problems (and one line when valid).'),
    as_json: bool = options.AS_JSON,
) -> None:
    """Validate the configuration and summarise it; every problem is listed with its field and allowed values.

    Exit status: 0 valid, 1 not valid (or, with --deploy, not deployable).
    """
    from tastyguard.cli.config_view import check as run_check  # noqa: PLC0415 - keeps --help fast

    raise typer.Exit(run_check(path, deploy=deploy, quiet=quiet, as_json=as_json))


@app.command('show')
@guarded
def show(
    path: Path = _PATH,
    account: str | None = typer.Option(None, '--account', '-a', help='Only this account.'),
    sources: bool = typer.Option(False, '--sources', help='Show which layer set each value.'),
    as_json: bool = typer.Option(False, '--json', help='Print the validated config as JSON (what Lambdas read).'),
) -> None:
    """Print the effective stop policy per account and instrument type."""
    from tastyguard.cli.config_view import show as run_show  # noqa: PLC0415

    run_show(path, account=account, sources=sources, as_json=as_json)
