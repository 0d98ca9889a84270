"""Protection that follows the price: what the streamer decides on every quote (pure; no I/O).

For each watched position (:class:`Watched`, built from a REST read by :mod:`tastyguard.streaming.watching`):

* **Trailing stops** (``basis: high_water``): a valid, fresh quote moves the high-water mark in the favourable
  direction only (up for a long, down for a short), by the policy's ``trail_price`` (the bid for a long, the ask
  for a short, by default). When the stop the policy derives from the new mark is tighter than the working
  stop by at least ``trail_min_step`` and fewer than ``trail_max_moves`` moves happened in the window, the
  decision is a :class:`Ratchet`: persist the mark, then run the symbol-scoped ``ensure_stops``, which replaces
  the stop (price only) through the executor and the intent log, under the account lease. A ``"NaN"`` (missing)
  price, a zero or missing side and a crossed quote never move a mark, nor does a quote older than
  ``trail_quote_max_age_seconds``.
* **Software stops** (a level the broker holds no stop for: futures options): the first valid quote at or
  through the level is a :class:`SoftwareCross` (once per position; the job confirms with a REST quote).
  An alert-only option structure (:class:`WatchedStructure`) is judged on its natural closing price per unit,
  from every leg's latest quote (all of them valid and fresh, else no decision): reaching its level is a
  :class:`StructureCross` (once per structure; the job confirms with REST quotes).
* **Price alerts** (``price_alerts``): the first crossing of each level is a :class:`LevelCrossed`.
* **Stops through the market**: a working broker stop (anyone's) whose trigger the market is already through is
  a :class:`StopThrough` (once per order): it triggered and has not filled (a gap, a closed market).

Every decision is taken at most once until the watch is rebuilt (after a fill, a catch-up or a job's result).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from tastyguard.config.effective import EffectivePolicy
from tastyguard.config.levels import PriceLevel
from tastyguard.config.policy import Basis
from tastyguard.engine.settle import improves
from tastyguard.engine.spread_stop import StructureLevel, natural_price
from tastyguard.engine.trigger import NoStop, StopPrice, compute_stop, stop_level, trail_reference
from tastyguard.engine.types import InstrumentType, QuoteView
from tastyguard.ticks import TickLike

_OPTIONS = frozenset({InstrumentType.EQUITY_OPTION})


@dataclass(frozen=True)
class BrokerStop:
    """A working closing stop at the broker (anyone's)."""

    order_id: str
    trigger: Decimal
    sells: bool
    ours: bool


@dataclass
class Watched:
    """One position the streamer watches, as the last REST read saw it (mutable: marks and flags move)."""

    account: str
    symbol: str
    instrument_type: InstrumentType
    long: bool
    quantity: Decimal
    entry: Decimal
    opened_at: datetime | None
    policy: EffectivePolicy
    ticks: tuple[TickLike, ...] | None
    our_stop: Decimal | None = None  # the trigger of our working single-leg stop
    stops: tuple[BrokerStop, ...] = ()
    mark: Decimal | None = None  # the high-water mark (a trailing policy), as stored
    software_level: Decimal | None = None  # set for a position the broker holds no stop for
    moves: deque[datetime] = field(default_factory=deque)  # our ratchets within the window
    persisted_mark: Decimal | None = None
    software_fired: bool = False
    closing_ours: bool = False  # a closing order of ours works on it (a software stop's closing limit)
    levels_fired: set[str] = field(default_factory=set)
    stops_fired: set[str] = field(default_factory=set)

    @property
    def trails(self) -> bool:
        """Whether the policy trails (``basis: high_water``)."""
        return self.policy.basis is Basis.HIGH_WATER


@dataclass(frozen=True)
class Ratchet:
    """Move ``watched``'s stop: persist ``mark``, then run ``ensure_stops`` for the position."""

    watched: Watched
    mark: Decimal
    trigger: Decimal
    price: Decimal


@dataclass(frozen=True)
class MarkMoved:
    """The mark moved (not enough for a stop move): persist it so a restart continues from it."""

    watched: Watched
    mark: Decimal


@dataclass(frozen=True)
class SoftwareCross:
    """The market reached a software stop's level."""

    watched: Watched
    level: Decimal
    price: Decimal


@dataclass(frozen=True)
class LevelCrossed:
    """The market crossed a price-alert level."""

    watched: Watched
    level: PriceLevel
    price: Decimal


@dataclass(frozen=True)
class StopThrough:
    """A working broker stop is through the market and has not filled."""

    watched: Watched
    stop: BrokerStop
    price: Decimal


@dataclass
class WatchedStructure:
    """An alert-only option structure whose software stop the streamer watches (see :class:`StructureLevel`)."""

    account: str
    shape: StructureLevel
    policy: EffectivePolicy
    fired: bool = False

    @property
    def symbol(self) -> str:
        """The structure's name in messages and logs: its underlying."""
        return self.shape.underlying

    @property
    def leg_symbols(self) -> tuple[str, ...]:
        """The legs' symbols."""
        return tuple(symbol for symbol, _, _ in self.shape.legs)


@dataclass(frozen=True)
class StructureCross:
    """The natural closing price of a watched structure reached its software stop."""

    watched: WatchedStructure
    level: Decimal
    price: Decimal


Decision = Ratchet | MarkMoved | SoftwareCross | LevelCrossed | StopThrough | StructureCross


@dataclass(frozen=True)
class Tick:
    """One quote as the streamer received it (``None`` for a missing or ``"NaN"`` price)."""

    bid: Decimal | None
    ask: Decimal | None
    last: Decimal | None
    received_at: datetime
    quoted_at: datetime | None = None  # the exchange time of the quote, when the feed sent one

    def view(self, symbol: str) -> QuoteView:
        """As the planner sees a quote."""
        mid = (self.bid + self.ask) / 2 if self.bid is not None and self.ask is not None else None
        return QuoteView(symbol, self.bid, self.ask, self.last, mid)


def decide(watched: Watched, tick: Tick, now: datetime, window: timedelta) -> list[Decision]:
    """Everything one quote means for one watched position (see the module docstring)."""
    decisions: list[Decision] = []
    quote = tick.view(watched.symbol)
    if watched.trails:
        decisions.extend(_trail(watched, tick, quote, now, window))
    software = _software(watched, quote)
    if software is not None:
        decisions.append(software)
    decisions.extend(_levels(watched, quote))
    decisions.extend(_through(watched, quote))
    return decisions


def _trail(watched: Watched, tick: Tick, quote: QuoteView, now: datetime, window: timedelta) -> Iterable[Decision]:
    policy = watched.policy
    age = now - (tick.quoted_at or tick.received_at)
    if age > timedelta(seconds=policy.trail_quote_max_age_seconds):
        return []  # stale: a quote that old never moves a mark
    price = trail_reference(quote, watched.long, policy.trail_price)
    if price is None:
        return []
    decisions: list[Decision] = []
    before = watched.mark
    mark = price if before is None else (max(before, price) if watched.long else min(before, price))
    if mark != before:
        watched.mark = mark
        decisions.append(MarkMoved(watched, mark))
    ratchet = _ratchet(watched, quote, now, window)
    if ratchet is not None:
        decisions.append(ratchet)
    return decisions


def seed(watched: Watched, extreme: Decimal) -> MarkMoved | None:
    """Raise the mark to a price the position saw before it was watched (candle history); None if no move."""
    before = watched.mark
    mark = extreme if before is None else (max(before, extreme) if watched.long else min(before, extreme))
    if mark == before or mark <= 0:
        return None
    watched.mark = mark
    return MarkMoved(watched, mark)


def _ratchet(watched: Watched, quote: QuoteView, now: datetime, window: timedelta) -> Ratchet | None:
    """The stop the mark asks for, when it is tighter than ours by the minimum step and moves are left.

    Evaluated on every valid fresh quote (not only on a new mark): a mark seeded from candles or read back
    after a restart gets its stop on the next quote, and a move held back by the window's limit is retried.
    """
    mark = watched.mark
    if mark is None or watched.our_stop is None or watched.ticks is None:
        return None
    while watched.moves and now - watched.moves[0] >= window:
        watched.moves.popleft()
    policy = watched.policy
    stop = compute_stop(
        policy,
        long=watched.long,
        option=watched.instrument_type in _OPTIONS,
        entry=watched.entry,
        quote=quote,
        ticks=watched.ticks,
        high_water=mark,
    )
    if not isinstance(stop, StopPrice) or not improves(stop.trigger, watched.our_stop, policy, watched.long):
        return None
    if len(watched.moves) >= policy.trail_max_moves:
        return None  # the window's moves are used: the next window moves it
    watched.moves.append(now)
    watched.our_stop = stop.trigger  # what the job will send; the next REST read confirms it
    price = trail_reference(quote, watched.long, policy.trail_price) or mark
    return Ratchet(watched, mark, stop.trigger, price)


def _software(watched: Watched, quote: QuoteView) -> SoftwareCross | None:
    level = watched.software_level
    if level is None or watched.software_fired:
        return None
    if watched.trails and watched.mark is not None:  # a trailing software stop follows its mark too
        moved = stop_level(
            watched.policy,
            long=watched.long,
            option=True,
            entry=watched.entry,
            mark=None,
            high_water=watched.mark,
        )
        if not isinstance(moved, NoStop) and moved[0] > 0 and (moved[0] > level if watched.long else moved[0] < level):
            watched.software_level = level = moved[0]
    price = _exit_price(quote, watched.long)
    if price is None or not (price <= level if watched.long else price >= level):
        return None
    watched.software_fired = True
    return SoftwareCross(watched, level, price)


def _exit_price(quote: QuoteView, long: bool) -> Decimal | None:
    """The price the position could be closed at now: the bid for a long, the ask for a short (sane books only)."""
    bid, ask = quote.bid, quote.ask
    if bid is not None and ask is not None and (bid <= 0 or ask <= 0 or bid > ask):
        return None
    value = bid if long else ask
    return value if value is not None and value > 0 else None


def _levels(watched: Watched, quote: QuoteView) -> Iterable[Decision]:
    if not watched.policy.price_alerts:
        return []
    price = quote.mark or quote.last
    if price is None or price <= 0 or (quote.bid and quote.ask and quote.bid > quote.ask):
        return []
    found: list[Decision] = []
    for level in watched.policy.price_alerts:
        key = str(level)
        if key not in watched.levels_fired and level.crossed(price, watched.entry):
            watched.levels_fired.add(key)
            found.append(LevelCrossed(watched, level, price))
    return found


def _through(watched: Watched, quote: QuoteView) -> Iterable[Decision]:
    found: list[Decision] = []
    for stop in watched.stops:
        if stop.order_id in watched.stops_fired:
            continue
        price = _exit_price(quote, stop.sells)
        if price is not None and (price <= stop.trigger if stop.sells else price >= stop.trigger):
            watched.stops_fired.add(stop.order_id)
            found.append(StopThrough(watched, stop, price))
    return found


def decide_structure(structure: WatchedStructure, ticks: Mapping[str, Tick], now: datetime) -> StructureCross | None:
    """What the legs' latest quotes mean for an alert-only structure (every leg quote valid and fresh)."""
    if structure.fired:
        return None
    limit = timedelta(seconds=structure.policy.trail_quote_max_age_seconds)
    views: dict[str, QuoteView] = {}
    for symbol in structure.leg_symbols:
        tick = ticks.get(symbol)
        if tick is None or now - (tick.quoted_at or tick.received_at) > limit:
            return None  # one stale leg could make the net look through the level when it is not
        views[symbol] = tick.view(symbol)
    price = natural_price(structure.shape, views)
    level = structure.shape.level
    if price is None or price <= 0 or not (price <= level if structure.shape.debit else price >= level):
        return None
    structure.fired = True
    return StructureCross(structure, level, price)
