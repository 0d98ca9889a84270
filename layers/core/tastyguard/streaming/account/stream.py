"""``AccountStream``: tastytrade's account streamer, reconnecting forever, until stopped.

    stream = AccountStream(url, accounts, AccessTokens(client), on_notifications=handle, on_state=state)
    task = asyncio.create_task(stream.run())
    ...
    await stream.stop()

* ``on_notifications(notifications)`` gets the parsed notifications of one frame (a batched
  ``{"results": [...]}`` frame is one call) as broker models (``OrderNotification``,
  ``PositionNotification``, ...); a notification that does not parse is logged and counted, never fatal.
* ``on_state(state)`` gets every :class:`~tastyguard.streaming.state.FeedState`. ``CONNECTED`` with
  ``reconnected=True`` means notifications may have been missed: run a catch-up reconcile (the account
  streamer sends changes only, no snapshot on connect).
* Every close (1000 "Bye" included), a dropped connection, a silent socket and a refused ``connect`` lead to
  a reconnect after a jittered exponential backoff. A dead grant (the broker client's invalid-grant breaker)
  stops the stream: ``run()`` raises :class:`~tastyguard.broker.errors.ReauthorizationRequired`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

from tastyguard.broker.errors import BrokerError, ReauthorizationRequired
from tastyguard.broker.models.streamer import Notification, UnknownNotification, parse_notification
from tastyguard.streaming.account.config import AccountStreamConfig
from tastyguard.streaming.account.session import AccountSession
from tastyguard.streaming.account.tokens import AccessTokens
from tastyguard.streaming.backoff import Backoff
from tastyguard.streaming.clock import Clock, SystemClock
from tastyguard.streaming.dxlink.session import SessionEnd
from tastyguard.streaming.state import DisconnectReason, FeedState, FeedStatus

logger = logging.getLogger('tastyguard.streaming.account')

NotificationCallback = Callable[[Sequence[Notification]], Awaitable[None] | None]
StateCallback = Callable[[FeedState], Awaitable[None] | None]


@dataclass
class AccountStreamStats:
    """Counters for health and metrics."""

    connections: int = 0
    attempts: int = 0
    disconnects: Counter[str] = field(default_factory=Counter)
    notifications: int = 0
    unparsed: int = 0
    malformed_frames: int = 0
    heartbeats: int = 0
    heartbeat_acks: int = 0
    rejected_tokens: int = 0
    callback_errors: int = 0


class AccountStream:
    """A self-healing account-streamer connection (see the module docstring)."""

    def __init__(
        self,
        url: str,
        accounts: Sequence[str],
        tokens: AccessTokens,
        *,
        on_notifications: NotificationCallback,
        on_state: StateCallback | None = None,
        config: AccountStreamConfig | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not accounts:
            raise ValueError('the account stream needs at least one account')
        self.url = url
        self.accounts = list(accounts)
        self.config = config or AccountStreamConfig()
        self.clock: Clock = clock or SystemClock()
        self.stats = AccountStreamStats()
        self._tokens = tokens
        self._on_notifications = on_notifications
        self._on_state = on_state
        self._backoff = Backoff(
            base=self.config.backoff_base,
            cap=self.config.backoff_cap,
            healthy_after=self.config.healthy_after,
            rng=rng or random.Random(),  # noqa: S311 - jitter, not cryptography
        )
        self._stop = asyncio.Event()
        self._finished = asyncio.Event()
        self._running = False
        self._attempt = 0
        self._session: AccountSession | None = None
        self._last_inbound_at: float | None = None
        self.state = FeedState(FeedStatus.DISCONNECTED)

    @property
    def last_inbound_at(self) -> float | None:
        """Monotonic time of the last frame from the server (None before the first)."""
        session = self._session
        return session.watchdog.last_inbound_at if session is not None else self._last_inbound_at

    @property
    def held_accounts(self) -> list[str]:
        """The accounts the server confirmed for the current connection (none while not connected)."""
        session = self._session
        return list(session.acknowledged) if session is not None and session.connected_at is not None else []

    @property
    def tokens_replaced(self) -> int:
        """Access tokens the server refused so far (and that were replaced), the current session included."""
        session = self._session
        return self.stats.rejected_tokens + (session.counters.rejected_tokens if session is not None else 0)

    @property
    def heartbeats_acknowledged(self) -> int:
        """Heartbeat acknowledgements so far, the current session included."""
        session = self._session
        return self.stats.heartbeat_acks + (session.counters.heartbeat_acks if session is not None else 0)

    async def stop(self) -> None:
        """Close the connection and end :meth:`run` (waits for it)."""
        self._stop.set()
        if self._running:
            await self._finished.wait()

    async def run(self) -> None:
        """Connect, stream and reconnect until :meth:`stop` (or a dead broker grant, which raises)."""
        if self._running:
            raise RuntimeError('this stream is already running')
        self._running = True
        reason = DisconnectReason.STOPPED
        try:
            while not self._stop.is_set():
                end = await self._connect_once()
                if end.reason is DisconnectReason.STOPPED:
                    break
                if end.reason is DisconnectReason.REAUTHORIZATION_REQUIRED:
                    reason = end.reason
                    logger.error('account stream stopped: the broker grant needs re-authorization')
                    await self._emit(FeedState(FeedStatus.STOPPED, self._attempt, reason, detail=end.detail))
                    cause = end.__cause__
                    raise cause if isinstance(cause, ReauthorizationRequired) else ReauthorizationRequired(end.detail)
                await self._after(end)
        finally:
            self._session = None
            if reason is DisconnectReason.STOPPED:
                await self._emit(FeedState(FeedStatus.STOPPED, self._attempt, DisconnectReason.STOPPED))
            self._running = False
            self._finished.set()

    async def _connect_once(self) -> SessionEnd:
        self._attempt += 1
        self.stats.attempts += 1
        await self._emit(FeedState(FeedStatus.CONNECTING, self._attempt))
        try:
            async with connect(
                self.url,
                open_timeout=self.config.action_timeout,
                close_timeout=self.config.close_timeout,
                ping_interval=self.config.ping_interval,
                ping_timeout=self.config.ping_timeout,
                max_size=self.config.max_inbound_bytes,
                user_agent_header='tastyguard',
            ) as ws:
                session = self._session = AccountSession(
                    ws,
                    accounts=self.accounts,
                    tokens=self._tokens,
                    config=self.config,
                    clock=self.clock,
                    stop=self._stop,
                    sink=self._deliver,
                    on_connected=self._connected,
                )
                try:
                    end = await session.run()
                finally:
                    self._last_inbound_at = session.watchdog.last_inbound_at
                    self._session = None
                    self._count(session)
                if end.reason is DisconnectReason.SILENCE:
                    ws.transport.abort()
                return end
        except ReauthorizationRequired as exc:
            end = SessionEnd(DisconnectReason.REAUTHORIZATION_REQUIRED, exc.message)
            end.__cause__ = exc
            return end
        except BrokerError as exc:
            return SessionEnd(DisconnectReason.TOKEN_UNAVAILABLE, f'{type(exc).__name__}: {exc}'[:300])
        except InvalidStatus as exc:
            return SessionEnd(DisconnectReason.CONNECT_FAILED, f'HTTP {exc.response.status_code} on upgrade')
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            return SessionEnd(DisconnectReason.CONNECT_FAILED, f'{type(exc).__name__}: {exc}'[:300])

    async def _after(self, end: SessionEnd) -> None:
        self.stats.disconnects[end.reason.value] += 1
        delay = self._backoff.next_delay(healthy_for=end.connected_for or 0.0)
        logger.warning(
            'account stream disconnected (%s%s); reconnecting in %.1f s',
            end.reason.value,
            f': {end.detail}' if end.detail else '',
            delay,
            extra={'socket': 'account', 'reason': end.reason.value, 'close_code': end.code, 'retry_in': delay},
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

    async def _connected(self) -> None:
        reconnected = self.stats.connections > 0
        self.stats.connections += 1
        attempt, self._attempt = self._attempt, 0
        logger.info(
            'account stream connected (%d accounts)',
            len(self.accounts),
            extra={'socket': 'account', 'attempt': attempt, 'reconnected': reconnected},
        )
        await self._emit(FeedState(FeedStatus.CONNECTED, attempt, reconnected=reconnected))

    def _count(self, session: AccountSession) -> None:
        counters = session.counters
        self.stats.malformed_frames += counters.malformed
        self.stats.heartbeats += counters.heartbeats
        self.stats.heartbeat_acks += counters.heartbeat_acks
        self.stats.rejected_tokens += counters.rejected_tokens

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

    async def _deliver(self, raw: Sequence[dict[str, Any]]) -> None:
        parsed: list[Notification] = []
        for item in raw:
            try:
                parsed.append(parse_notification(item))
            except ValidationError as error:
                self.stats.unparsed += 1
                logger.warning(
                    'a %s notification did not parse (%d problems); passed on unread, so the next sweep reads '
                    'its account',
                    item.get('type'),
                    error.error_count(),
                    extra={'socket': 'account'},
                )
                # kept raw: no fast-path event comes of it, but the account counts as changed (decision 60)
                parsed.append(UnknownNotification(type=str(item.get('type')), data=item.get('data')))
        self.stats.notifications += len(parsed)
        if not parsed:
            return
        try:
            result = self._on_notifications(parsed)
            if inspect.isawaitable(result):
                await result
        except Exception:
            self.stats.callback_errors += 1
            logger.exception('account stream on_notifications callback failed', extra={'socket': 'account'})

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
            logger.exception('account stream on_state callback failed', extra={'socket': 'account'})
