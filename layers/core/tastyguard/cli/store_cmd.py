"""``tastyguard store init``: the tables at a local endpoint."""

from __future__ import annotations

from tastyguard.cli import options

app = options.command_group('The tables of a local store.')


@app.command('init')
def init(store: str | None = options.STORE) -> None:
    """Create the tables at a local AWS endpoint (e.g. --store http://127.0.0.1:5000); existing ones stay."""
    from tastyguard.cli.errors import guarded  # noqa: PLC0415 - keeps --help fast
    from tastyguard.cli.ops_view import store_init  # noqa: PLC0415

    guarded(store_init)(store)
