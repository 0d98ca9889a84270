"""What both websocket endpoints share: an outbound queue, a reader, and the websocket faults.

* ``drop``: the TCP connection is closed without a close frame (the client sees an abnormal closure, 1006).
* ``close``: a close frame with a code and reason (DXLink's 1012 "Reconnection is required").
* ``silent``: the socket stays open but the server sends nothing more, ignores what it receives and no longer
  answers websocket pings (a half-open connection; see :mod:`paperbroker.ws_protocol`).

Subclasses may set ``max_message_bytes``: a longer client message closes the socket with 1009 (message too big).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket, WebSocketDisconnect
from uvicorn.protocols.utils import ClientDisconnected

from paperbroker.ws_protocol import SILENCE_EXTENSION

if TYPE_CHECKING:
    from paperbroker.broker import Broker


class AbnormalClose(ClientDisconnected):
    """Raised inside the endpoint so uvicorn drops the TCP connection without a close frame."""


_DROP = object()
_CLOSE = object()


class WsConnection:
    """Base class: subclasses implement ``handle(message)`` and ``kind``."""

    kind = 'websocket'
    max_message_bytes: int | None = None

    def __init__(self, websocket: WebSocket, broker: Broker) -> None:
        self.websocket = websocket
        self.broker = broker
        self.outbox: asyncio.Queue[Any] = asyncio.Queue()
        self.silent = False
        self.closed = False
        self.close_code = 1000
        self.close_reason = ''
        self.established = False

    # --- called from other tasks (must not block) ------------------------------------------------------------
    def send(self, message: dict[str, Any]) -> None:
        """Queue a message (dropped once closed or silent)."""
        if not self.closed and not self.silent:
            self.outbox.put_nowait(message)

    def close(self, code: int, reason: str = '') -> None:
        """Close with a close frame."""
        if not self.closed:
            self.closed = True
            self.close_code, self.close_reason = code, reason
            self.outbox.put_nowait(_CLOSE)

    def drop(self) -> None:
        """Close without a close frame."""
        if not self.closed:
            self.closed = True
            self.outbox.put_nowait(_DROP)

    def close_for_reset(self) -> None:
        """Close because the broker was reset (1001)."""
        self.close(1001, 'Paper broker reset')

    def check_timeout(self) -> None:
        """Subclasses with keepalive rules override this."""

    def apply_fault(self, fault: str) -> bool:
        """Suffer a websocket fault; False if this connection cannot take it now."""
        if self.closed or not self.established:
            return False
        if fault.endswith('_drop'):
            self.drop()
        elif fault.endswith('_silent'):
            self.silent = True
            silence = self.websocket.scope.get('extensions', {}).get(SILENCE_EXTENSION)
            if callable(silence):
                silence()
        elif fault == 'dxlink_1012':
            self.close(1012, 'Reconnection is required')
        return True

    # --- the connection's own task -----------------------------------------------------------------------
    async def handle(self, message: Any) -> None:
        """Answer one decoded client message."""
        raise NotImplementedError

    async def run(self) -> None:
        """Serve until the client leaves, a fault drops us, or the broker resets."""
        reader = asyncio.create_task(self._read())
        writer = asyncio.create_task(self._write())
        done, pending = await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for task in done:
            error = task.exception()
            if isinstance(error, AbnormalClose):
                raise error

    async def _read(self) -> None:
        try:
            while True:
                text = await self.websocket.receive_text()
                if self.silent or self.closed:
                    continue
                if self.max_message_bytes is not None and len(text) > self.max_message_bytes:
                    self.close(1009, f'Message too big: {len(text)} > {self.max_message_bytes} characters')
                    continue
                try:
                    message = json.loads(text)
                except ValueError:
                    message = text
                await self.handle(message)
        except (WebSocketDisconnect, RuntimeError, KeyError):
            self.closed = True

    async def _write(self) -> None:
        while True:
            item = await self.outbox.get()
            if item is _DROP:
                raise AbnormalClose
            if item is _CLOSE:
                with contextlib.suppress(Exception):
                    await self.websocket.close(self.close_code, self.close_reason)
                return
            if not self.silent:
                await self.websocket.send_text(json.dumps(item))
