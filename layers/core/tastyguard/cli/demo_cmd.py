"""``tastyguard demo``: the paper broker and an embedded AWS; no tastytrade or AWS account needed."""

from __future__ import annotations

import typer


def demo(
    as_json: bool = typer.Option(
        False, '--json', help='Print one JSON object with the final state instead of the story.'
    ),
) -> None:
    """Run the demo (no account needed).

    A paper broker and an embedded AWS in this process: plan, shadow, live, the streamer's fast path, a fill,
    the digest. Exit status 0 when the story ran and every protectable position ended protected.
    """
    from tastyguard.cli.demo import demo as run_demo  # noqa: PLC0415 - keeps --help fast

    raise typer.Exit(run_demo(as_json=as_json))
