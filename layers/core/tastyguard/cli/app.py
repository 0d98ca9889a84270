"""Entry point of the ``tastyguard`` console script (``./tastyguard`` in a clone).

One typer app; each command is one small module whose top level imports only typer (its work is imported when
it runs, so ``tastyguard --help`` stays fast). Adding a command: a module here plus one line below.
"""

from __future__ import annotations

import sys

import typer

from tastyguard import __version__
from tastyguard.cli import (
    breaker_cmd,
    config_cmd,
    demo_cmd,
    history_cmd,
    kill_switch_cmd,
    paper_cmd,
    plan_cmd,
    run_cmd,
    status_cmd,
    store_cmd,
    stream_cmd,
    token_cmd,
)
from tastyguard.cli.errors import guarded

app = typer.Typer(
    name='tastyguard',
    help='Keeps every tastytrade position protected by a correct broker-side stop.',
    no_args_is_help=True,
    epilog='tastyguard --version prints the version. Exit status: 0 done,'
    ' 1 could not do it, 2 a wrong option or name, 3 critical alerts present (plan, run, '
    'status). In a clone, run it as ./tastyguard.',
    rich_markup_mode=None,  # plain help: `tastyguard --help` must not pay for importing rich
    pretty_exceptions_show_locals=False,  # locals may hold secrets
)
app.command('demo')(guarded(demo_cmd.demo))
app.command('plan')(guarded(plan_cmd.plan))
app.command('run')(guarded(run_cmd.run))
app.command('status')(guarded(status_cmd.status))
app.command('history')(guarded(history_cmd.history))
app.command('stream')(guarded(stream_cmd.stream))
app.add_typer(config_cmd.app, name='config')
app.add_typer(paper_cmd.app, name='paper')
app.add_typer(store_cmd.app, name='store')
app.add_typer(token_cmd.app, name='token')
app.add_typer(kill_switch_cmd.app, name='kill-switch')
app.add_typer(breaker_cmd.app, name='breaker')


@app.callback()
def _root() -> None:
    """Keeps every tastytrade position protected by a correct broker-side stop."""


def main() -> None:
    """Run the CLI. ``--version`` is answered here: a root option would cost every command a parameter
    coercion (typer builds it with pydantic) before the command's own ``--help`` could answer."""
    if sys.argv[1:] in (['--version'], ['-V']):
        sys.stdout.write(f'tastyguard {__version__}\n')
        return
    app()
