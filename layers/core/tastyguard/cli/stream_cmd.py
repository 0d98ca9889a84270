"""``tastyguard stream``: the streamer, locally (account streamer + DXLink, the fast path in-process)."""

from __future__ import annotations

from pathlib import Path

import typer

from tastyguard.cli import options
from tastyguard.cli.choices import ModeChoice


def stream(
    account: list[str] | None = typer.Option(
        None, '--account', '-a', help='Stream this account (repeatable; default: every enabled account).'
    ),
    mode: ModeChoice | None = typer.Option(
        None, '--mode', '-m', help='observe, shadow or live for the fast path (default: the config).'
    ),
    config: Path | None = options.CONFIG,
    api_url: str | None = options.API_URL,
    streamer_url: str | None = options.STREAMER_URL,
    secret: str | None = options.SECRET,
    store: str | None = options.STORE,
) -> None:
    """Stream until Ctrl-C: every fill and position change is protected at once, live quotes are kept.

    When both sockets are up it prints one JSON line on stdout, {"status": "streaming", "accounts": [...],
    "symbols": N}; everything else goes to stderr. Exit status 0 on SIGINT or SIGTERM.
    """
    from tastyguard.cli.stream_view import StreamRequest, run_stream  # noqa: PLC0415 - keeps --help fast
    from tastyguard.config.models import Mode  # noqa: PLC0415

    path, explicit = options.config_path(config)
    request = StreamRequest(path, explicit, list(account or ()), api_url, streamer_url, secret, store)
    raise typer.Exit(run_stream(request, Mode(mode.value) if mode else None))
