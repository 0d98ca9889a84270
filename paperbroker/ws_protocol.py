"""uvicorn's websocket protocol with a switch that makes one socket really silent.

A half-open TCP connection (a NAT that forgot the flow, a frozen server) answers nothing at all: no data, no
close frame and no pong. The ASGI application alone cannot imitate that, because uvicorn's websocket protocol
answers ping frames by itself. This protocol hands the application a ``silence()`` callable in the websocket
scope's extensions (``scope["extensions"]["paperbroker.silence"]``); once called, everything the client sends
is discarded unparsed (so pings get no pong and a close frame gets no reply) and nothing more is written. The
socket stays open until the client gives up and closes or aborts it, or the server shuts down.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

SILENCE_EXTENSION = 'paperbroker.silence'


class SilenceableWebSocketProtocol(WebSocketsSansIOProtocol):
    """The ``websockets-sansio`` protocol plus :data:`SILENCE_EXTENSION`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.silenced = False

    def silence(self) -> None:
        """From now on: read nothing, answer nothing, write nothing."""
        self.silenced = True
        self.stop_keepalive()

    def handle_connect(self, event: Request) -> None:
        """Accept as usual, then offer the silence switch to the application."""
        super().handle_connect(event)
        scope = getattr(self, 'scope', None)
        if scope is not None:
            scope['extensions'][SILENCE_EXTENSION] = self.silence

    def data_received(self, data: bytes) -> None:
        """Bytes from the client: dropped unparsed once silenced."""
        if self.silenced:
            return
        super().data_received(data)
