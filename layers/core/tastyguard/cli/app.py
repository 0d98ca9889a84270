"""Entry point of the ``tastyguard`` console script: one typer app, one sub-app per area."""

from __future__ import annotations

import typer

from tastyguard import __version__
from tastyguard.cli import config_cmd, paper

app = typer.Typer(
    name='tastyguard',
    help='Keeps every tastytrade position protected by a correct broker-side stop.',
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold secrets
)
app.add_typer(paper.app, name='paper')
app.add_typer(config_cmd.app, name='config')


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
