"""``DXLinkFeed``: market data from DXLink, reconnecting forever, until stopped.

    from tastyguard.streaming.dxlink import DXLinkFeed, EventType, from_broker

    feed = DXLinkFeed(from_broker(client), on_event=handle_events, on_state=handle_state)
    await feed.set_symbols(['AAPL', '/ESZ26:XCME'])                 # Quote by default
    await feed.set_symbols(['AAPL'], [EventType.TRADE, EventType.SUMMARY])
    await feed.set_candles([CandleSubscription('AAPL', CandlePeriod.parse('1d'), opened_at)])
    task = asyncio.create_task(feed.run())
    ...
    await feed.stop()                                               # closes the socket; run() returns

* ``on_event(events)`` gets every decoded batch (one ``FEED_DATA``) as a sequence of typed events; it may be a
  coroutine function. It runs on the reader, so keep it quick (conflate quotes, queue work elsewhere); an
  exception it raises is logged and the stream goes on.
* ``on_state(state)`` gets every :class:`~tastyguard.streaming.dxlink.state.FeedState`: ``CONNECTED`` with
  ``reconnected=True`` is the moment to run a catch-up reconcile.
* ``set_symbols`` / ``set_candles`` replace the wanted set of the given event types; while connected the feed
  sends only the difference, while disconnected the change waits for the next connection, and after every
  reconnect everything wanted is subscribed again (first chunk ``reset: true``).
* Every close (1000, 1001, 1012 "Reconnection is required", 1006...) and a silent socket (no message for
  ``silence_timeout``) lead to a reconnect after a jittered exponential backoff (reset after a connection that
  stayed up ``healthy_after``). A refused quote token is replaced with a new one; one due for renewal is
  replaced without waiting. A dead broker grant (:class:`~tastyguard.broker.errors.ReauthorizationRequired`,
  the broker client's breaker) stops the feed: ``run()`` raises it, after a ``STOPPED`` state with reason
  ``REAUTHORIZATION_REQUIRED``, and no further attempt is made.
* ``last_inbound_at`` is the monotonic time of the last message from the server (health checks).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

from tastyguard.broker.errors import BrokerError, ReauthorizationRequired
from tastyguard.streaming.backoff import Backoff
from tastyguard.streaming.clock import Clock, SystemClock
from tastyguard.streaming.dxlink.candles import CandleSubscription
from tastyguard.streaming.dxlink.config import FeedConfig
from tastyguard.streaming.dxlink.events import EventType, FeedEvent
from tastyguard.streaming.dxlink.session import Session, SessionEnd
from tastyguard.streaming.dxlink.state import DisconnectReason, FeedState, FeedStatus
from tastyguard.streaming.dxlink.tokens import QuoteTokens, QuoteTokenSource

logger = logging.getLogger('tastyguard.streaming.dxlink')

EventCallback = Callable[[Sequence[FeedEvent]], Awaitable[None] | None]
StateCallback = Callable[[FeedState], Awaitable[None] | None]
MIN_CHUNK_BYTES = 1024


@dataclass
class FeedStats:
    """Counters for health and metrics."""

    connections: int = 0
    attempts: int = 0
    disconnects: Counter[str] = field(default_factory=Counter)
    events: int = 0
    unannounced_rows: int = 0
    malformed_rows: int = 0
    keepalives: int = 0
    callback_errors: int = 0
    quote_tokens: int = 0  # fetched from the broker


class DXLinkFeed:
    """A self-healing DXLink market-data connection (see the module docstring)."""

    def __init__(
        self,
        tokens: QuoteTokenSource,
        *,
        on_event: EventCallback,
        on_state: StateCallback | None = None,
        config: FeedConfig | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config or FeedConfig()
        self.clock: Clock = clock or SystemClock()
        self.stats = FeedStats()
        self._tokens = QuoteTokens(tokens, self.clock, renew_before=self.config.token_renew_before)
        self._on_event = on_event
        self._on_state = on_state
        self._backoff = Backoff(
            base=self.config.backoff_base,
            cap=self.config.backoff_cap,
            healthy_after=self.config.healthy_after,
            rng=rng or random.Random(),  # noqa: S311 - jitter, not cryptography
        )
        self._wanted: dict[EventType, dict[str, int | None]] = {}
        self._dirty = asyncio.Event()
        self._stop = asyncio.Event()
        self._finished = asyncio.Event()
        self._running = False
        self._attempt = 0
        self._chunk_bytes = self.config.max_message_bytes
        self._session: Session | None = None
        self._last_inbound_at: float | None = None
        self.state = FeedState(FeedStatus.DISCONNECTED)

    # --- what the application calls ------------------------------------------------------------------------
    async def set_symbols(self, symbols: Iterable[str], event_types: Iterable[EventType] = (EventType.QUOTE,)) -> None:
        """Subscribe exactly ``symbols`` (streamer symbols) for each of ``event_types``."""
        wanted = {_symbol(s): None for s in symbols}
        for kind in map(EventType, event_types):
            if kind is EventType.CANDLE:
                raise ValueError('candles need a period and a start: use set_candles()')
            self._wanted[kind] = dict(wanted)
        self._dirty.set()

    async def set_candles(self, candles: Iterable[CandleSubscription]) -> None:
        """Subscribe exactly these candle series (a changed ``from_time`` re-sends that history)."""
        self._wanted[EventType.CANDLE] = {c.candle_symbol: c.from_time_ms for c in candles}
        self._dirty.set()

    @property
    def subscriptions(self) -> Mapping[EventType, frozenset[str]]:
        """What the feed wants subscribed, per event type."""
        return MappingProxyType({kind: frozenset(symbols) for kind, symbols in self._wanted.items() if symbols})

    @property
    def last_inbound_at(self) -> float | None:
        """Monotonic time of the last message from the server (None before the first)."""
        session = self._session
        if session is not None:
            return session.watchdog.last_inbound_at
        return self._last_inbound_at

    async def stop(self) -> None:
        """Close the connection and end :meth:`run` (waits for it)."""
        self._stop.set()
        if self._running:
            await self._finished.wait()

    # --- the loop ------------------------------------------------------------------------------------------
    async def run(self) -> None:
        """Connect, stream and reconnect until :meth:`stop` (or a dead broker grant, which raises)."""
        if self._running:
            raise RuntimeError('this feed is already running')
        self._running = True
        reason = DisconnectReason.STOPPED
        try:
            while not self._stop.is_set():
                end = await self._connect_once()
                if end.reason is DisconnectReason.STOPPED:
                    break
                if end.reason is DisconnectReason.REAUTHORIZATION_REQUIRED:
                    reason = end.reason
                    logger.error('dxlink stopped: the broker grant needs re-authorization', extra={'socket': 'dxlink'})
                    await self._emit(FeedState(FeedStatus.STOPPED, self._attempt, reason, detail=end.detail))
                    assert isinstance(end.__cause__, ReauthorizationRequired)
                    raise end.__cause__
                await self._after(end)
        finally:
            self._session = None
            if reason is DisconnectReason.STOPPED:
                await self._emit(FeedState(FeedStatus.STOPPED, self._attempt, DisconnectReason.STOPPED))
            self._running = False
            self._finished.set()

    async def _after(self, end: SessionEnd) -> None:
        """Book-keeping and the wait after a connection ended."""
        self.stats.disconnects[end.reason.value] += 1
        if end.reason is DisconnectReason.AUTH_REJECTED:
            self._tokens.invalidate()
        if end.reason is DisconnectReason.MESSAGE_TOO_BIG:
            self._chunk_bytes = max(MIN_CHUNK_BYTES, self._chunk_bytes // 2)
        if end.reason is DisconnectReason.TOKEN_RENEWAL:
            delay = 0.0
        else:
            delay = self._backoff.next_delay(healthy_for=end.connected_for or 0.0)
        log = logger.info if end.reason is DisconnectReason.TOKEN_RENEWAL else logger.warning
        log(
            'dxlink disconnected (%s%s); reconnecting in %.1f s',
            end.reason.value,
            f': {end.detail}' if end.detail else '',
            delay,
            extra={'socket': 'dxlink', 'reason': end.reason.value, 'close_code': end.code, 'retry_in': delay},
        )
        await self._emit(
            FeedState(
                FeedStatus.DISCONNECTED,
                self._attempt,
                end.reason,
                end.code,
                end.detail,
                retry_in=delay,
                connected_for=end.connected_for,
            )
        )
        await self._pause(delay)

    async def _connect_once(self) -> SessionEnd:
        self._attempt += 1
        self.stats.attempts += 1
        await self._emit(FeedState(FeedStatus.CONNECTING, self._attempt))
        try:
            held = await self._tokens.get()
            self.stats.quote_tokens = self._tokens.fetched
        except ReauthorizationRequired as exc:
            end = SessionEnd(DisconnectReason.REAUTHORIZATION_REQUIRED, exc.message)
            end.__cause__ = exc
            return end
        except (BrokerError, OSError) as exc:
            return SessionEnd(DisconnectReason.TOKEN_UNAVAILABLE, f'{type(exc).__name__}: {exc}'[:300])
        try:
            async with connect(
                held.url,
                open_timeout=self.config.action_timeout,
                close_timeout=self.config.close_timeout,
                ping_interval=None,  # DXLink wants its own KEEPALIVE; liveness is the silence watchdog
                max_size=self.config.max_inbound_bytes,
                user_agent_header='tastyguard',
            ) as ws:
                session = self._session = Session(
                    ws,
                    token=held,
                    wanted=self._wanted,
                    dirty=self._dirty,
                    stop=self._stop,
                    config=self.config,
                    clock=self.clock,
                    sink=self._deliver,
                    on_connected=self._connected,
                    chunk_bytes=self._chunk_bytes,
                )
                try:
                    end = await session.run()
                finally:
                    self._last_inbound_at = session.watchdog.last_inbound_at
                    self._session = None
                    self._count(session)
                if end.reason is DisconnectReason.SILENCE:
                    ws.transport.abort()  # the peer answers nothing, not even a close frame
                return end
        except InvalidStatus as exc:
            return SessionEnd(DisconnectReason.CONNECT_FAILED, f'HTTP {exc.response.status_code} on upgrade')
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            return SessionEnd(DisconnectReason.CONNECT_FAILED, f'{type(exc).__name__}: {exc}'[:300])

    async def _connected(self) -> None:
        reconnected = self.stats.connections > 0
        self.stats.connections += 1
        attempt, self._attempt = self._attempt, 0
        symbols = sum(len(s) for s in self._wanted.values())
        logger.info(
            'dxlink connected (%d subscriptions)',
            symbols,
            extra={'socket': 'dxlink', 'attempt': attempt, 'reconnected': reconnected},
        )
        await self._emit(FeedState(FeedStatus.CONNECTED, attempt, reconnected=reconnected))

    def _count(self, session: Session) -> None:
        counters = session.counters
        self.stats.events += counters.events
        self.stats.unannounced_rows += counters.unannounced_rows
        self.stats.malformed_rows += counters.malformed_rows
        self.stats.keepalives += counters.keepalives

    async def _pause(self, seconds: float) -> None:
        if seconds <= 0:
            return
        sleeper = asyncio.create_task(self.clock.sleep(seconds))
        stopper = asyncio.create_task(self._stop.wait())
        try:
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            stopper.cancel()

    # --- callbacks -----------------------------------------------------------------------------------------
    async def _deliver(self, events: Sequence[FeedEvent]) -> None:
        try:
            result = self._on_event(events)
            if inspect.isawaitable(result):
                await result
        except Exception:
            self.stats.callback_errors += 1
            logger.exception('dxlink on_event callback failed', extra={'socket': 'dxlink'})

    async def _emit(self, state: FeedState) -> None:
        self.state = state
        if self._on_state is None:
            return
        try:
            result = self._on_state(state)
            if inspect.isawaitable(result):
                await result
        except Exception:
            self.stats.callback_errors += 1
            logger.exception('dxlink on_state callback failed', extra={'socket': 'dxlink'})


def _symbol(symbol: str) -> str:
    if not isinstance(symbol, str) or not symbol.strip():
        raise ValueError(f'{symbol!r} is not a streamer symbol')
    return symbol.strip()
