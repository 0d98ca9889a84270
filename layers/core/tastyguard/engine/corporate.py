"""Corporate actions (pure): a split makes every pre-split stop of tastyguard's wrong in quantity *and* price.

A split by ratio *r* multiplies a position's quantity by *r* and divides its prices by *r* without a trade. The
ordinary planner would resize our stop to the new quantity and, since triggers only ever tighten, keep its
pre-split trigger — a sell stop at twice the new market sells the whole position at the open. So on a split
symbol every working single-leg stop of ours received before the split is **cancelled**, and the position is
planned as if it had no stop of ours: the new stop is derived from scratch (the new quantity, the new average
open price, the current market), whatever the broker did to the old one (adjusted, cancelled or left as it was).
One exception saves two writes and the moment between them without a stop: when the broker adjusted our stop
(FINRA 5330) to exactly the stop derived from scratch (same side, size, type, prices and time in force), it is
kept.

The person's orders are never touched; :func:`review` says which of them look wrong after the split (still at
pre-split prices, through the market, or sized for the old quantity) so the message can tell them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

from tastyguard.engine.actions import Action, CancelOrder, PlaceStop, Plan, Report
from tastyguard.engine.coverage import CANCELLABLE_STATUSES, REPLACEABLE_STATUSES, counts_for_coverage
from tastyguard.engine.planner import plan
from tastyguard.engine.trigger import market_reference
from tastyguard.engine.types import Holding, PlanInputs, QuoteView, WorkingOrder
from tastyguard.engine.wording import money, order_text, qty

_ZERO = Decimal(0)
_CENT = Decimal('0.01')


def _price(value: Decimal) -> str:
    """A price with at least two decimals: ``118.00``, ``0.0525``."""
    exponent = value.as_tuple().exponent
    return money(value.quantize(_CENT) if isinstance(exponent, int) and exponent > -2 else value)


@dataclass(frozen=True, slots=True)
class Split:
    """A split of ``symbol`` by ``ratio`` (new shares per old share) that took effect at ``effective_at``."""

    symbol: str
    ratio: Fraction
    effective_at: datetime

    @property
    def label(self) -> str:
        """``2:1`` or ``1:10``."""
        return f'{self.ratio.numerator}:{self.ratio.denominator}'

    @property
    def factor(self) -> Decimal:
        """The ratio as a decimal."""
        return Decimal(self.ratio.numerator) / Decimal(self.ratio.denominator)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def pre_split_orders(inputs: PlanInputs, splits: Sequence[Split]) -> list[tuple[WorkingOrder, Split]]:
    """tastyguard's cancellable single-leg orders on a split symbol that were received before a split of it, each
    with the first split it predates."""
    by_symbol: dict[str, list[Split]] = {}
    for split in sorted(splits, key=lambda s: s.effective_at):
        by_symbol.setdefault(split.symbol, []).append(split)
    found: list[tuple[WorkingOrder, Split]] = []
    for order in inputs.orders:
        if not order.is_ours or len(order.legs) != 1 or order.status not in CANCELLABLE_STATUSES:
            continue
        received = _aware(order.received_at)
        later = [s for s in by_symbol.get(order.legs[0].symbol, ()) if received is None or received < s.effective_at]
        if later:
            found.append((order, later[0]))
    return found


def plan_with_splits(inputs: PlanInputs, splits: Sequence[Split]) -> Plan:
    """:func:`~tastyguard.engine.planner.plan`, with every pre-split stop of ours cancelled and re-derived.

    Without splits (or without pre-split orders of ours) this is exactly ``plan(inputs)``. The coverage the
    plan reports for now still counts the cancelled stops (they are at the broker until the cancel lands).
    """
    stale = pre_split_orders(inputs, splits)
    if not stale:
        return plan(inputs)
    stale_ids = {order.id for order, _ in stale}
    result = plan(replace(inputs, orders=[o for o in inputs.orders if o.id not in stale_ids]))
    actions = list(result.actions)
    decided: list[Action] = []
    held: dict[str, Decimal] = {}
    stale_on = Counter(order.legs[0].symbol for order, _ in stale)
    for order, split in stale:
        symbol = order.legs[0].symbol
        if counts_for_coverage(order):
            held[symbol] = held.get(symbol, _ZERO) + order.legs[0].remaining_quantity
        same = _same_place(order, actions, stale_on[symbol])
        if same is not None:  # the broker adjusted it to exactly the stop derived from scratch: keep it
            actions.remove(same)
            text = (
                f'{symbol}: {split.label} split: the broker adjusted our stop to {order_text(order, symbol)}, '
                'exactly the stop derived again from scratch (the new quantity and price); kept'
            )
            decided.append(Report(order.id, symbol, text))
            continue
        text = (
            f'{symbol}: {split.label} split: our {order_text(order, symbol)} was set for the pre-split position; '
            'cancelling it so the stop is derived again from scratch (the new quantity and price)'
        )
        decided.append(CancelOrder(order.id, symbol, text))
    coverage = tuple(
        replace(c, protected_now=c.protected_now + held[c.symbol]) if c.symbol in held else c for c in result.coverage
    )
    return Plan(result.account_number, result.salt, (*decided, *actions), coverage)


def _same_place(order: WorkingOrder, actions: Sequence[Action], stale_on_symbol: int) -> PlaceStop | None:
    """The plan's one new stop for ``order``'s symbol when it is exactly ``order`` (side, size, type, prices,
    time in force), else None. Only for a symbol with one stale order of ours and one new stop planned."""
    leg = order.legs[0]
    places = [a for a in actions if isinstance(a, PlaceStop) and a.symbol == leg.symbol]
    if stale_on_symbol != 1 or len(places) != 1 or len(places[0].spec.legs) != 1:
        return None
    spec = places[0].spec
    planned = spec.legs[0]
    same = (
        order.status in REPLACEABLE_STATUSES
        and planned.symbol == leg.symbol
        and planned.action == leg.action
        and planned.quantity == leg.remaining_quantity == leg.quantity
        and spec.order_type == order.order_type
        and spec.stop_trigger == order.stop_trigger
        and spec.limit_price == order.price
        and spec.time_in_force == order.time_in_force
    )
    return places[0] if same else None


def review(split: Split, order: WorkingOrder, holding: Holding | None, quote: QuoteView | None) -> str | None:
    """Why the person's working ``order`` on a split symbol looks wrong now (None when it looks fine).

    Wrong: a stop already through the market or a limit that would fill at once; a price nearer the market scaled
    back to pre-split than to the market itself (never adjusted); a closing stop sized for the pre-split
    quantity.
    """
    leg = next((leg for leg in order.legs if leg.symbol == split.symbol), None)
    if leg is None or order.is_ours:
        return None
    buy = leg.action.is_buy
    market = market_reference(quote, not buy)
    price = order.stop_trigger if order.order_type.is_stop else order.price
    problems: list[str] = []
    if price is not None and market is not None:
        if order.order_type.is_stop:
            through = price <= market.price if buy else price >= market.price
            if through:
                problems.append(f'it is through the {market.label} {_price(market.price)} and would trigger at once')
        else:
            marketable = price >= market.price if buy else price <= market.price
            if marketable:
                problems.append(f'it would fill at once against the {market.label} {_price(market.price)}')
        pre_split_market = market.price * split.factor
        if abs(price - pre_split_market) < abs(price - market.price):
            adjusted = price / split.factor
            problems.append(f'its price looks unadjusted ({split.label} makes {_price(price)} about {adjusted:.2f})')
    if holding is not None and order.order_type.is_stop and leg.action.value.endswith('to Close'):
        if leg.remaining_quantity > holding.size:
            problems.append(f'it is for {qty(leg.remaining_quantity)}, more than the {qty(holding.size)} held now')
        elif leg.remaining_quantity * split.factor == holding.size and split.factor > 1:
            problems.append(f'it covers {qty(leg.remaining_quantity)} of the {qty(holding.size)} held now')
    if not problems:
        return None
    return f"the person's {order_text(order, split.symbol)} looks wrong after the split: {'; '.join(problems)}"
