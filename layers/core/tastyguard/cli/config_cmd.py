"""``tastyguard config ...``: check and explain the configuration file."""

from __future__ import annotations

import typer

app = typer.Typer(help='Check the tastyguard.yaml configuration.', no_args_is_help=True)
