"""How reasons write numbers, positions and orders (one style for every sentence the planner writes)."""

from __future__ import annotations

from decimal import Decimal

from tastyguard.engine.types import Holding, OrderType, WorkingOrder

_CENT = Decimal('0.01')
_FOUR_PLACES = Decimal('0.0001')


def qty(value: Decimal) -> str:
    """A quantity without trailing zeros: ``100``, ``0.5``."""
    return format(value.normalize(), 'f')


def money(value: Decimal) -> str:
    """A price as the tick table wrote it, never in exponent form: ``160.65``, ``5000``."""
    return format(value, 'f')


def approx(value: Decimal) -> str:
    """An unrounded price for a sentence: at most 4 decimals (``160.6950``, not ``160.69500000001``)."""
    exponent = value.as_tuple().exponent
    return money(value.quantize(_FOUR_PLACES)) if isinstance(exponent, int) and exponent < -4 else money(value)


def cents(value: Decimal) -> str:
    """A net price for a sentence with at least two decimals (``1.40``, not ``1.4``), at most four."""
    exponent = value.as_tuple().exponent
    return money(value.quantize(_CENT)) if isinstance(exponent, int) and exponent > -2 else approx(value)


def position(holding: Holding) -> str:
    """``AAPL long 100``."""
    return f'{holding.symbol} {"long" if holding.is_long else "short"} {qty(holding.size)}'


def stop_text(action: str, quantity: Decimal, order_type: OrderType, trigger: Decimal, limit: Decimal | None) -> str:
    """``Sell to Close 100 Stop @ 160.65`` or ``... Stop Limit @ 160.65 limit 159.04``."""
    text = f'{action} {qty(quantity)} {order_type} @ {money(trigger)}'
    return f'{text} limit {money(limit)}' if limit is not None else text


def order_text(order: WorkingOrder, symbol: str) -> str:
    """A working order as one phrase, from the view of ``symbol``'s leg: ``#42 Sell to Close 100 Limit @ 200``."""
    leg = next((leg for leg in order.legs if leg.symbol == symbol), order.legs[0])
    text = f'#{order.id} {leg.action} {qty(leg.remaining_quantity)} {order.order_type}'
    if order.stop_trigger is not None:
        text += f' @ {money(order.stop_trigger)}'
    if order.price is not None:
        text += f' limit {money(order.price)}' if order.order_type.is_stop else f' @ {money(order.price)}'
    if len(order.legs) > 1:
        text += f' ({len(order.legs)} legs)'
    return f'{text} [{order.status}]'
