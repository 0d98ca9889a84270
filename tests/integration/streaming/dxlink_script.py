"""A scripted DXLink server on loopback: answers the handshake, records every frame, and does what a test says.

Unlike the paper broker it lets a test choose exactly what the client sees: the announced field order, the
rows (``"NaN"`` included), late or changed ``FEED_CONFIG`` messages, silence, errors, closes, a size limit
that closes with 1009, refused tokens, unanswered setups. Every frame in both directions is logged per
connection, so tests can assert on the order of the handshake.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

Frame = tuple[str, dict[str, Any]]  # ('in' | 'out', message)


@dataclass
class Conn:
    """One client connection as the server saw it."""

    ws: ServerConnection
    log: list[Frame] = field(default_factory=list)
    authorized: bool = False
    silent: bool = False

    def received(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [m for d, m in self.log if d == 'in' and (kind is None or m.get('type') == kind)]

    def sent(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [m for d, m in self.log if d == 'out' and (kind is None or m.get('type') == kind)]

    def order(self) -> list[str]:
        return [f'{"C" if d == "in" else "S"}:{m.get("type")}' for d, m in self.log if m.get('type') != 'KEEPALIVE']


@dataclass
class Script:
    """What the server does; tests change it between (or during) connections."""

    event_fields: dict[str, list[str]] = field(default_factory=dict)  # announced before the first rows of a type
    rows: dict[str, dict[str, list[Any]]] = field(default_factory=dict)  # type -> symbol -> one row (announced order)
    delay: float = 0.0  # before each handshake answer
    answer_setup: bool = True
    accept_token: Callable[[str], bool] = lambda _: True
    max_message_bytes: int | None = None


class ScriptedDXLink:
    """``async with ScriptedDXLink(script) as server: server.url ...``"""

    def __init__(self, script: Script | None = None) -> None:
        self.script = script or Script()
        self.connections: list[Conn] = []
        self._server: Server | None = None
        self._changed = asyncio.Condition()

    async def __aenter__(self) -> ScriptedDXLink:
        self._server = await serve(self._serve, '127.0.0.1', 0, ping_interval=None)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = next(iter(self._server.sockets)).getsockname()[:2]
        return f'ws://{host}:{port}/dxlink'

    # --- what tests call -----------------------------------------------------------------------------------
    async def until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait (bounded) until the recorded traffic satisfies ``predicate``."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    async def send(self, conn: Conn, message: dict[str, Any]) -> None:
        conn.log.append(('out', message))
        await conn.ws.send(json.dumps(message))
        await self._notify()

    async def data(self, conn: Conn, channel: int, kind: str, values: list[Any]) -> None:
        await self.send(conn, {'type': 'FEED_DATA', 'channel': channel, 'data': [kind, values]})

    async def config(self, conn: Conn, channel: int, fields: dict[str, list[str]]) -> None:
        await self.send(
            conn,
            {
                'type': 'FEED_CONFIG',
                'channel': channel,
                'dataFormat': 'COMPACT',
                'aggregationPeriod': 0.1,
                'eventFields': fields,
            },
        )

    async def close(self, conn: Conn, code: int, reason: str = '') -> None:
        await conn.ws.close(code, reason)

    def latest(self) -> Conn:
        return self.connections[-1]

    # --- the server side -----------------------------------------------------------------------------------
    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _serve(self, ws: ServerConnection) -> None:
        conn = Conn(ws)
        self.connections.append(conn)
        await self._notify()
        with contextlib.suppress(ConnectionClosed):
            async for text in ws:
                assert isinstance(text, str)
                limit = self.script.max_message_bytes
                if limit is not None and len(text) > limit:
                    await ws.close(1009, 'Message too big')
                    return
                message = json.loads(text)
                conn.log.append(('in', message))
                await self._notify()
                if not conn.silent:
                    await self._answer(conn, message)

    async def _answer(self, conn: Conn, message: dict[str, Any]) -> None:
        kind, channel = message.get('type'), message.get('channel', 0)
        if kind in {'SETUP', 'AUTH', 'CHANNEL_REQUEST', 'FEED_SETUP'} and self.script.delay:
            await asyncio.sleep(self.script.delay)
        if kind == 'SETUP' and self.script.answer_setup:
            await self.send(
                conn,
                {
                    'type': 'SETUP',
                    'channel': 0,
                    'keepaliveTimeout': 60,
                    'acceptKeepaliveTimeout': 60,
                    'version': 'script',
                },
            )
            await self.send(conn, {'type': 'AUTH_STATE', 'channel': 0, 'state': 'UNAUTHORIZED'})
        elif kind == 'AUTH':
            conn.authorized = self.script.accept_token(str(message.get('token')))
            state = 'AUTHORIZED' if conn.authorized else 'UNAUTHORIZED'
            await self.send(conn, {'type': 'AUTH_STATE', 'channel': 0, 'state': state})
        elif kind == 'CHANNEL_REQUEST':
            await self.send(
                conn,
                {'type': 'CHANNEL_OPENED', 'channel': channel, 'service': 'FEED', 'parameters': {'contract': 'AUTO'}},
            )
        elif kind == 'FEED_SETUP':
            await self.send(
                conn, {'type': 'FEED_CONFIG', 'channel': channel, 'dataFormat': 'COMPACT', 'aggregationPeriod': 0.1}
            )
        elif kind == 'FEED_SUBSCRIPTION':
            await self._rows(conn, channel, message.get('add') or [])

    async def _rows(self, conn: Conn, channel: int, added: list[dict[str, Any]]) -> None:
        by_type: dict[str, list[Any]] = {}
        for item in added:
            row = self.script.rows.get(item['type'], {}).get(item['symbol'])
            if row is not None:
                by_type.setdefault(item['type'], []).extend(row)
        for kind, values in by_type.items():
            if kind in self.script.event_fields:
                await self.config(conn, channel, {kind: self.script.event_fields[kind]})
            await self.data(conn, channel, kind, values)
