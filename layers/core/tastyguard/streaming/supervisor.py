"""The streamer: both websockets, the fast path, live quotes, catch-ups and health, as one supervised unit.

    streamer = Streamer(parts)           # see :class:`StreamerParts`
    await streamer.run()                 # until stop() (SIGTERM), a dead grant, or a lost singleton lease

What it does, in order:

1. Takes the singleton lease (waits while another streamer holds it).
2. Reads every account's positions over REST: the DXLink symbol set and the fill tracker's baseline (read
   again after position messages and catch-ups; a change such a read shows first is a fast-path event too).
3. Runs the account stream, the DXLink feed, the quote writer, the health beat and the lease renewal.
4. Every fill or position change (:mod:`~tastyguard.streaming.fills`) becomes a fast-path event for its sink:
   the bus (deployed) or an in-process symbol-scoped ``ensure_stops`` run (local).
5. After the account stream (re)connects, a **catch-up**: ``reconcile_orders`` and ``ensure_stops`` for each
   account through the same job code, then a fresh positions read, so a fill that happened while the socket
   was down is protected anyway (the account streamer sends changes only, never a snapshot).
6. A position change updates the DXLink subscriptions (streamer symbols of the open positions).
7. Every quote goes to the price follower (:mod:`~tastyguard.streaming.follow`): trailing stops ratchet (a
   ``StopRatchet`` fast-path event), software stops, price alerts and stops through the market act.
8. On stop: no new events, the in-flight ones are finished, both sockets closed, the lease released.

The health report also says what the sweep may rely on (decision 60): since when the account socket has held
the accounts without a break (``held``), and when each account last had an order, position or trading-status
notification (``activity``).

All job code runs on one worker thread (the catch-ups and, locally, the fast path), so the synchronous job
context is never shared between threads; the sockets stay on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from tastyguard.broker import models as wire
from tastyguard.broker.errors import BrokerError, ReauthorizationRequired
from tastyguard.broker.models.streamer import BalanceNotification, Notification, PositionNotification
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.invocation import JobInvocation, JobName
from tastyguard.jobs.reauthorize import announce, reauthorize_alert, reauthorize_error
from tastyguard.jobs.registry import run as run_job
from tastyguard.jobs.results import AccountRunResult
from tastyguard.streaming.account import AccessTokens, AccountStream, AccountStreamConfig
from tastyguard.streaming.clock import Clock, SystemClock
from tastyguard.streaming.dxlink import DXLinkFeed, from_broker
from tastyguard.streaming.dxlink.config import FeedConfig
from tastyguard.streaming.dxlink.events import EventType, FeedEvent
from tastyguard.streaming.events import StreamEvent, event_id
from tastyguard.streaming.fills import FillTracker
from tastyguard.streaming.follow import FollowSettings, PriceFollower
from tastyguard.streaming.health import Health, HealthReport, SocketHealth
from tastyguard.streaming.publish import EventSink
from tastyguard.streaming.quotes import QuoteBook
from tastyguard.streaming.singleton import StreamerLease
from tastyguard.streaming.state import FeedState, FeedStatus
from tastyguard.streaming.symbols import watched

logger = logging.getLogger('tastyguard.streaming')
T = TypeVar('T')

ReadyCallback = Callable[[Sequence[str], int], Awaitable[None] | None]


@dataclass
class StreamerParts:
    """What one streamer is made of (the CLI and the container build it differently)."""

    ctx: JobContext  # the job context the catch-ups (and, locally, the fast path) run with
    client: Any  # the broker client (positions, quote tokens, access tokens)
    accounts: Sequence[str]
    sink: EventSink
    quotes: QuoteBook
    jobs: JobThread
    health: Health | None = None
    lease: StreamerLease | None = None
    clock: Clock = field(default_factory=SystemClock)
    account_config: AccountStreamConfig | None = None
    dxlink_config: FeedConfig | None = None
    catch_up: bool = True
    on_ready: ReadyCallback | None = None  # both sockets up for the first time (the CLI prints its line)
    owner: str = field(default_factory=lambda: f'streamer:{uuid.uuid4().hex[:8]}')
    grant: str = 'default'  # the grant (login) whose accounts this streamer watches
    fence: Callable[[], int | None] | None = None  # the version of the lease held for this streamer (events carry it)
    follow_prices: bool = True  # trailing ratchets, software stops, price alerts on live quotes
    follow_settings: FollowSettings | None = None
    on_change: Callable[[], None] | None = None  # what the accounts socket holds, or an account's activity, changed


@dataclass
class StreamerStats:
    """What the streamer did, for the benches and the health item."""

    events: int = 0
    catch_ups: int = 0
    catch_up_failures: int = 0
    symbol_updates: int = 0
    reconnects: dict[str, int] = field(default_factory=lambda: {'account': 0, 'dxlink': 0})


class Streamer:
    """The supervised streamer (see the module docstring)."""

    def __init__(self, parts: StreamerParts) -> None:
        self.parts = parts
        self.stats = StreamerStats()
        self._stop = asyncio.Event()
        self.tracker = FillTracker(parts.ctx.clock)
        self.account = AccountStream(
            parts.client.environment.streamer_url,
            parts.accounts,
            AccessTokens(parts.client),
            on_notifications=self._on_notifications,
            on_state=self._on_account_state,
            config=parts.account_config,
            clock=parts.clock,
        )
        self.feed = DXLinkFeed(
            from_broker(parts.client),
            on_event=self._on_quotes,
            on_state=self._on_dxlink_state,
            config=parts.dxlink_config,
            clock=parts.clock,
        )
        self.symbols: dict[str, str] = {}
        self._ready = False
        self._connected = {'account': False, 'dxlink': False}
        self._catch_up_task: asyncio.Task[None] | None = None
        self._catch_up_again = False
        self._refresh_task: asyncio.Task[None] | None = None
        self.held_since: datetime | None = None  # the account socket has held every account since (no break)
        self.activity: dict[str, datetime] = {}  # account → its last order, position or status notification
        self.failure: BaseException | None = None
        self.follower: PriceFollower | None = None
        if parts.follow_prices:
            self.follower = PriceFollower(
                parts.ctx,
                parts.accounts,
                self._in_jobs,
                self._publish,
                self.feed.set_candles,
                settings=parts.follow_settings,
                flush_quotes=parts.quotes.flush,
                book=parts.quotes,
            )

    # --- the lifecycle -----------------------------------------------------------------------------------
    async def stop(self) -> None:
        """Ask :meth:`run` to finish (SIGTERM): the in-flight events are completed first."""
        self._stop.set()

    async def run(self) -> None:
        """Run until :meth:`stop`, a dead grant (raised) or a lost lease (raised)."""
        lease = self.parts.lease
        if lease is not None and not await lease.acquire(self._stop):
            return
        try:
            await self._refresh_positions()
            tasks = [
                asyncio.create_task(self.account.run(), name='account-stream'),
                asyncio.create_task(self.feed.run(), name='dxlink-feed'),
                asyncio.create_task(self.parts.quotes.run(self._stop), name='quote-writer'),
                asyncio.create_task(self._stop.wait(), name='stop'),
            ]
            if self.parts.health is not None:
                tasks.append(asyncio.create_task(self.parts.health.run(self._stop), name='health'))
            if lease is not None:
                tasks.append(asyncio.create_task(lease.keep(self._stop), name='lease'))
            if self.follower is not None:
                tasks.append(asyncio.create_task(self.follower.run(self._stop), name='price-follower'))
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    self.failure = task.exception()
            await self._shutdown(tasks)
        finally:
            if lease is not None:
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(lease.release)
        if isinstance(self.failure, ReauthorizationRequired):
            await self._in_jobs(self._announce_reauthorization, self.failure)
            raise self.failure
        if self.failure is not None:
            raise self.failure  # a lost lease (LeaseLostError) or a task that crashed

    async def _shutdown(self, tasks: list[asyncio.Task[Any]]) -> None:
        self._stop.set()
        await self.parts.sink.drain()  # finish the in-flight publish (or fast-path run)
        if self._catch_up_task is not None:
            await asyncio.gather(self._catch_up_task, return_exceptions=True)
        await asyncio.gather(self.account.stop(), self.feed.stop(), return_exceptions=True)
        await self.parts.quotes.flush()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _announce_reauthorization(self, error: ReauthorizationRequired) -> None:
        """The one "re-authorize <grant>" message, shared with the jobs (whoever meets the dead grant first)."""
        ctx, grant = self.parts.ctx, self.parts.grant
        try:
            alert = reauthorize_alert(ctx.environment, grant, reauthorize_error(grant, error))
            announce(ctx, grant, alert, mode=self._mode(), run_id=self.parts.owner)
        except Exception:
            logger.exception('could not send the re-authorize message')

    def _fence(self) -> int | None:
        if self.parts.fence is not None:
            return self.parts.fence()
        lease = self.parts.lease
        return lease.version if lease is not None else None

    def _mode(self) -> str:
        return self.parts.ctx.mode_for(self.parts.accounts[0]).value

    async def _in_jobs(self, function: Callable[..., T], *args: Any) -> T:
        """Run job code on the one job thread."""
        return await self.parts.jobs.call(function, *args)

    # --- positions and symbols ---------------------------------------------------------------------------
    async def _refresh_positions(self) -> None:
        """Read every account's positions: the tracker's baseline and the DXLink symbol set.

        A quantity that changed since the tracker last knew it is a fast-path event now: its own position
        message may come later, and would then look like a duplicate (:meth:`FillTracker.positions_read`).
        """
        positions: list[wire.Position] = []
        for account in self.parts.accounts:
            try:
                positions.extend(await asyncio.to_thread(self.parts.client.positions, account))
            except BrokerError as error:
                logger.warning('could not read the positions of %s: %s (symbols unchanged)', account, error)
                return
        events = self.tracker.positions_read(self.parts.accounts, positions)
        if events and not self._stop.is_set():
            await self._protect(events, 'seen in a positions read before its message; protecting it now')
        await self._follow(watched(positions))

    async def _follow(self, symbols: dict[str, str]) -> None:
        if symbols == self.symbols:
            return
        self.symbols = symbols
        self.stats.symbol_updates += 1
        self.parts.quotes.follow(symbols)
        if self.follower is not None:
            self.follower.follow(symbols)
        # trades too: the last price is what a `trail_price: last` policy and price alerts without a book use
        await self.feed.set_symbols(sorted(symbols), (EventType.QUOTE, EventType.TRADE))

    def _schedule_refresh(self) -> None:
        if self._refresh_task is None or self._refresh_task.done():
            self._refresh_task = asyncio.create_task(self._refresh_positions(), name='positions')

    # --- the account stream ------------------------------------------------------------------------------
    async def _on_notifications(self, notifications: Sequence[Notification]) -> None:
        if self._stop.is_set():
            return
        self._note_activity(notifications)
        events = self.tracker.events(notifications)
        if self.follower is not None:
            self.follower.rebuild_soon()  # debounced: the stop we moved, a person's new order, a new position
        if events:
            await self._protect(events, 'protecting it now')
        if any(isinstance(n, PositionNotification) for n in notifications):
            self._schedule_refresh()

    async def _protect(self, events: Sequence[StreamEvent], why: str) -> None:
        """Count, log and publish fast-path events."""
        self.stats.events += len(events)
        for event in events:
            logger.info(
                '%s %s %s: %s',
                event.detail_type.value,
                event.account,
                event.symbol,
                why,
                extra={'event_id': event.event_id},
            )
        await self._publish(events)

    def _note_activity(self, notifications: Sequence[Notification]) -> None:
        """Remember which accounts something happened on (a balance alone changes no protection)."""
        now = self.parts.clock.wall()
        changed = False
        for notification in notifications:
            if isinstance(notification, BalanceNotification):
                continue
            account = getattr(getattr(notification, 'data', None), 'account_number', None)
            if not isinstance(account, str) and isinstance(notification.data, dict):
                account = notification.data.get('account-number')
            # a notification naming no account we can read could be any of them
            for number in [account] if isinstance(account, str) else self.parts.accounts:
                self.activity[number] = now
            changed = True
        if changed:
            self._changed()

    async def _publish(self, events: Sequence[StreamEvent]) -> None:
        """Hand fast-path events to the sink, stamped with the lease version (the fence)."""
        version = self._fence()
        if version is not None:
            events = [_fenced(e, version) for e in events]
        await self.parts.sink.publish(events)

    async def _on_account_state(self, state: FeedState) -> None:
        self._track('account', state)
        if state.status is FeedStatus.CONNECTED and self.parts.catch_up:
            self._schedule_catch_up()
        await self._maybe_ready()

    def _schedule_catch_up(self) -> None:
        if self._catch_up_task is not None and not self._catch_up_task.done():
            self._catch_up_again = True  # another reconnect during a catch-up: run once more after it
            return
        self._catch_up_task = asyncio.create_task(self._catch_up(), name='catch-up')

    async def _catch_up(self) -> None:
        while True:
            self._catch_up_again = False
            stamp = self.parts.ctx.clock().isoformat()
            for account in self.parts.accounts:
                for job in (JobName.RECONCILE_ORDERS, JobName.ENSURE_STOPS):
                    if self._stop.is_set():
                        return
                    invocation = JobInvocation(job=job, account=account, event_id=event_id('catch-up', stamp, account))
                    try:
                        await self._in_jobs(run_job, self.parts.ctx, invocation)
                    except Exception:
                        self.stats.catch_up_failures += 1
                        logger.exception('the catch-up %s of %s failed; the scheduled runs cover it', job, account)
            self.stats.catch_ups += 1
            await self._refresh_positions()
            if self.follower is not None:
                self.follower.rebuild_soon()
            if not self._catch_up_again:
                return

    # --- DXLink ------------------------------------------------------------------------------------------
    def _on_quotes(self, events: Sequence[FeedEvent]) -> None:
        changed = self.parts.quotes.on_events(events)
        if self.follower is not None:
            self.follower.on_quotes(changed, self.parts.quotes)
            self.follower.on_candles(events)

    async def _on_dxlink_state(self, state: FeedState) -> None:
        self._track('dxlink', state)
        await self._maybe_ready()

    # --- health and readiness ----------------------------------------------------------------------------
    def _track(self, socket: str, state: FeedState) -> None:
        if state.status is FeedStatus.CONNECTED:
            if state.reconnected:
                self.stats.reconnects[socket] += 1
            self._connected[socket] = True
            if socket == 'account':
                self.held_since = self.parts.clock.wall()
                self._changed()
        elif state.status in (FeedStatus.DISCONNECTED, FeedStatus.STOPPED):
            self._connected[socket] = False
            if socket == 'account':
                self.held_since = None  # what happens now is missed until the catch-up after the reconnect
                self._changed()

    def _changed(self) -> None:
        if self.parts.on_change is not None:
            self.parts.on_change()

    async def _maybe_ready(self) -> None:
        if self._ready or not all(self._connected.values()):
            return
        self._ready = True
        if self.parts.on_ready is not None:
            result = self.parts.on_ready(list(self.parts.accounts), len(self.symbols))
            if asyncio.iscoroutine(result):
                await result

    def report(self) -> HealthReport:
        """Both sockets and whether the streamer is healthy (the health beat's source)."""
        clock = self.parts.clock
        now = clock.monotonic()
        sockets: dict[str, SocketHealth] = {}
        limits = {
            'account': self.account.config.silence_timeout,
            'dxlink': self.feed.config.silence_timeout,
        }
        for name, inbound in (('account', self.account.last_inbound_at), ('dxlink', self.feed.last_inbound_at)):
            silent = None if inbound is None else now - inbound
            sockets[name] = SocketHealth(
                self._connected[name], silent, self.stats.reconnects[name], _wall(clock, silent)
            )
        healthy = all(s.connected and s.silent_for is not None and s.silent_for < limits[n] for n, s in sockets.items())
        since = self.held_since  # None while the account socket is not connected
        held = {} if since is None else dict.fromkeys(self.account.held_accounts, since)
        return HealthReport(sockets, healthy, symbols=len(self.symbols), held=held, activity=dict(self.activity))


class JobThread:
    """The one thread all job code of a streamer runs on (the job context is not shared between threads)."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix='tastyguard-jobs')

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """Run ``function(*args)`` on the job thread and wait for it."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    def close(self) -> None:
        """Wait for the running job and stop the thread."""
        self._executor.shutdown(wait=True)


def _fenced(event: StreamEvent, version: int) -> StreamEvent:
    return StreamEvent(
        event.detail_type,
        event.account,
        event.symbol,
        event.event_id,
        event.seen_at,
        event.order_id,
        event.quantity,
        version,
        event.extra,
    )


def _wall(clock: Clock, silent: float | None) -> datetime | None:
    return None if silent is None else clock.wall() - timedelta(seconds=silent)


def fast_path(ctx: JobContext) -> Callable[[StreamEvent], AccountRunResult | None]:
    """The in-process fast path: one symbol-scoped ``ensure_stops`` run per event (on the caller's thread)."""

    def handle(event: StreamEvent) -> AccountRunResult | None:
        invocation = JobInvocation(
            job=JobName.ENSURE_STOPS, account=event.account, symbol=event.symbol, event_id=event.event_id
        )
        results = run_job(ctx, invocation)
        return results[0] if results else None

    return handle
