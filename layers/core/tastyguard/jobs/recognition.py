"""Recognising position events (pure): from ``Receive Deliver`` transactions, and splits from position reads.

tastytrade records an option's end as one ``Receive Deliver`` row (sub-type ``Expiration``, ``Assignment``,
``Exercise``, ``Cash Settled Assignment`` / ``Cash Settled Exercise``; action ``Sell to Close`` for a long,
``Buy to Close`` for a short) and the stock or future it delivers as rows executed at the same moment on the
underlying (sub-type = the action, ``Buy to Open 300 SPY @ 570.00``). A split is a pair of rows on the stock
(``Forward Split`` / ``Reverse Split``): one closing the old quantity at the old average price, one opening the
new quantity at the new one. An option position on the split stock gets the same pair, closing the old contract
and opening the adjusted one (OCC: ``r`` contracts per contract at strike ÷ ``r``): an event of its own, on the
old contract, naming the new one (``new_symbol``).

Without such rows, a stock position whose quantity and average open price changed in inverse proportion by a
plausible split ratio (``a:b`` with both at most :data:`MAX_RATIO_TERM`), keeping its cost basis (up to one
share's worth of cash in lieu), with no trade on it, is also taken as a split.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction

from tastyguard.broker.models.transactions import (
    OPTION_REMOVALS,
    SPLITS,
    Transaction,
    TransactionSubType,
    TransactionType,
)
from tastyguard.engine.types import Holding, InstrumentType
from tastyguard.jobs import mapping
from tastyguard.store.position_events import Delivery, EventKind, PositionEvent
from tastyguard.store.snapshots import HeldPosition

PAIRING_WINDOW = timedelta(minutes=5)
"""An option's removal and its delivery rows are executed together; this is how far apart they may be."""
MAX_RATIO_TERM = 100
_DELIVERY_SUBTYPES = frozenset(
    {
        TransactionSubType.BUY_TO_OPEN,
        TransactionSubType.BUY_TO_CLOSE,
        TransactionSubType.SELL_TO_OPEN,
        TransactionSubType.SELL_TO_CLOSE,
        TransactionSubType.BUY,
        TransactionSubType.SELL,
    }
)
_KINDS = {
    TransactionSubType.EXPIRATION: EventKind.EXPIRATION,
    TransactionSubType.ASSIGNMENT: EventKind.ASSIGNMENT,
    TransactionSubType.EXERCISE: EventKind.EXERCISE,
    TransactionSubType.CASH_SETTLED_ASSIGNMENT: EventKind.CASH_SETTLEMENT,
    TransactionSubType.CASH_SETTLED_EXERCISE: EventKind.CASH_SETTLEMENT,
}
_OPTIONS = frozenset({'Equity Option', 'Future Option'})
_ZERO = Decimal(0)


def _buys(row: Transaction) -> bool:
    return str(row.action or row.transaction_sub_type or '').startswith('Buy')


def _near(a: datetime | None, b: datetime | None) -> bool:
    return a is not None and b is not None and abs(a - b) <= PAIRING_WINDOW


def _removed(row: Transaction, held: Mapping[str, Decimal]) -> Decimal:
    """The signed option quantity a removal row took away (the action says the side; else the last read)."""
    size = abs(row.quantity or _ZERO)
    if row.action:
        return -size if _buys(row) else size
    if row.transaction_sub_type in (TransactionSubType.ASSIGNMENT, TransactionSubType.CASH_SETTLED_ASSIGNMENT):
        return -size
    if row.transaction_sub_type in (TransactionSubType.EXERCISE, TransactionSubType.CASH_SETTLED_EXERCISE):
        return size
    return -size if held.get(row.symbol or '', _ZERO) < 0 else size


def from_transactions(
    rows: Sequence[Transaction], recognised_at: datetime, held: Mapping[str, Decimal]
) -> list[PositionEvent]:
    """Every option ending and stock split in ``rows`` (oldest first). ``held``: quantities at the last read."""
    deliveries = [
        row
        for row in rows
        if row.is_receive_deliver
        and row.transaction_sub_type in _DELIVERY_SUBTYPES
        and str(row.instrument_type) in ('Equity', 'Future')
        and row.symbol
    ]
    used: set[int] = set()
    events: list[PositionEvent] = []
    ordered = sorted(rows, key=lambda r: (r.executed_at or recognised_at, r.id))
    for row in ordered:
        if not row.is_receive_deliver or row.transaction_sub_type not in OPTION_REMOVALS or not row.symbol:
            continue
        kind = _KINDS[row.transaction_sub_type]
        underlying = _underlying(row)
        delivered: list[Delivery] = []
        if kind in (EventKind.ASSIGNMENT, EventKind.EXERCISE):
            for candidate in deliveries:
                if (
                    candidate.id in used
                    or candidate.symbol != underlying
                    or not _near(candidate.executed_at, row.executed_at)
                ):
                    continue
                used.add(candidate.id)
                size = abs(candidate.quantity or _ZERO)
                delivered.append(
                    Delivery(
                        symbol=underlying,
                        instrument_type=str(candidate.instrument_type),
                        quantity=size if _buys(candidate) else -size,
                        price=candidate.price or _ZERO,
                    )
                )
        details = mapping.option_details(row.symbol)
        strike = details.strike if details else (delivered[0].price if delivered else None)
        events.append(
            PositionEvent(
                event_id=f'tx:{row.id}',
                kind=kind,
                symbol=row.symbol,
                underlying_symbol=underlying,
                quantity=_removed(row, held),
                occurred_at=row.executed_at or recognised_at,
                recognised_at=recognised_at,
                strike=strike,
                deliveries=tuple(_net(delivered)),
                cash=(row.signed_value or _ZERO) if kind is EventKind.CASH_SETTLEMENT else _ZERO,
            )
        )
    events += _splits(ordered, recognised_at)
    return sorted(events, key=lambda e: (e.occurred_at, e.event_id))


def _net(deliveries: list[Delivery]) -> list[Delivery]:
    """One delivery per symbol (tastytrade splits a delivery that crosses zero into a close and an open row)."""
    if len(deliveries) < 2:
        return deliveries
    total = sum((d.quantity for d in deliveries), _ZERO)
    first = deliveries[0]
    return [first.model_copy(update={'quantity': total})]


def _underlying(row: Transaction) -> str:
    return row.underlying_symbol or str(row.symbol).split(maxsplit=1)[0]


def _same_position(close: Transaction, opened: Transaction) -> bool:
    """``opened`` is the other half of ``close``'s split: the same stock, or the old option's adjusted contract
    (same underlying, expiration and type; strike × contracts unchanged)."""
    kind = str(close.instrument_type)
    if kind != str(opened.instrument_type) or not _near(opened.executed_at, close.executed_at):
        return False
    if kind == 'Equity':
        return opened.symbol == close.symbol
    old, new = mapping.option_details(str(close.symbol)), mapping.option_details(str(opened.symbol))
    if old is None or new is None or _underlying(close) != _underlying(opened):
        return False
    if (old.expiration, old.option_type) != (new.expiration, new.option_type):
        return False
    return not (close.quantity and opened.quantity) or old.strike * close.quantity == new.strike * opened.quantity


def _splits(rows: Sequence[Transaction], recognised_at: datetime) -> list[PositionEvent]:
    split_rows = [
        r
        for r in rows
        if r.is_receive_deliver
        and r.transaction_sub_type in SPLITS
        and str(r.instrument_type) in ('Equity', 'Equity Option')
        and r.symbol
    ]
    closes = [r for r in split_rows if str(r.action or '').endswith('to Close')]
    opens = [r for r in split_rows if str(r.action or '').endswith('to Open')]
    events: list[PositionEvent] = []
    used: set[int] = set()
    for close in closes:
        opened = next((o for o in opens if o.id not in used and _same_position(close, o)), None)
        if opened is not None:
            used.add(opened.id)
        long = not _buys(close)
        old = abs(close.quantity or _ZERO)
        new = abs(opened.quantity or _ZERO) if opened is not None else _ZERO
        ratio = _ratio(close, opened)
        events.append(
            PositionEvent(
                event_id=f'tx:{(opened or close).id}',
                kind=EventKind.SPLIT,
                symbol=str(close.symbol),
                underlying_symbol=_underlying(close),
                quantity=old if long else -old,
                occurred_at=close.executed_at or recognised_at,
                recognised_at=recognised_at,
                new_quantity=new if long else -new,
                new_symbol=str(opened.symbol) if opened is not None and opened.symbol != close.symbol else None,
                ratio_numerator=ratio.numerator if ratio else None,
                ratio_denominator=ratio.denominator if ratio else None,
                old_average_open_price=close.price,
                new_average_open_price=opened.price if opened is not None else None,
            )
        )
    return events


def _ratio(close: Transaction, opened: Transaction | None) -> Fraction | None:
    """New shares per old share: from the two rows' prices (exact even with cash in lieu), else quantities."""
    if opened is None:
        return None
    if close.price and opened.price:
        return Fraction(close.price / opened.price).limit_denominator(1000)
    if close.quantity and opened.quantity:
        return Fraction(opened.quantity / close.quantity).limit_denominator(1000)
    return None


def plausible_split(old: HeldPosition, new: Holding) -> Fraction | None:
    """The split ratio that turns ``old`` into ``new`` (quantity × r whole shares, average ÷ r), or None."""
    if new.instrument_type is not InstrumentType.EQUITY or old.instrument_type != InstrumentType.EQUITY.value:
        return None
    p0, p1 = old.average_open_price or _ZERO, new.average_open_price
    q0, q1 = old.quantity, new.quantity
    if p0 <= 0 or p1 <= 0 or p0 == p1 or q0 == 0 or (q0 > 0) != (q1 > 0):
        return None  # (an odd lot may keep its quantity: 1 share at 3:2 is still 1 share, at two thirds of the price)
    ratio = Fraction(p0 / p1).limit_denominator(MAX_RATIO_TERM)
    if ratio == 1 or ratio.numerator > MAX_RATIO_TERM:
        return None
    exact = abs(q0) * Decimal(ratio.numerator) / Decimal(ratio.denominator)
    if exact.to_integral_value(rounding=ROUND_DOWN) != abs(q1):
        return None
    expected = p0 * Decimal(ratio.denominator) / Decimal(ratio.numerator)
    if abs(expected - p1) > max(Decimal('0.0001'), p1 * Decimal('0.00001')):
        return None
    return ratio


def splits_from_positions(
    before: Mapping[str, HeldPosition], now: Mapping[str, Holding], excluded: set[str], recognised_at: datetime
) -> list[PositionEvent]:
    """Splits seen only in the position reads (no transaction rows), on symbols not in ``excluded``."""
    events: list[PositionEvent] = []
    for symbol in sorted(set(before) & set(now) - excluded):
        old, new = before[symbol], now[symbol]
        ratio = plausible_split(old, new)
        if ratio is None:
            continue
        events.append(
            PositionEvent(
                event_id=f'split:{symbol}:{old.quantity}>{new.quantity}:{recognised_at:%Y%m%d}',
                kind=EventKind.SPLIT,
                symbol=symbol,
                underlying_symbol=symbol,
                quantity=old.quantity,
                occurred_at=recognised_at,
                recognised_at=recognised_at,
                new_quantity=new.quantity,
                ratio_numerator=ratio.numerator,
                ratio_denominator=ratio.denominator,
                old_average_open_price=old.average_open_price,
                new_average_open_price=new.average_open_price,
                source='positions',
            )
        )
    return events


def needs_explaining(before: Mapping[str, HeldPosition], now: Mapping[str, Holding]) -> bool:
    """True when the change between two reads could be an event (worth one transactions read).

    An option position shrank or vanished, a stock or futures position appeared, a stock position vanished (a
    reverse split can leave less than one share, paid as cash in lieu: a stop left on it would open a position),
    or a stock position's quantity and average open price moved in opposite directions, or its price moved alone
    (a split's signatures).
    """
    for symbol, old in before.items():
        new = now.get(symbol)
        size = abs(new.quantity) if new is not None else _ZERO
        if old.instrument_type in _OPTIONS and size < abs(old.quantity):
            return True
        if old.instrument_type != 'Equity':
            continue
        if new is None:
            return True
        if not old.average_open_price:
            continue
        if new.average_open_price != old.average_open_price:
            if new.quantity == old.quantity:
                return True  # no trade changes the price alone
            grew = abs(new.quantity) > abs(old.quantity)
            if grew == (new.average_open_price < old.average_open_price):
                return True
    return any(
        symbol not in before and holding.instrument_type in (InstrumentType.EQUITY, InstrumentType.FUTURE)
        for symbol, holding in now.items()
    )


def explains(event: PositionEvent, before: Mapping[str, HeldPosition], now: Mapping[str, Holding]) -> bool:
    """True when ``event`` accounts for a change between the two reads (so it is news, not history)."""
    old = before.get(event.symbol)
    if old is None or old.quantity == 0:
        return False
    new = now.get(event.symbol)
    size = abs(new.quantity) if new is not None else _ZERO
    if event.kind is EventKind.SPLIT:
        return new is None or new.quantity != old.quantity or new.average_open_price != old.average_open_price
    return size < abs(old.quantity)


def traded_symbols(rows: Sequence[Transaction], since: datetime) -> set[str]:
    """Symbols with a trade executed at or after ``since``."""
    return {
        str(row.symbol)
        for row in rows
        if row.transaction_type == TransactionType.TRADE and row.symbol and row.executed_at and row.executed_at >= since
    }
