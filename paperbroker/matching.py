"""When does an order trigger and fill, and at what prices.

* Legs execute at the touch: buys at the ask, sells at the bid (the last trade when that side is missing).
* A sell stop triggers when the bid (else last) is at or below ``stop-trigger``; a buy stop when the ask (else
  last) is at or above it. Multi-leg stop limits compare the natural net price of the spread.
* A triggered Stop fills like a market order; a triggered Stop Limit is a limit order at ``price``.
* A limit order fills when its natural net price is at or better than its limit.
"""

from __future__ import annotations

from decimal import Decimal

from paperbroker.model import BrokerState, Leg, Order


def leg_price(state: BrokerState, leg: Leg) -> Decimal | None:
    """The price a leg would execute at now, or None without a usable quote."""
    quote = state.quotes.get(leg.symbol)
    if quote is None:
        return None
    side = quote.ask if leg.is_buy else quote.bid
    return side if side is not None else quote.last


def leg_prices(state: BrokerState, order: Order) -> list[Decimal] | None:
    """Execution prices for every leg, or None if any leg has no market."""
    prices = [leg_price(state, leg) for leg in order.legs]
    if any(p is None for p in prices):
        return None
    return [p for p in prices if p is not None]


def net_credit(order: Order, prices: list[Decimal]) -> Decimal:
    """The natural net price per unit of ``size``: positive = credit received, negative = debit paid."""
    total = Decimal(0)
    for leg, price in zip(order.legs, prices, strict=True):
        ratio = leg.quantity / order.size if order.size else Decimal(1)
        total += price * ratio * (-1 if leg.is_buy else 1)
    return total


def sells(order: Order) -> bool:
    """Whether the order is on the selling side (single sell leg, or a spread for a credit)."""
    if len(order.legs) == 1 or order.price_effect is None:
        return not order.legs[0].is_buy
    return order.price_effect == 'Credit'


def stop_triggered(order: Order, prices: list[Decimal]) -> bool:
    """Whether the market has crossed the order's ``stop-trigger``."""
    if order.stop_trigger is None:
        return False
    natural = net_credit(order, prices)
    if sells(order):
        return natural <= order.stop_trigger
    return -natural >= order.stop_trigger


def marketable(order: Order, prices: list[Decimal]) -> bool:
    """Whether a limit-priced order can execute at these prices."""
    if order.price is None:
        return True
    natural = net_credit(order, prices)
    if order.price_effect == 'Credit':
        return natural >= order.price
    return -natural <= order.price


def can_execute(order: Order, prices: list[Decimal]) -> bool:
    """Market-like orders always; limits and triggered stop limits only when marketable."""
    if order.order_type in {'Market', 'Stop', 'Notional Market'}:
        return True
    return marketable(order, prices)
