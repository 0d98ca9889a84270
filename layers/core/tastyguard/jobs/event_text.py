"""How messages name position events: ``SPY 12/11/26 570 put (short 3) was assigned: bought 300 SPY at 570.00``.

A split option: ``AAPL 2:1 split: AAPL 01/15/27 180 put (short 2) → AAPL 01/15/27 90 put (short 4), average open
3.00 → 1.50 (no trade: a corporate action)``.
"""

from __future__ import annotations

from decimal import Decimal

from tastyguard.engine.wording import money, qty
from tastyguard.jobs import mapping
from tastyguard.store.position_events import EventKind, PositionEvent

_VERBS = {
    EventKind.EXPIRATION: 'expired worthless',
    EventKind.ASSIGNMENT: 'was assigned',
    EventKind.EXERCISE: 'was exercised',
    EventKind.CASH_SETTLEMENT: 'was settled in cash',
}


def option_label(symbol: str, underlying: str) -> str:
    """``SPY 12/11/26 570 put``; the raw symbol when it is not an OCC symbol."""
    details = mapping.option_details(symbol)
    if details is None:
        return symbol
    kind = 'call' if details.option_type.value == 'C' else 'put'
    return f'{underlying} {details.expiration:%m/%d/%y} {qty(details.strike)} {kind}'


def side(quantity: Decimal) -> str:
    """``long 2`` / ``short 3``."""
    return f'{"long" if quantity > 0 else "short"} {qty(abs(quantity))}'


def describe(event: PositionEvent) -> str:
    """What happened, in one sentence."""
    if event.kind is EventKind.SPLIT:
        ratio = event.ratio
        label = f'{ratio.numerator}:{ratio.denominator} ' if ratio else ''
        kind = 'reverse split' if ratio is not None and ratio < 1 else 'split'
        after = event.new_quantity or Decimal(0)
        if mapping.option_details(event.symbol) is not None:  # an option on the split stock, adjusted by OCC
            adjusted = option_label(event.new_symbol, event.underlying_symbol) if event.new_symbol else 'no contract'
            text = f'{event.underlying_symbol} {label}{kind}: {option_label(event.symbol, event.underlying_symbol)} '
            text += f'({side(event.quantity)}) → {adjusted}' + (f' ({side(after)})' if after else '')
        else:
            text = f'{event.symbol} {label}{kind}: {qty(abs(event.quantity))} → {qty(abs(after))} shares'
        old, new = event.old_average_open_price, event.new_average_open_price
        if old is not None and new is not None:
            text += f', average open {money(old.normalize())} → {money(new.normalize())}'
        return text + ' (no trade: a corporate action)'
    text = f'{option_label(event.symbol, event.underlying_symbol)} ({side(event.quantity)}) {_VERBS[event.kind]}'
    parts = []
    for delivery in event.deliveries:
        verb = 'bought' if delivery.quantity > 0 else 'sold'
        parts.append(f'{verb} {qty(abs(delivery.quantity))} {delivery.symbol} at {delivery.price:.2f}')
    if event.kind is EventKind.CASH_SETTLEMENT and event.cash:
        parts.append(f'{"received" if event.cash > 0 else "paid"} {abs(event.cash):,.2f} in cash')
    return f'{text}: {", ".join(parts)}' if parts else text
