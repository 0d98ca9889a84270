"""Building blocks shared by the scenarios and the admin API: users, accounts, quotes, positions, orders."""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any

from paperbroker.amounts import to_decimal
from paperbroker.core import Core
from paperbroker.engine import Engine
from paperbroker.model import Account, Order, Position, Quote, Transaction, User

TASTYGUARD_SOURCE = 'tastyguard/0.1.0'
HUMAN_SOURCE = 'WBT'


def add_user(core: Core, user_id: str, username: str, first: str, last: str) -> User:
    """Register a customer."""
    user = User(user_id, username, f'{username}@example.com', first, last, core.now())
    core.state.users[user_id] = user
    return user


def add_account(
    core: Core,
    number: str,
    owner_id: str,
    *,
    nickname: str = 'Individual',
    type_name: str = 'Individual',
    margin_or_cash: str = 'Margin',
    cash: Decimal = Decimal(0),
    opened_at: datetime | None = None,
) -> Account:
    """Open an account and record its initial deposit."""
    if number in core.state.accounts:
        raise ValueError(f'account {number} already exists')
    if margin_or_cash not in {'Margin', 'Cash'}:
        raise ValueError('margin-or-cash must be "Margin" or "Cash"')
    opened = opened_at or core.now()
    account = Account(number, owner_id, nickname, type_name, margin_or_cash, cash, opened)
    core.state.accounts[number] = account
    if cash:
        deposit(core, number, cash, at=opened, adjust_cash=False)
    return account


def deposit(core: Core, number: str, amount: Decimal, *, at: datetime | None = None, adjust_cash: bool = True) -> None:
    """Move cash in (positive) or out (negative) with a Money Movement transaction."""
    account = core.state.accounts[number]
    if adjust_cash:
        account.cash += amount
    description = 'Cash deposit' if amount >= 0 else 'Cash withdrawal'
    core.state.transactions.append(
        Transaction(
            id=core.state.new_transaction_id(),
            account_number=number,
            transaction_type='Money Movement',
            sub_type='Deposit' if amount >= 0 else 'Withdrawal',
            description=description,
            executed_at=at or core.now(),
            value=amount,
            net_value=amount,
        )
    )


def set_quote(
    core: Core,
    symbol: str,
    *,
    bid: Any = None,
    ask: Any = None,
    last: Any = None,
    instrument_type: str | None = None,
    **extra: Any,
) -> Quote:
    """Create or move a symbol's market (creating a plausible instrument for a new symbol).

    ``clear`` (a list of ``bid``, ``ask``, ``last``) empties those sides, as a market with no bids or no offers.
    """
    instrument = core.state.registry.ensure(symbol, instrument_type)
    quote = core.state.quotes.get(instrument.symbol) or Quote(instrument.symbol)
    values = {'bid': to_decimal(bid), 'ask': to_decimal(ask), 'last': to_decimal(last)}
    for name, raw in (('bid', bid), ('ask', ask), ('last', last)):
        if raw is not None and (values[name] is None or (values[name] or 0) < 0):
            raise ValueError(f'{symbol}: {name} must be a non-negative number')
    quote.bid = values['bid'] if bid is not None else quote.bid
    quote.ask = values['ask'] if ask is not None else quote.ask
    if last is not None:
        quote.last = values['last']
    elif quote.last is None or (bid is not None and ask is not None):
        quote.last = quote.mark
    cleared = extra.pop('clear', None) or ()
    if not isinstance(cleared, list | tuple) or not set(cleared) <= {'bid', 'ask', 'last'}:
        raise ValueError(f'{symbol}: "clear" must list sides among bid, ask, last')
    for side in cleared:  # an empty side (no bids, no offers, no trade yet)
        setattr(quote, side, None)
    for key in ('bid-size', 'ask-size', 'volume', 'prev-close', 'open'):
        raw = extra.get(key, extra.get(key.replace('-', '_')))
        if raw is not None and (value := to_decimal(raw)) is not None:
            setattr(quote, key.replace('-', '_'), value)
    if quote.last is not None:
        quote.high = max(quote.high or quote.last, quote.last)
        quote.low = min(quote.low or quote.last, quote.last)
        quote.prev_close = quote.prev_close or quote.last
        quote.open = quote.open or quote.prev_close
    quote.updated_at = core.now()
    core.state.quotes[instrument.symbol] = quote
    return quote


def add_position(
    core: Core,
    number: str,
    symbol: str,
    quantity: Decimal,
    average_open_price: Decimal,
    *,
    instrument_type: str | None = None,
    created_at: datetime | None = None,
) -> Position:
    """Seed a position (signed quantity; no cash moves). Adds to an existing position of the same side."""
    if number not in core.state.accounts:
        raise KeyError(number)
    if quantity == 0:
        raise ValueError('quantity must not be zero')
    instrument = core.state.registry.ensure(symbol, instrument_type)
    when = created_at or core.now()
    key = (number, instrument.symbol)
    position = core.state.positions.get(key)
    if position is not None and position.quantity and (position.quantity > 0) == (quantity > 0):
        total = abs(position.quantity) + abs(quantity)
        position.average_open_price = (
            (abs(position.quantity) * position.average_open_price + abs(quantity) * average_open_price) / total
        ).normalize()
        position.quantity += quantity
        position.updated_at = when
    else:
        position = Position(
            number,
            instrument.symbol,
            instrument.instrument_type,
            instrument.underlying_symbol,
            quantity,
            average_open_price,
            instrument.multiplier,
            when,
            when,
        )
        core.state.positions[key] = position
    quote = core.state.quotes.get(instrument.symbol)
    position.close_price = quote.prev_close if quote is not None else None
    return position


def add_order(
    core: Core,
    engine: Engine,
    number: str,
    body: dict[str, Any],
    *,
    kind: str = 'human',
    received_at: datetime | None = None,
    user_id: str | None = None,
) -> Order:
    """Seed a working order as a person's (``human``) or tastyguard's (``tastyguard``) order."""
    body = dict(body)
    if kind == 'tastyguard':
        body.setdefault('source', TASTYGUARD_SOURCE)
        body.setdefault('external-identifier', f'tg-{secrets.token_hex(6)}')
        body.setdefault('advanced-instructions', {'strict-position-effect-validation': True})
    elif kind == 'human':
        body.setdefault('source', HUMAN_SOURCE)
    else:
        raise ValueError('kind must be "human" or "tastyguard"')
    for leg in body.get('legs') or []:
        if isinstance(leg, dict) and isinstance(leg.get('symbol'), str):
            core.state.registry.ensure(leg['symbol'], leg.get('instrument-type'))
    account = core.state.accounts[number]
    user = core.state.users[user_id or account.owner_id]
    return engine.seed(number, body, user, received_at or core.now())
