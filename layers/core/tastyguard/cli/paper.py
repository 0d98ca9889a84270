"""``tastyguard paper ...``: the local paper broker."""

from __future__ import annotations

import typer

app = typer.Typer(help='Run and inspect the local paper broker.', no_args_is_help=True)
