"""tastyguard's own multi-leg orders that no structure stop claims: keep them (counted) or cancel them.

* One being cancelled or replaced already is kept and counted, never touched.
* One with a leg whose position is missing stays while that absence is unconfirmed (fewer than two reads),
  if it still fits the legs that are held; otherwise it is cancelled.
* One on a ``stop_limit`` structure whose own structure stop is being placed or kept is cancelled: that
  structure stop must be the only closing order of ours on its legs.
* Otherwise it is kept only while every leg is held, closes that leg, and fits next to the orders on the
  leg that stay (the person's closing orders, our pending single-leg orders, and earlier kept multi-legs).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from tastyguard.config.models import Severity
from tastyguard.engine.actions import Action, AlertKind, CancelOrder
from tastyguard.engine.context import Context
from tastyguard.engine.coverage import CANCELLABLE_STATUSES, Entry, closes, closing_quantity, sort_orders
from tastyguard.engine.orphans import ABSENT_READS_TO_CANCEL, absent_reads
from tastyguard.engine.settle import id_key
from tastyguard.engine.trigger import market_reference
from tastyguard.engine.types import Holding, WorkingOrder
from tastyguard.engine.wording import order_text

_ZERO = Decimal(0)


def staying_quantity(ctx: Context, holding: Holding, index: Mapping[str, Sequence[Entry]]) -> Decimal:
    """Closing quantity on ``holding`` that stays whatever we do: the person's, and our pending single legs."""
    market = market_reference(ctx.inputs.quotes.get(holding.symbol), holding.is_long)
    book = sort_orders(index.get(holding.symbol, ()), holding.is_long, market.price if market else None, frozenset())
    return closing_quantity(book.others)


def settle_multi_leg(
    ctx: Context,
    orders: Iterable[WorkingOrder],
    held: Mapping[str, Holding],
    index: Mapping[str, Sequence[Entry]],
    exclusive: frozenset[str],
) -> tuple[list[Action], set[str]]:
    """Cancel or keep our unclaimed multi-leg orders (see the module docstring); returns actions, kept ids.

    ``exclusive`` holds the leg symbols of structures whose structure stop is placed or kept in this plan.
    """
    ordered = sorted(orders, key=lambda o: (o.status in CANCELLABLE_STATUSES, id_key(o.id)))
    used: dict[str, Decimal] = {}
    actions: list[Action] = []
    kept: set[str] = set()

    def base(holding: Holding) -> Decimal:
        if holding.symbol not in used:
            used[holding.symbol] = staying_quantity(ctx, holding, index)
        return used[holding.symbol]

    def fits(order: WorkingOrder) -> bool:
        return all(
            closes(leg.action, holding.is_long) and base(holding) + leg.remaining_quantity <= holding.size
            for leg in order.legs
            if (holding := held.get(leg.symbol)) is not None
        )

    def take(order: WorkingOrder) -> None:
        kept.add(order.id)
        for leg in order.legs:
            if (holding := held.get(leg.symbol)) is not None:
                used[leg.symbol] = base(holding) + leg.remaining_quantity

    for order in ordered:
        first = order.legs[0].symbol
        missing = [leg.symbol for leg in order.legs if leg.symbol not in held]
        pending = bool(missing) and min(absent_reads(ctx, s) for s in missing) < ABSENT_READS_TO_CANCEL
        if order.status not in CANCELLABLE_STATUSES:
            take(order)
        elif pending and fits(order):
            take(order)
            text = (
                f'{first}: a leg of our multi-leg stop #{order.id} is missing from this read; it stays until confirmed'
            )
            actions.append(ctx.alert(AlertKind.PENDING_ABSENCE, Severity.INFO, first, text))
        elif not missing and not {leg.symbol for leg in order.legs} & exclusive and fits(order):
            take(order)
        else:
            why = 'a leg position is gone' if missing else 'it no longer matches the positions'
            actions.append(CancelOrder(order.id, first, f'{first}: {why}; cancelling our {order_text(order, first)}'))
    return actions, kept
