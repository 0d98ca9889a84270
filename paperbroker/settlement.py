"""Settling an option position: expiration, exercise or assignment, and the delivery that follows.

What the books show afterwards (the choices follow OCC practice and tastytrade's transaction history):

* The option position closes at a price of 0: a long's premium is realized as a loss, a short's credit as a gain.
  One ``Receive Deliver`` transaction removes it, sub-type ``Expiration``, ``Exercise`` or ``Assignment``
  (``Cash Settled Exercise`` / ``Cash Settled Assignment`` for index options), action ``Sell to Close`` for a
  long and ``Buy to Close`` for a short, value 0, described as tastytrade does (``Removal of 2.0 AAPL 12/04/26
  Call 210.00 due to expiration.``, ``Removal of option due to assignment``).
* Physically settled equity options deliver ``multiplier`` shares per contract at the strike: a long call's
  exercise and a short put's assignment buy them, a long put's exercise and a short call's assignment sell
  them. The stock moves through one ``Receive Deliver`` transaction per side of zero (sub-type and action
  ``Buy to Open`` / ``Sell to Close`` / ...; ``Buy to Open 300 SPY @ 570.00``); the new position's average
  open price is the strike and cash moves by shares × strike. No fees are charged.
* Futures options deliver one future per contract at the strike (futures move cash only through P/L).
* Index options (``SPX``, ``SPXW``, ``NDX``, ``RUT``, ``XSP``, ``VIX`` ...) settle in cash: intrinsic value ×
  multiplier × contracts, credited to the holder, debited to the writer, on the removal transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from paperbroker.amounts import ZERO, fmt, fmt_qty
from paperbroker.fills import book_trade
from paperbroker.instruments import EquityOption, FutureOption
from paperbroker.model import BrokerState, Position, Transaction

CASH_SETTLED_ROOTS = frozenset(
    {'SPX', 'SPXW', 'NDX', 'NDXP', 'RUT', 'RUTW', 'MRUT', 'XSP', 'VIX', 'VIXW', 'DJX', 'OEX', 'XEO'}
)
OUTCOMES = ('expire', 'exercise', 'assign')
ITM_THRESHOLD = Decimal('0.01')
"""OCC exercise by exception: an expiring option at least one cent in the money is exercised (and so assigned)."""

Option = EquityOption | FutureOption


@dataclass
class Delivery:
    """What a settlement delivered: a signed quantity of ``symbol`` at ``price`` (or only cash)."""

    symbol: str
    quantity: Decimal
    price: Decimal

    def as_json(self) -> dict[str, str]:
        return {'symbol': self.symbol, 'quantity': fmt_qty(self.quantity), 'price': fmt(self.price)}


@dataclass
class Settled:
    """One option position settled (the admin API answers with these)."""

    account_number: str
    symbol: str
    outcome: str  # expired | exercised | assigned
    quantity: Decimal  # the signed option quantity that was removed
    underlying_price: Decimal | None
    deliveries: list[Delivery] = field(default_factory=list)
    cash: Decimal = ZERO
    positions: list[Position] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            'account-number': self.account_number,
            'symbol': self.symbol,
            'outcome': self.outcome,
            'quantity': fmt_qty(self.quantity),
            'underlying-price': fmt(self.underlying_price) if self.underlying_price is not None else None,
            'deliveries': [d.as_json() for d in self.deliveries],
            'cash': fmt(self.cash),
        }


def option_of(state: BrokerState, symbol: str) -> Option | None:
    """The option instrument behind ``symbol`` (None for anything else)."""
    instrument = state.registry.get(symbol)
    return instrument if isinstance(instrument, EquityOption | FutureOption) else None


def cash_settled(option: Option) -> bool:
    """Index options settle in cash."""
    return isinstance(option, EquityOption) and option.root in CASH_SETTLED_ROOTS


def intrinsic(option: Option, underlying_price: Decimal) -> Decimal:
    """The option's intrinsic value per unit at ``underlying_price``."""
    gap = underlying_price - option.strike if option.option_type == 'C' else option.strike - underlying_price
    return max(gap, ZERO)


def underlying_price(state: BrokerState, option: Option) -> Decimal | None:
    """The underlying's last trade, else its mark (None without a quote)."""
    quote = state.quotes.get(option.underlying_symbol)
    if quote is None:
        return None
    return quote.last if quote.last is not None else quote.mark


def settle_option(state: BrokerState, position: Position, outcome: str, quantity: Decimal, now: datetime) -> Settled:
    """Remove ``quantity`` contracts of ``position`` by ``outcome`` and book what they deliver."""
    option = option_of(state, position.symbol)
    if option is None or outcome not in OUTCOMES or not 0 < quantity <= abs(position.quantity):
        raise ValueError(f'cannot {outcome} {quantity} of {position.symbol}')
    account = state.accounts[position.account_number]
    long = position.quantity > 0
    price = underlying_price(state, option)
    removed = quantity if long else -quantity
    result = Settled(account.number, position.symbol, _past(outcome), removed, price)
    book_trade(
        state, account, symbol=position.symbol, instrument_type=position.instrument_type,
        underlying=position.underlying_symbol, signed_quantity=-removed, price=ZERO,
        multiplier=position.multiplier, now=now,
    )  # fmt: skip
    result.positions.append(position)
    cash = outcome != 'expire' and cash_settled(option)
    if cash:
        value = intrinsic(option, price or option.strike) * position.multiplier * quantity
        result.cash = value if long else -value
        account.cash += result.cash
    _removal(state, position, option, outcome, removed, result.cash if cash else ZERO, now, cash_settled=cash)
    if outcome != 'expire' and not cash:
        buys = (option.option_type == 'C') == long
        if isinstance(option, EquityOption):
            units = quantity * position.multiplier
            target, kind, multiplier = option.underlying_symbol, 'Equity', Decimal(1)
        else:
            units, target, kind = quantity, option.future.symbol, 'Future'
            multiplier = option.future.multiplier
        signed = units if buys else -units
        result.deliveries.append(Delivery(target, signed, option.strike))
        result.positions += deliver(state, account.number, target, kind, signed, option.strike, multiplier, now)
    return result


def deliver(
    state: BrokerState,
    account_number: str,
    symbol: str,
    instrument_type: str,
    signed_quantity: Decimal,
    price: Decimal,
    multiplier: Decimal,
    now: datetime,
) -> list[Position]:
    """Move ``signed_quantity`` of ``symbol`` into the account at ``price``: one transaction per side of zero."""
    account = state.accounts[account_number]
    held = state.positions.get((account_number, symbol))
    current = held.quantity if held is not None else ZERO
    buy = signed_quantity > 0
    parts: list[tuple[str, Decimal]] = []
    remaining = abs(signed_quantity)
    if current and (current > 0) != buy:
        closing = min(remaining, abs(current))
        parts.append(('Buy to Close' if buy else 'Sell to Close', closing))
        remaining -= closing
    if remaining:
        parts.append(('Buy to Open' if buy else 'Sell to Open', remaining))
    touched: list[Position] = []
    for action, size in parts:
        signed = size if buy else -size
        position = book_trade(
            state, account, symbol=symbol, instrument_type=instrument_type, underlying=symbol,
            signed_quantity=signed, price=price, multiplier=multiplier, now=now,
        )  # fmt: skip
        gross = ZERO if instrument_type == 'Future' else -signed * price * multiplier
        account.cash += gross
        state.transactions.append(
            Transaction(
                id=state.new_transaction_id(), account_number=account_number, transaction_type='Receive Deliver',
                sub_type=action, description=f'{action} {fmt_qty(size)} {symbol} @ {price:.2f}', executed_at=now,
                value=gross, net_value=gross, symbol=symbol, instrument_type=instrument_type, underlying_symbol=symbol,
                action=action, quantity=size, price=price,
            )
        )  # fmt: skip
        if position not in touched:
            touched.append(position)
    return touched


def _removal(
    state: BrokerState,
    position: Position,
    option: Option,
    outcome: str,
    removed: Decimal,
    cash: Decimal,
    now: datetime,
    *,
    cash_settled: bool,
) -> None:
    size = abs(removed)
    if outcome == 'expire':
        sub_type = 'Expiration'
        description = f'Removal of {size:.1f} {option.description} due to expiration.'
    elif cash_settled:
        sub_type = 'Cash Settled Exercise' if outcome == 'exercise' else 'Cash Settled Assignment'
        description = f'Removal of option due to cash settled {"exercise" if outcome == "exercise" else "assignment"}'
    else:
        sub_type = 'Exercise' if outcome == 'exercise' else 'Assignment'
        description = f'Removal of option due to {"exercise" if outcome == "exercise" else "assignment"}'
    state.transactions.append(
        Transaction(
            id=state.new_transaction_id(), account_number=position.account_number,
            transaction_type='Receive Deliver', sub_type=sub_type, description=description, executed_at=now,
            value=cash, net_value=cash, symbol=position.symbol, instrument_type=position.instrument_type,
            underlying_symbol=position.underlying_symbol, action='Sell to Close' if removed > 0 else 'Buy to Close',
            quantity=size, price=ZERO,
        )
    )  # fmt: skip


def _past(outcome: str) -> str:
    return {'expire': 'expired', 'exercise': 'exercised', 'assign': 'assigned'}[outcome]
