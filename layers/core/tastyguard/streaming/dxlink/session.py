"""One DXLink websocket connection, from ``SETUP`` to its end.

A :class:`Session` runs a few tasks on one socket and returns a :class:`SessionEnd` saying why it ended:

* the **reader** decodes every inbound message (JSON numbers as ``Decimal``), feeds the silence watchdog,
  applies ``FEED_CONFIG`` announcements and hands decoded events to the feed's callback;
* the **driver** performs the handshake strictly in order, one step at a time, each within
  ``action_timeout``, then opens one FEED channel per event type in use and keeps the server's subscriptions
  equal to the wanted ones (first chunk ``reset: true``, then diffs), whenever they change;
* the **keepalive** sends ``KEEPALIVE`` every ``keepalive_interval`` (or half the server's timeout if shorter);
* the **watchdog** ends the session when nothing has arrived for ``silence_timeout``;
* the **renewal** timer ends it when the quote token is due for renewal.

Nothing here retries: the feed decides what happens next.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from tastyguard.streaming.clock import Clock
from tastyguard.streaming.dxlink import messages
from tastyguard.streaming.dxlink.config import FeedConfig
from tastyguard.streaming.dxlink.decoding import FeedDecoder
from tastyguard.streaming.dxlink.events import DEFAULT_ACCEPT_FIELDS, EventType, FeedEvent
from tastyguard.streaming.dxlink.messages import CHANNEL_TYPES, CHANNELS, AuthState, MessageType
from tastyguard.streaming.dxlink.state import DisconnectReason
from tastyguard.streaming.dxlink.subscriptions import changes, chunked
from tastyguard.streaming.dxlink.tokens import HeldToken
from tastyguard.streaming.dxlink.values import loads
from tastyguard.streaming.watchdog import SilenceWatchdog

logger = logging.getLogger('tastyguard.streaming.dxlink')

EventSink = Callable[[Sequence[FeedEvent]], Awaitable[None]]
Wanted = Mapping[EventType, Mapping[str, int | None]]
_PRIORITY = [  # when several tasks end at once, the most telling reason wins
    DisconnectReason.STOPPED,
    DisconnectReason.AUTH_REJECTED,
    DisconnectReason.MESSAGE_TOO_BIG,
    DisconnectReason.PROTOCOL_ERROR,
    DisconnectReason.HANDSHAKE_TIMEOUT,
    DisconnectReason.SILENCE,
    DisconnectReason.TOKEN_RENEWAL,
    DisconnectReason.CLOSED,
    DisconnectReason.CONNECTION_LOST,
]


class SessionEnd(Exception):
    """Why a session ended (``code``: the websocket close code, when a close frame came)."""

    def __init__(self, reason: DisconnectReason, detail: str = '', *, code: int | None = None) -> None:
        super().__init__(f'{reason.value}: {detail}' if detail else reason.value)
        self.reason = reason
        self.detail = detail
        self.code = code
        self.connected_for: float | None = None


@dataclass
class SessionCounters:
    """Counters the feed aggregates into its stats."""

    events: int = 0
    unannounced_rows: int = 0
    malformed_rows: int = 0
    keepalives: int = 0
    messages_sent: int = 0
    warned: set[str] = field(default_factory=set)


class Session:
    """One connection's tasks; :meth:`run` returns how it ended."""

    def __init__(
        self,
        ws: ClientConnection,
        *,
        token: HeldToken,
        wanted: Wanted,
        dirty: asyncio.Event,
        stop: asyncio.Event,
        config: FeedConfig,
        clock: Clock,
        sink: EventSink,
        on_connected: Callable[[], Awaitable[None]],
        chunk_bytes: int,
    ) -> None:
        self.ws = ws
        self.token = token
        self.wanted = wanted
        self.dirty = dirty
        self.stop = stop
        self.config = config
        self.clock = clock
        self.sink = sink
        self.on_connected = on_connected
        self.chunk_bytes = chunk_bytes
        self.watchdog = SilenceWatchdog(config.silence_timeout, clock)
        self.counters = SessionCounters()
        self.connected_at: float | None = None
        self._server_setup: dict[str, Any] | None = None
        self._auth_states: list[str] = []
        self._opened: set[int] = set()
        self._configured: set[int] = set()
        self._decoders: dict[int, FeedDecoder] = {}
        self._sent: dict[EventType, dict[str, int | None]] = {}
        self._changed = asyncio.Condition()
        self._authorized = asyncio.Event()

    # --- lifecycle -----------------------------------------------------------------------------------------
    async def run(self) -> SessionEnd:
        """Run until the socket, a timer, a protocol failure or ``stop`` ends the session."""
        tasks = [
            asyncio.create_task(self._read(), name='dxlink-reader'),
            asyncio.create_task(self._drive(), name='dxlink-driver'),
            asyncio.create_task(self._keepalive(), name='dxlink-keepalive'),
            asyncio.create_task(self._watch(), name='dxlink-watchdog'),
            asyncio.create_task(self._renewal(), name='dxlink-renewal'),
            asyncio.create_task(self._stopped(), name='dxlink-stop'),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
        ends = [r for r in results if isinstance(r, SessionEnd)]
        for task, result in zip(tasks, results, strict=True):
            if isinstance(result, ConnectionClosed):
                ends.append(_closed(result))  # a send on a socket that just closed: the close is the reason
            elif task in done and isinstance(result, Exception) and not isinstance(result, SessionEnd):
                logger.error('dxlink session task %s failed', task.get_name(), exc_info=result)
                ends.append(SessionEnd(DisconnectReason.PROTOCOL_ERROR, f'internal error: {type(result).__name__}'))
        end = min(ends, key=lambda e: _PRIORITY.index(e.reason)) if ends else SessionEnd(DisconnectReason.CLOSED)
        if self.connected_at is not None:
            end.connected_for = self.clock.monotonic() - self.connected_at
        return end

    async def _stopped(self) -> None:
        await self.stop.wait()
        raise SessionEnd(DisconnectReason.STOPPED)

    async def _watch(self) -> None:
        quiet = await self.watchdog.expired()
        raise SessionEnd(DisconnectReason.SILENCE, f'no message for {quiet:.0f} s')

    async def _renewal(self) -> None:
        await self.clock.sleep(self.token.renew_at - self.clock.monotonic())
        raise SessionEnd(DisconnectReason.TOKEN_RENEWAL, 'the quote token is due for renewal')

    async def _keepalive(self) -> None:
        await self._authorized.wait()
        while True:
            await self.clock.sleep(self._keepalive_interval())
            await self.send(messages.keepalive())
            self.counters.keepalives += 1

    def _keepalive_interval(self) -> float:
        server = (self._server_setup or {}).get('keepaliveTimeout')
        if isinstance(server, int | float | Decimal) and not isinstance(server, bool) and server > 0:
            return min(self.config.keepalive_interval, float(server) / 2)
        return self.config.keepalive_interval

    async def send(self, message: Mapping[str, Any]) -> None:
        """Send one message (compact JSON, the form subscription chunks are measured in)."""
        await self.ws.send(json.dumps(message, separators=(',', ':')))
        self.counters.messages_sent += 1

    # --- the driver: handshake, channels, subscriptions ----------------------------------------------------
    async def _drive(self) -> None:
        await self._handshake()
        await self._sync()
        self.connected_at = self.clock.monotonic()
        await self.on_connected()
        while True:
            await self.dirty.wait()
            self.dirty.clear()
            await self._sync()

    async def _handshake(self) -> None:
        await self.send(messages.setup(self.config.silence_timeout))
        await self._until(lambda: self._server_setup is not None and bool(self._auth_states), 'SETUP and AUTH_STATE')
        if self._auth_states[-1] != AuthState.AUTHORIZED:
            seen = len(self._auth_states)
            await self.send(messages.auth(self.token.secret()))
            await self._until(lambda: len(self._auth_states) > seen, 'AUTH_STATE after AUTH')
            if self._auth_states[-1] != AuthState.AUTHORIZED:
                raise SessionEnd(DisconnectReason.AUTH_REJECTED, 'the server refused the quote token')
        self._authorized.set()

    async def _sync(self) -> None:
        """Make the server's subscriptions equal to the wanted ones, channel by channel."""
        for kind in EventType:
            want = dict(self.wanted.get(kind, {}))
            have = self._sent.get(kind)
            if have is None and not want:
                continue
            reset = have is None
            if have is None:
                await self._open(kind)
                have = {}
            delta = changes(kind, have, want)
            if not delta and not reset:
                continue
            for message in chunked(
                CHANNELS[kind],
                delta,
                reset=reset,
                max_bytes=self.chunk_bytes,
                max_items=self.config.max_symbols_per_message,
            ):
                await self.send(message)
            self._sent[kind] = want

    async def _open(self, kind: EventType) -> None:
        channel = CHANNELS[kind]
        self._opened.discard(channel)
        self._configured.discard(channel)
        await self.send(messages.channel_request(channel))
        await self._until(lambda: channel in self._opened, f'CHANNEL_OPENED for {kind}')
        accept = self.config.accept_event_fields
        fields = (accept if accept is not None else DEFAULT_ACCEPT_FIELDS).get(kind)
        await self.send(
            messages.feed_setup(channel, self.config.aggregation_period, {kind: fields} if fields else None)
        )
        await self._until(lambda: channel in self._configured, f'FEED_CONFIG for {kind}')

    async def _until(self, ready: Callable[[], bool], what: str) -> None:
        timeout = self.config.action_timeout
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(ready), timeout)
            except TimeoutError:
                raise SessionEnd(DisconnectReason.HANDSHAKE_TIMEOUT, f'no {what} within {timeout:g} s') from None

    # --- the reader ----------------------------------------------------------------------------------------
    async def _read(self) -> None:
        try:
            async for text in self.ws:
                self.watchdog.touch()
                try:
                    message = loads(text if isinstance(text, str) else text.decode())
                except ValueError:
                    raise SessionEnd(
                        DisconnectReason.PROTOCOL_ERROR, 'the server sent a message that is not JSON'
                    ) from None
                if not isinstance(message, dict) or not isinstance(message.get('type'), str):
                    raise SessionEnd(DisconnectReason.PROTOCOL_ERROR, 'a message without a type')
                await self._handle(message)
        except ConnectionClosed as closed:
            raise _closed(closed) from None
        raise SessionEnd(DisconnectReason.CLOSED, 'closed', code=self.ws.close_code)

    async def _handle(self, message: dict[str, Any]) -> None:
        kind = message['type']
        channel = message.get('channel', 0)
        if kind == MessageType.FEED_DATA:
            await self._data(channel, message.get('data'))
            return
        if kind == MessageType.KEEPALIVE:
            return
        if kind == MessageType.SETUP:
            self._server_setup = message
        elif kind == MessageType.AUTH_STATE:
            self._auth_states.append(str(message.get('state')))
            if self._authorized.is_set() and message.get('state') != AuthState.AUTHORIZED:
                raise SessionEnd(DisconnectReason.AUTH_REJECTED, 'the server no longer accepts the quote token')
        elif kind == MessageType.CHANNEL_OPENED:
            self._opened.add(channel)
        elif kind == MessageType.FEED_CONFIG:
            fields = message.get('eventFields')
            self._decoder(channel).configure(fields if isinstance(fields, dict) else {})
            self._configured.add(channel)
        elif kind == MessageType.CHANNEL_CLOSED:
            self._channel_closed(channel)
        elif kind == MessageType.ERROR:
            _raise_error(message)
        async with self._changed:
            self._changed.notify_all()

    def _channel_closed(self, channel: Any) -> None:
        self._opened.discard(channel)
        self._configured.discard(channel)
        kind = CHANNEL_TYPES.get(channel) if isinstance(channel, int) else None
        if kind is not None and self._sent.pop(kind, None) is not None:
            logger.warning('dxlink: the server closed the %s channel; reopening it', kind, extra={'socket': 'dxlink'})
            self.dirty.set()

    def _decoder(self, channel: Any) -> FeedDecoder:
        key = channel if isinstance(channel, int) else -1
        decoder = self._decoders.get(key)
        if decoder is None:
            decoder = self._decoders[key] = FeedDecoder()
        return decoder

    async def _data(self, channel: Any, data: Any) -> None:
        decoded = self._decoder(channel).decode(data)
        counters = self.counters
        counters.malformed_rows += decoded.malformed
        for name in decoded.unannounced:
            counters.unannounced_rows += 1
            if name not in counters.warned:
                counters.warned.add(name)
                logger.warning(
                    'dxlink: %s rows arrived before the server announced their fields; dropped',
                    name,
                    extra={'socket': 'dxlink', 'event_type': name},
                )
        if decoded.events:
            counters.events += len(decoded.events)
            await self.sink(decoded.events)


def _raise_error(message: Mapping[str, Any]) -> None:
    error = str(message.get('error') or 'UNKNOWN')
    text = str(message.get('message') or '')[:200]
    if error == 'UNAUTHORIZED':
        raise SessionEnd(DisconnectReason.AUTH_REJECTED, f'server error UNAUTHORIZED: {text}')
    raise SessionEnd(DisconnectReason.PROTOCOL_ERROR, f'server error {error}: {text}')


def _closed(closed: ConnectionClosed) -> SessionEnd:
    """Map a websocket close to a reason (who closed, with which code)."""
    received, sent = closed.rcvd, closed.sent
    if received is None:
        if sent is not None and sent.code == 1009:
            return SessionEnd(DisconnectReason.PROTOCOL_ERROR, 'an inbound message exceeded max_inbound_bytes')
        return SessionEnd(DisconnectReason.CONNECTION_LOST, 'the connection dropped without a close frame')
    detail = f'{received.code} {received.reason}'.strip()
    if received.code == 1009:
        return SessionEnd(DisconnectReason.MESSAGE_TOO_BIG, detail, code=received.code)
    if received.code == 1008:
        return SessionEnd(DisconnectReason.AUTH_REJECTED, detail, code=received.code)
    return SessionEnd(DisconnectReason.CLOSED, detail, code=received.code)
