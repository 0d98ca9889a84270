"""``tastyguard kill-switch on|off|status``: stop every order write at once (existing stops stay)."""

from __future__ import annotations

import typer

from tastyguard.cli import options

app = options.command_group('The kill switch: stop every order write (existing stops stay).')


def _switch(engaged: bool | None, reason: str, store: str | None, as_json: bool = False) -> None:
    from tastyguard.cli.errors import guarded  # noqa: PLC0415 - keeps --help fast
    from tastyguard.cli.ops_view import kill_switch  # noqa: PLC0415

    guarded(kill_switch)(engaged, reason, store, as_json=as_json)


@app.command('on')
def on(
    reason: str = typer.Option(..., '--reason', help='Why (shown in every blocked run).'),
    store: str | None = options.STORE,
) -> None:
    """Block every order write now. Protective stops already at the broker stay where they are."""
    _switch(True, reason, store)


@app.command('off')
def off(reason: str = typer.Option('released', '--reason'), store: str | None = options.STORE) -> None:
    """Allow order writes again."""
    _switch(False, reason, store)


@app.command('status')
def status(store: str | None = options.STORE, as_json: bool = options.AS_JSON) -> None:
    """Show the kill switch."""
    _switch(None, '', store, as_json)
