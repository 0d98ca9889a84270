"""What a fill does to the account: positions (open, add, reduce, close, flip), cash, fees, transactions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from paperbroker.accounting import leg_fees
from paperbroker.amounts import ZERO, fmt, money
from paperbroker.clock import ny_date
from paperbroker.model import Account, BrokerState, Fill, Leg, Order, Position, Transaction


def execute_leg(
    state: BrokerState, order: Order, leg: Leg, *, quantity: Decimal, price: Decimal, now: datetime
) -> Position:
    """Record a fill on ``leg`` and book it: returns the position it changed."""
    fill = Fill(state.new_fill_id(), quantity, price, now)
    leg.fills.append(fill)
    leg.remaining -= quantity
    account = state.accounts[order.account_number]
    instrument = state.registry.get(leg.symbol)
    multiplier = instrument.multiplier if instrument is not None else Decimal(1)
    position = book_trade(
        state,
        account,
        symbol=leg.symbol,
        instrument_type=leg.instrument_type,
        underlying=order.underlying_symbol,
        signed_quantity=quantity if leg.is_buy else -quantity,
        price=price,
        multiplier=multiplier,
        now=now,
    )
    fees = leg_fees(leg, quantity, price)
    fee_total = sum(fees.values(), ZERO)
    # futures move cash only through realized P/L (booked in book_trade)
    gross = ZERO if leg.instrument_type == 'Future' else quantity * price * multiplier * (-1 if leg.is_buy else 1)
    account.cash += gross - fee_total
    side = 'Bought' if leg.is_buy else 'Sold'
    description = f'{side} {fmt(quantity).removesuffix(".0")} {leg.symbol} @ {fmt(price)}'
    state.transactions.append(
        Transaction(
            id=state.new_transaction_id(),
            account_number=account.number,
            transaction_type='Trade',
            sub_type=leg.action,
            description=description,
            executed_at=now,
            value=gross,
            net_value=gross - fee_total,
            symbol=leg.symbol,
            instrument_type=leg.instrument_type,
            underlying_symbol=order.underlying_symbol,
            action=leg.action,
            quantity=quantity,
            price=price,
            order_id=order.id,
            fees=fees,
            exec_id=fill.fill_id,
        )
    )
    return position


def book_trade(
    state: BrokerState,
    account: Account,
    *,
    symbol: str,
    instrument_type: str,
    underlying: str,
    signed_quantity: Decimal,
    price: Decimal,
    multiplier: Decimal,
    now: datetime,
) -> Position:
    """Apply a signed trade to the position (average price, realized gain, flips); futures P/L goes to cash."""
    key = (account.number, symbol)
    position = state.positions.get(key)
    today = ny_date(now)
    if position is None:
        position = Position(account.number, symbol, instrument_type, underlying, ZERO, price, multiplier, now, now)
        state.positions[key] = position
    if position.realized_date != today:
        position.realized_day_gain, position.realized_date = ZERO, today
    held = position.quantity
    if held == 0 or (held > 0) == (signed_quantity > 0):
        total = abs(held) + abs(signed_quantity)
        position.average_open_price = money(
            (abs(held) * position.average_open_price + abs(signed_quantity) * price) / total, 6
        )
        if held == 0:
            position.created_at = now
        position.quantity = held + signed_quantity
    else:
        closing = min(abs(signed_quantity), abs(held))
        direction = Decimal(1) if held > 0 else Decimal(-1)
        realized = (price - position.average_open_price) * closing * multiplier * direction
        position.realized_day_gain += realized
        if instrument_type == 'Future':
            account.cash += realized
        position.quantity = held + signed_quantity
        if position.quantity != 0 and (position.quantity > 0) != (held > 0):
            position.average_open_price = price  # flipped: the excess opened a new position
            position.created_at = now
    position.average_open_price = position.average_open_price.normalize()
    position.updated_at = now
    return position
