"""The streamer's price follower: live quotes → trailing ratchets, software stops, price alerts, stops through.

    follower = PriceFollower(ctx, accounts, jobs, feed, publish)
    follower.follow(symbols)                     # streamer symbol → position symbol (the DXLink set)
    follower.on_quotes(changed, book)            # after every DXLink batch (on the event loop, cheap)
    await follower.run(stop)                     # acts on the decisions, writes marks, rebuilds the watches

* **Watches** (:func:`~tastyguard.streaming.watching.watch_account`, a REST read on the job thread) are built at
  start, after every catch-up, shortly after any account notification (debounced per account: our own replace
  confirms the stop it moved, a person's new order is seen) and every ``rebuild_every`` seconds. A rebuild keeps
  what the old watch of the same position learned: its mark (never lowered), the moves of the window and which
  one-shot decisions already fired.
* **Decisions** (:func:`~tastyguard.streaming.prices.decide`, pure) are taken on the event loop for each quote
  and acted on in order on the job thread: a :class:`Ratchet` writes the mark, then publishes a ``StopRatchet``
  event to the fast path (the bus when deployed, in process locally), whose symbol-scoped ``ensure_stops``
  replaces the stop through the executor, the intent log and the account lease; ratchets for a position are
  coalesced while one waits. A software stop, a price-alert level and a stop through the market go to
  :mod:`~tastyguard.streaming.price_actions`. An alert-only option structure is judged
  (:func:`~tastyguard.streaming.prices.decide_structure`) whenever a quote of one of its legs changes.
* **Marks** move in memory on every valid quote and are written at most every ``mark_write_seconds`` per
  position (and always before a ratchet), so a restart continues from where the trail was.
* **Seeds**: a trailed position with no stored mark (held before tastyguard watched it) is seeded from DXLink
  ``Candle`` history since it opened: daily candles (``{=1d}``) for a position opened before the last
  ``fine_history_hours``, one-minute candles (``{=1m}``) for a newer one. Only candles that start at or after
  the opening count (the opening period's earlier prices were not the position's), so a seed can only be
  lower (a long's) than the true high, never above it: a looser stop, never a stop the position did not earn.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tastyguard.broker.errors import BrokerError
from tastyguard.config.policy import SoftwareTrigger
from tastyguard.engine.spread_stop import StructureLevel
from tastyguard.jobs.context import JobContext
from tastyguard.streaming import price_actions
from tastyguard.streaming.dxlink.candles import CandlePeriod, CandleSubscription
from tastyguard.streaming.dxlink.events import Candle, FeedEvent
from tastyguard.streaming.events import DetailType, StreamEvent, event_id
from tastyguard.streaming.prices import (
    Decision,
    LevelCrossed,
    MarkMoved,
    Ratchet,
    SoftwareCross,
    StopThrough,
    StructureCross,
    Tick,
    Watched,
    WatchedStructure,
    decide,
    decide_structure,
    seed,
)
from tastyguard.streaming.quotes import QuoteBook
from tastyguard.streaming.watching import watch_account

logger = logging.getLogger('tastyguard.streaming')

Publish = Callable[[Sequence[StreamEvent]], Awaitable[None]]
OnJobThread = Callable[..., Awaitable[Any]]
SetCandles = Callable[[Iterable[CandleSubscription]], Awaitable[None]]

_DAILY = CandlePeriod.parse('1d')
_MINUTE = CandlePeriod.parse('1m')


@dataclass(frozen=True)
class FollowSettings:
    """How often the follower re-reads and writes (the defaults suit one grant of a few accounts)."""

    rebuild_debounce_seconds: float = 1.0
    rebuild_every_seconds: float = 300.0
    mark_write_seconds: float = 5.0
    candle_timeout_seconds: float = 30.0
    fine_history_hours: float = 20.0


@dataclass
class FollowStats:
    """What the follower did (the bench, the health item and the tests read it)."""

    ticks: int = 0
    decisions: dict[str, int] = field(default_factory=dict)
    ratchets_published: int = 0
    ratchets_coalesced: int = 0
    marks_written: int = 0
    rebuilds: int = 0
    rebuild_failures: int = 0
    seeds: int = 0
    seed_failures: int = 0
    action_failures: int = 0


@dataclass
class _Seed:
    subscription: CandleSubscription
    watches: list[Watched]
    started: float
    after_ms: int
    highs: list[Decimal] = field(default_factory=list)
    lows: list[Decimal] = field(default_factory=list)


class PriceFollower:
    """Turns the streamer's quotes into protection that follows the price (see the module docstring)."""

    def __init__(
        self,
        ctx: JobContext,
        accounts: Sequence[str],
        on_job_thread: OnJobThread,
        publish: Publish,
        set_candles: SetCandles,
        *,
        settings: FollowSettings | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        flush_quotes: Callable[[], Awaitable[int]] | None = None,
        book: QuoteBook | None = None,
    ) -> None:
        self.ctx = ctx
        self.accounts = list(accounts)
        self._jobs = on_job_thread
        self._publish = publish
        self._set_candles = set_candles
        self.settings = settings or FollowSettings()
        self._monotonic = monotonic
        self._flush_quotes = flush_quotes  # the quote store the job reads must hold the quote that moved the mark
        self._book = book  # the latest quotes: a rebuilt or seeded watch is judged on them at once
        self.stats = FollowStats()
        self.watches: dict[str, list[Watched]] = {}
        self.structures: dict[str, list[WatchedStructure]] = {}  # alert-only structures, per account
        self._by_symbol: dict[str, list[Watched]] = {}
        self._structures_by_leg: dict[str, list[WatchedStructure]] = {}
        self._streamer_of: dict[str, str] = {}
        self._queue: asyncio.Queue[Decision] = asyncio.Queue()
        self._waiting: set[tuple[str, str]] = set()  # positions with a ratchet in the queue
        self._rebuild_at: dict[str, float] = dict.fromkeys(self.accounts, 0.0)  # due now
        self._marks_written_at = 0.0
        self._seeds: dict[str, _Seed] = {}
        self._seeded: set[tuple[str, bool, str]] = set()  # positions whose candle history was asked for
        self._window = timedelta(minutes=ctx.config.safety.window_minutes)

    # --- what the supervisor calls (on the event loop) -----------------------------------------------------
    def follow(self, symbols: dict[str, str]) -> None:
        """The DXLink symbol set changed (streamer symbol → position symbol)."""
        self._streamer_of = {symbol: streamer for streamer, symbol in symbols.items()}

    def rebuild_soon(self, account: str | None = None) -> None:
        """Re-read ``account`` (every account when None) after the debounce."""
        due = self._monotonic() + self.settings.rebuild_debounce_seconds
        for name in [account] if account is not None else self.accounts:
            if name in self._rebuild_at:
                self._rebuild_at[name] = min(self._rebuild_at[name], due)

    def on_quotes(self, changed: Iterable[str], book: QuoteBook) -> None:
        """Decide on every watched position whose quote changed."""
        self._book = book
        now = self.ctx.clock()
        structures: dict[int, WatchedStructure] = {}
        for symbol in changed:
            for structure in self._structures_by_leg.get(symbol, ()):
                structures[id(structure)] = structure
            watching = self._by_symbol.get(symbol)
            tick = _tick(book, symbol)
            if not watching or tick is None:
                continue
            self.stats.ticks += 1
            for watched in watching:
                for decision in decide(watched, tick, now, self._window):
                    self._enqueue(decision)
        for structure in structures.values():
            legs = {symbol: tick for symbol in structure.leg_symbols if (tick := _tick(book, symbol)) is not None}
            cross = decide_structure(structure, legs, now)
            if cross is not None:
                self._enqueue(cross)

    def on_candles(self, events: Sequence[FeedEvent]) -> None:
        """Take candle history for the seeds waiting on it."""
        finished: list[_Seed] = []
        for event in events:
            if not isinstance(event, Candle):
                continue
            pending = self._seeds.get(event.symbol)
            if pending is None:
                continue
            if not event.removed and event.time is not None and event.time >= pending.after_ms:
                if event.high is not None and event.high > 0:
                    pending.highs.append(event.high)
                if event.low is not None and event.low > 0:
                    pending.lows.append(event.low)
            if event.snapshot_end or event.removed:
                finished.append(pending)
        for pending in finished:
            self._finish_seed(pending)

    # --- the loop ------------------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Act on decisions in order; write marks, rebuild watches and time out seeds between them."""
        while not stop.is_set():
            try:
                decision = await asyncio.wait_for(self._queue.get(), timeout=0.25)
            except TimeoutError:
                decision = None
            if decision is not None:
                await self._act(decision)
            await self._housekeeping()
        await self._write_marks(force=True)

    async def _housekeeping(self) -> None:
        now = self._monotonic()
        for account, due in list(self._rebuild_at.items()):
            if due <= now:
                await self.rebuild(account)
        if now - self._marks_written_at >= self.settings.mark_write_seconds:
            await self._write_marks()
        for pending in [s for s in self._seeds.values() if now - s.started > self.settings.candle_timeout_seconds]:
            self.stats.seed_failures += 1
            logger.warning(
                'no candle history for %s within %.0f s; its mark starts from the live quotes',
                pending.subscription.candle_symbol,
                self.settings.candle_timeout_seconds,
            )
            self._seeds.pop(pending.subscription.candle_symbol, None)
            await self._resubscribe_candles()

    def _enqueue(self, decision: Decision) -> None:
        kind = type(decision).__name__
        self.stats.decisions[kind] = self.stats.decisions.get(kind, 0) + 1
        if isinstance(decision, MarkMoved):
            return  # written by _write_marks
        if isinstance(decision, Ratchet):
            key = (decision.watched.account, decision.watched.symbol)
            if key in self._waiting:
                self.stats.ratchets_coalesced += 1
                if decision.watched.moves:
                    decision.watched.moves.pop()  # the waiting ratchet carries this move: count it once
                return
            self._waiting.add(key)
        self._queue.put_nowait(decision)

    async def _act(self, decision: Decision) -> None:
        watched = decision.watched
        try:
            if isinstance(decision, Ratchet):
                self._waiting.discard((watched.account, watched.symbol))
                await self._ratchet(decision)
            elif isinstance(decision, SoftwareCross):
                await self._jobs(price_actions.act_on_software_stop, self.ctx, watched, decision.level, decision.price)
                self.rebuild_soon(watched.account)
            elif isinstance(decision, LevelCrossed):
                await self._jobs(price_actions.alert_level, self.ctx, watched, str(decision.level), decision.price)
            elif isinstance(decision, StopThrough):
                await self._jobs(price_actions.confirm_stop_through, self.ctx, watched, decision.stop, decision.price)
            elif isinstance(decision, StructureCross):
                await self._jobs(price_actions.alert_structure, self.ctx, decision.watched, decision.price)
        except Exception:
            self.stats.action_failures += 1
            logger.exception(
                '%s of %s %s failed; the scheduled runs cover it',
                type(decision).__name__,
                watched.account,
                watched.symbol,
            )

    async def _ratchet(self, decision: Ratchet) -> None:
        watched = decision.watched
        mark = watched.mark if watched.mark is not None else decision.mark  # the newest mark, not the decided one
        await self._jobs(price_actions.persist_mark, self.ctx, watched, mark)
        self.stats.marks_written += 1
        now = self.ctx.clock()
        event = StreamEvent(
            DetailType.STOP_RATCHET,
            watched.account,
            watched.symbol,
            event_id('ratchet', watched.account, watched.symbol, decision.trigger, now.isoformat(), uuid.uuid4().hex),
            now,
            extra={'mark': str(mark), 'trigger': str(decision.trigger)},
        )
        logger.info(
            'StopRatchet %s %s: mark %s, stop to %s',
            watched.account,
            watched.symbol,
            mark,
            decision.trigger,
            extra={'event_id': event.event_id},
        )
        if self._flush_quotes is not None:
            await self._flush_quotes()  # else the job judges the new stop against an older quote ("breached")
        await self._publish([event])
        self.stats.ratchets_published += 1
        self.rebuild_soon(watched.account)  # confirm what the broker now holds

    async def _write_marks(self, *, force: bool = False) -> None:
        self._marks_written_at = self._monotonic()
        dirty = [
            w
            for watching in self.watches.values()
            for w in watching
            if w.trails and w.mark is not None and w.mark != w.persisted_mark
        ]
        if not dirty:
            return

        def write() -> int:
            written = 0
            for watched in dirty:
                if watched.mark is not None:
                    price_actions.persist_mark(self.ctx, watched, watched.mark)
                    written += 1
            return written

        try:
            self.stats.marks_written += await self._jobs(write)
        except Exception as error:
            logger.warning('could not write %d marks: %s (retried%s)', len(dirty), error, '' if force else ' shortly')

    # --- watches -------------------------------------------------------------------------------------------
    async def rebuild(self, account: str) -> None:
        """Re-read ``account`` now (keeping what the old watches learned)."""
        self._rebuild_at[account] = self._monotonic() + self.settings.rebuild_every_seconds
        try:
            fresh, structures = await self._jobs(watch_account, self.ctx, account)
        except (BrokerError, Exception) as error:
            self.stats.rebuild_failures += 1
            self._rebuild_at[account] = self._monotonic() + max(5.0, self.settings.rebuild_debounce_seconds)
            logger.warning('could not read %s for the price follower: %s (retried in a few seconds)', account, error)
            return
        old = {_identity(w): w for w in self.watches.get(account, [])}
        for watched in fresh:
            before = old.get(_identity(watched))
            if before is not None:
                _carry(before, watched)
        self.watches[account] = fresh
        fired = {_shape_identity(s.shape) for s in self.structures.get(account, []) if s.fired}
        for structure in structures:
            structure.fired = _shape_identity(structure.shape) in fired
        self.structures[account] = structures
        self._index()
        self.stats.rebuilds += 1
        self._replay(fresh, structures)  # quotes that came before the watch (a restart, a new position) count now
        await self._start_seeds(fresh)

    def _replay(self, watching: Iterable[Watched], structures: Iterable[WatchedStructure] = ()) -> None:
        """Judge ``watching`` on the latest quotes the book holds (a stale one moves nothing: its age counts)."""
        if self._book is not None:
            symbols = {w.symbol for w in watching} | {leg for s in structures for leg in s.leg_symbols}
            self.on_quotes(symbols & set(self._book.latest), self._book)

    def _index(self) -> None:
        by_symbol: dict[str, list[Watched]] = {}
        for watching in self.watches.values():
            for watched in watching:
                by_symbol.setdefault(watched.symbol, []).append(watched)
        self._by_symbol = by_symbol
        by_leg: dict[str, list[WatchedStructure]] = {}
        for structures in self.structures.values():
            for structure in structures:
                for leg in structure.leg_symbols:
                    by_leg.setdefault(leg, []).append(structure)
        self._structures_by_leg = by_leg

    # --- seeds ---------------------------------------------------------------------------------------------
    async def _start_seeds(self, watching: Sequence[Watched]) -> None:
        now = self.ctx.clock()
        added = False
        for watched in watching:
            if not watched.trails or watched.opened_at is None or _identity(watched) in self._seeded:
                continue  # a stored mark is seeded too: the jobs saw only their own ticks, the candles every trade
            streamer = self._streamer_of.get(watched.symbol)
            if streamer is None:
                continue
            self._seeded.add(_identity(watched))
            opened = watched.opened_at
            fine = now - opened < timedelta(hours=self.settings.fine_history_hours)
            subscription = CandleSubscription(streamer, _MINUTE if fine else _DAILY, opened)
            pending = self._seeds.get(subscription.candle_symbol)
            if pending is not None:
                if watched not in pending.watches:
                    pending.watches.append(watched)
                continue
            after = int(opened.timestamp() * 1000)
            self._seeds[subscription.candle_symbol] = _Seed(subscription, [watched], self._monotonic(), after)
            added = True
        if added:
            await self._resubscribe_candles()

    def _finish_seed(self, pending: _Seed) -> None:
        self._seeds.pop(pending.subscription.candle_symbol, None)
        self.stats.seeds += 1
        for watched in pending.watches:
            values = pending.highs if watched.long else pending.lows
            if not values:
                continue
            extreme = max(values) if watched.long else min(values)
            moved = seed(watched, extreme)
            if moved is not None:
                logger.info(
                    '%s %s: mark seeded at %s from %s candles since it opened',
                    watched.account,
                    watched.symbol,
                    moved.mark,
                    pending.subscription.period,
                )
                self._enqueue(moved)
        self._marks_written_at = 0.0  # write the seeded marks at the next chance
        self._replay(pending.watches)  # the seeded mark gets its stop without waiting for the next quote
        asyncio.get_running_loop().create_task(self._resubscribe_candles())

    async def _resubscribe_candles(self) -> None:
        await self._set_candles([s.subscription for s in self._seeds.values()])

    @property
    def seeding(self) -> list[str]:
        """The candle symbols whose history is awaited."""
        return sorted(self._seeds)


def _tick(book: QuoteBook, symbol: str) -> Tick | None:
    """The book's latest quote of ``symbol`` as the decisions take it (None before the first)."""
    latest = book.latest.get(symbol)
    if latest is None:
        return None
    stamp = book.exchange_ms.get(symbol)
    return Tick(
        bid=latest.bid,
        ask=latest.ask,
        last=latest.last,
        received_at=latest.quoted_at,
        quoted_at=None if stamp is None else datetime.fromtimestamp(stamp / 1000, UTC),
    )


def _shape_identity(shape: StructureLevel) -> tuple[object, ...]:
    """The same structure across rebuilds: same legs and ratios, same entry (a changed structure is a new one)."""
    return (shape.legs, shape.entry)


def _identity(watched: Watched) -> tuple[str, bool, str]:
    opened = watched.opened_at.isoformat() if watched.opened_at is not None else str(watched.entry)
    return (watched.symbol, watched.long, opened)


def _carry(before: Watched, after: Watched) -> None:
    """What a rebuilt watch keeps from the one it replaces (the same position)."""
    if before.mark is not None and before.trails:
        if after.mark is None:
            after.mark = before.mark
        else:
            after.mark = max(after.mark, before.mark) if after.long else min(after.mark, before.mark)
        after.persisted_mark = after.persisted_mark if after.persisted_mark is not None else before.persisted_mark
    after.moves = before.moves
    # A software close that ended without closing the position (rejected, cancelled, expired) re-arms the stop: the
    # next crossing sends a new closing limit under a new identifier (price_actions._identifier)
    closing = before.policy.on_software_trigger is SoftwareTrigger.CLOSE_LIMIT
    after.software_fired = before.software_fired and (after.closing_ours or not closing)
    after.levels_fired = set(before.levels_fired)
    live = {stop.order_id for stop in after.stops}
    after.stops_fired = {order_id for order_id in before.stops_fired if order_id in live}
    if before.software_level is not None and after.software_level is not None:
        tighter = (
            before.software_level > after.software_level if after.long else before.software_level < after.software_level
        )
        if tighter:
            after.software_level = before.software_level
