"""Entry point of the ``tastyguard`` console script: one typer app, one sub-app per area."""

from __future__ import annotations

import typer

from tastyguard import __version__
from tastyguard.cli import config_cmd, demo, ops_cmd, paper, run_cmd

app = typer.Typer(
    name='tastyguard',
    help='Keeps every tastytrade position protected by a correct broker-side stop.',
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold secrets
)
app.command('demo')(demo.demo)
app.command('plan')(run_cmd.plan)
app.command('run')(run_cmd.run)
app.command('status')(ops_cmd.status)
app.command('history')(ops_cmd.history)
app.add_typer(config_cmd.app, name='config')
app.add_typer(paper.app, name='paper')
app.add_typer(ops_cmd.store_app, name='store')
app.add_typer(ops_cmd.token_app, name='token')
app.add_typer(ops_cmd.kill_app, name='kill-switch')
app.add_typer(ops_cmd.breaker_app, name='breaker')


def _version(value: bool) -> None:
    if value:
        typer.echo(f'tastyguard {__version__}')
        raise typer.Exit


@app.callback()
def _root(
    version: bool = typer.Option(False, '--version', callback=_version, is_eager=True, help='Show the version.'),
) -> None:
    """Keeps every tastytrade position protected by a correct broker-side stop."""


def main() -> None:
    """Run the CLI."""
    app()
