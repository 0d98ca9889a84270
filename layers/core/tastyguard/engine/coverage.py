"""Coverage and closing-quantity accounting for one position.

Two numbers matter for a position of size ``q`` and its closing side (Sell to Close for a long, Buy to
Close for a short):

* **coverage**: the remaining quantity of working closing *stop* orders (Stop, Stop Limit; the person's and
  tastyguard's) in a status that stays working: :data:`COVERAGE_STATUSES`;
* **closing quantity** (the cap): the remaining quantity of *all* working closing orders (stops and limits,
  anyone's) in any status that may still fill: :data:`CAP_STATUSES`. It must never exceed ``q``.

Orders that cancel each other count once (the largest): the children of one OCO, and the old and new order
of a cancel-replace in progress. Children of an OTO/OTOCO that still wait for their trigger order count for
neither: they cannot fill before their entry does, and then the position they protect exists.

A stop limit of ours that the market went through (it triggered, and its limit rests unfilled) may still fill,
so it counts for the cap, but it protects nothing below its limit, so it is not coverage: the planner resizes
or re-places it (:mod:`tastyguard.engine.settle`) and tells the person.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from tastyguard.engine.types import (
    Holding,
    InstrumentType,
    OrderAction,
    OrderLeg,
    OrderStatus,
    OrderType,
    WorkingOrder,
)

CAP_STATUSES = frozenset(
    {
        OrderStatus.RECEIVED,
        OrderStatus.ROUTED,
        OrderStatus.IN_FLIGHT,
        OrderStatus.LIVE,
        OrderStatus.CONTINGENT,
        OrderStatus.CANCEL_REQUESTED,
        OrderStatus.REPLACE_REQUESTED,
    }
)
"""Statuses in which an order may still fill: they count against the closing cap."""

COVERAGE_STATUSES = CAP_STATUSES - {OrderStatus.CANCEL_REQUESTED, OrderStatus.REPLACE_REQUESTED}
"""Statuses of a stop that will stay working (an order being cancelled or replaced protects nothing for
long; a replacement starts ``Contingent`` and counts). Children of an OTO/OTOCO that wait for their trigger
order (``Contingent`` with an ``OTO::``/``OTOCO::`` tag) do not count: they protect a position not yet held."""

REPLACEABLE_STATUSES = frozenset({OrderStatus.RECEIVED, OrderStatus.ROUTED, OrderStatus.IN_FLIGHT, OrderStatus.LIVE})
"""tastyguard replaces (resizes, moves) its own stops only in these statuses."""

CANCELLABLE_STATUSES = REPLACEABLE_STATUSES | {OrderStatus.CONTINGENT}
"""tastyguard cancels its own orders only in these statuses (never one already being cancelled or replaced)."""

_ZERO = Decimal(0)
_OCO_TAGS = ('OCO::', 'OTOCO::oco')
_WAITING_TAGS = ('OTO::', 'OTOCO::')

Entry = tuple[WorkingOrder, OrderLeg]
"""An order seen from one of its legs."""


def closing_action(long: bool) -> OrderAction:
    """The action that closes a long (Sell to Close) or a short (Buy to Close)."""
    return OrderAction.SELL_TO_CLOSE if long else OrderAction.BUY_TO_CLOSE


def closes(action: OrderAction, long: bool) -> bool:
    """True when ``action`` reduces a position of that direction (outright futures Buy/Sell included)."""
    if long:
        return action in (OrderAction.SELL_TO_CLOSE, OrderAction.SELL)
    return action in (OrderAction.BUY_TO_CLOSE, OrderAction.BUY)


def waits_for_trigger(order: WorkingOrder) -> bool:
    """True for a child of an OTO/OTOCO whose trigger (entry) order has not filled yet."""
    return order.status is OrderStatus.CONTINGENT and (order.complex_order_tag or '').startswith(_WAITING_TAGS)


def counts_for_coverage(order: WorkingOrder) -> bool:
    """True for a stop that protects now and will stay working (see :data:`COVERAGE_STATUSES`)."""
    if not order.order_type.is_stop or order.status not in COVERAGE_STATUSES:
        return False
    return not waits_for_trigger(order)


def _group(order: WorkingOrder) -> str:
    """Orders with the same group key cancel each other: only the largest can fill."""
    if order.complex_order_id and (order.complex_order_tag or '').startswith(_OCO_TAGS):
        return f'oco:{order.complex_order_id}'
    if order.replaces_order_id:
        return f'replace:{order.replaces_order_id}'
    return f'replace:{order.id}'


def closing_quantity(entries: Iterable[Entry]) -> Decimal:
    """The remaining quantity that may still fill, counting mutually exclusive orders once."""
    groups: dict[str, Decimal] = defaultdict(Decimal)
    for order, leg in entries:
        key = _group(order)
        groups[key] = max(groups[key], leg.remaining_quantity)
    return sum(groups.values(), _ZERO)


def stop_coverage(entries: Iterable[Entry]) -> Decimal:
    """The remaining quantity of the stops among ``entries`` that count for coverage."""
    return sum((leg.remaining_quantity for order, leg in entries if counts_for_coverage(order)), _ZERO)


def stop_quantity(holding: Holding) -> Decimal:
    """The quantity a stop can carry: whole units, except crypto (fractional shares take no stop orders)."""
    if holding.instrument_type is InstrumentType.CRYPTO:
        return holding.size
    return Decimal(int(holding.size))


@dataclass(frozen=True, slots=True)
class Book:
    """The orders on one position, sorted out for its current direction."""

    human_closing: tuple[Entry, ...]
    """The person's closing orders that may still fill (the cap)."""
    human_other: tuple[Entry, ...]
    """The person's other orders on the symbol (opening, wrong side): reported only."""
    human_waiting: tuple[Entry, ...]
    """The person's OTO/OTOCO children waiting for their entry to fill: reported only, counted nowhere."""
    own_active: tuple[Entry, ...]
    """tastyguard's single-leg closing stops on the right side that it may resize or cancel."""
    own_triggered: tuple[Entry, ...]
    """tastyguard's stop limits the market went through (their limit rests unfilled): not coverage; they
    may be resized or re-placed like ``own_active``."""
    own_fixed: tuple[Entry, ...]
    """tastyguard's closing orders that it leaves as they are but counts (pending, triggering, multi-leg)."""
    own_wrong: tuple[WorkingOrder, ...]
    """tastyguard's orders that no longer fit the position (wrong side, opening): to cancel."""

    @property
    def others(self) -> tuple[Entry, ...]:
        """Every closing order tastyguard will not change in this plan."""
        return self.human_closing + self.own_fixed

    @property
    def own_changeable(self) -> tuple[Entry, ...]:
        """Our single-leg stops that this plan may resize, move or cancel (triggered ones included)."""
        return self.own_active + self.own_triggered


def sort_orders(entries: Sequence[Entry], long: bool, market: Decimal | None, keep_multi_leg: frozenset[str]) -> Book:
    """Sort the working orders on one position (see :class:`Book`).

    ``market`` is the price a stop would trigger at (the bid for a long, the ask for a short). A plain stop of
    ours already through it is triggering (it fills like a market order now) and is left alone; a stop limit
    of ours through it rests as an unfilled limit (``own_triggered``). ``keep_multi_leg`` holds the ids of our
    multi-leg orders that the structure planner keeps (any other multi-leg order of ours is handled there).
    """
    human_closing: list[Entry] = []
    human_other: list[Entry] = []
    human_waiting: list[Entry] = []
    active: list[Entry] = []
    triggered: list[Entry] = []
    fixed: list[Entry] = []
    wrong: list[WorkingOrder] = []
    for order, leg in entries:
        if order.status not in CAP_STATUSES:
            continue
        closing = closes(leg.action, long)
        if not order.is_ours:
            if waits_for_trigger(order):
                human_waiting.append((order, leg))
            else:
                (human_closing if closing else human_other).append((order, leg))
        elif len(order.legs) > 1:
            if order.id in keep_multi_leg and closing:
                fixed.append((order, leg))
        elif not closing or order.status not in REPLACEABLE_STATUSES or not order.order_type.is_stop:
            if not closing and order.status in CANCELLABLE_STATUSES:
                wrong.append(order)
            elif closing:
                fixed.append((order, leg))
        elif market is not None and order.stop_trigger is not None and _through(order.stop_trigger, market, long):
            (triggered if order.order_type is OrderType.STOP_LIMIT else fixed).append((order, leg))
        else:
            active.append((order, leg))
    return Book(
        tuple(human_closing),
        tuple(human_other),
        tuple(human_waiting),
        tuple(active),
        tuple(triggered),
        tuple(fixed),
        tuple(wrong),
    )


def _through(trigger: Decimal, market: Decimal, long: bool) -> bool:
    """A long's sell stop at or above the bid (a short's buy stop at or below the ask) is triggering."""
    return trigger >= market if long else trigger <= market


@dataclass(frozen=True, slots=True)
class Tally:
    """The quantities that decide our stop's size on one position."""

    size: Decimal
    """The position's unsigned quantity."""
    need: Decimal
    """What stops can cover (``size`` in whole units, see :func:`stop_quantity`)."""
    human_cap: Decimal
    """The person's closing quantity that may still fill."""
    human_limits: Decimal
    """The part of ``human_cap`` that is not a covering stop (take-profit limits and the like)."""
    others_cap: Decimal
    """Closing quantity that may still fill, of every order tastyguard will not change now."""
    others_cov: Decimal
    """Coverage by every stop tastyguard will not change now (the person's and our fixed ones)."""
    own_active: Decimal
    """The remaining quantity of our own stops that we may resize or cancel (triggered ones included)."""

    @property
    def room(self) -> Decimal:
        """How much closing quantity our stop may add without exceeding the position."""
        return max(_ZERO, self.size - self.others_cap)

    @property
    def want(self) -> Decimal:
        """How much is not yet covered by stops we leave alone."""
        return max(_ZERO, self.need - self.others_cov)


def tally(book: Book, holding: Holding) -> Tally:
    """Count ``book`` for ``holding``."""
    human_cap = closing_quantity(book.human_closing)
    return Tally(
        size=holding.size,
        need=stop_quantity(holding),
        human_cap=human_cap,
        human_limits=max(_ZERO, human_cap - stop_coverage(book.human_closing)),
        others_cap=closing_quantity(book.others),
        others_cov=stop_coverage(book.others),
        own_active=sum((leg.remaining_quantity for _, leg in book.own_changeable), _ZERO),
    )
