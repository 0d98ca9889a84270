"""The digest's "Expirations and assignments this week": what already happened, and what is coming.

Coming: every option position expiring from today to the end of the week (New York), with where its underlying
is against the strike. In the money by at least $0.01 at the close means OCC exercises a long and assigns a
short automatically; within :data:`NEAR` of the strike it may go either way. Each line says what would be
delivered (shares or a future at the strike, or cash for index options) and what that is worth, so the person
can close or roll before the close rather than find a naked stock position on Monday.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from tastyguard.calendar import NEW_YORK
from tastyguard.engine.trigger import mark_price
from tastyguard.engine.types import Holding, InstrumentType, OptionType, QuoteView
from tastyguard.engine.wording import qty
from tastyguard.jobs import mapping
from tastyguard.jobs.event_text import describe, option_label, side
from tastyguard.store.position_events import PositionEvent

NEAR = Decimal('0.02')
"""Within 2% of the strike an option is "near the money": exercise and assignment may go either way."""
ITM = Decimal('0.01')
CASH_SETTLED_ROOTS = frozenset(
    {'SPX', 'SPXW', 'NDX', 'NDXP', 'RUT', 'RUTW', 'MRUT', 'XSP', 'VIX', 'VIXW', 'DJX', 'OEX', 'XEO'}
)
_OPTIONS = frozenset({InstrumentType.EQUITY_OPTION, InstrumentType.FUTURE_OPTION})


@dataclass(frozen=True, slots=True)
class Expiring:
    """One option position expiring this week."""

    holding: Holding
    expiration: date
    strike: Decimal
    call: bool
    underlying_price: Decimal | None

    @property
    def intrinsic(self) -> Decimal | None:
        """Per-unit value at the underlying's price (None without a price)."""
        if self.underlying_price is None:
            return None
        gap = self.underlying_price - self.strike if self.call else self.strike - self.underlying_price
        return max(gap, Decimal(0))


def week_end(today: date) -> date:
    """The Sunday that ends ``today``'s week."""
    return today + timedelta(days=6 - today.weekday())


def expiring_this_week(
    holdings: Iterable[Holding], underlying: Mapping[str, QuoteView], now: datetime
) -> list[Expiring]:
    """Option positions expiring from today to the end of the week, soonest first."""
    today = now.astimezone(NEW_YORK).date()
    found: list[Expiring] = []
    for holding in holdings:
        if holding.instrument_type not in _OPTIONS or holding.quantity == 0:
            continue
        details = holding.option or mapping.option_details(holding.symbol)
        if details is None or not today <= details.expiration <= week_end(today):
            continue
        price = mark_price(underlying.get(holding.underlying_symbol))
        call = details.option_type is OptionType.CALL
        found.append(Expiring(holding, details.expiration, details.strike, call, price))
    return sorted(found, key=lambda e: (e.expiration, e.holding.underlying_symbol, e.holding.symbol))


def line(item: Expiring) -> str:
    """``Fri 12/11: SPY 12/11/26 570 put (short 3): in the money by 5.01 (SPY 564.99): assignment likely ...``."""
    holding = item.holding
    label = option_label(holding.symbol, holding.underlying_symbol)
    head = f'{item.expiration:%a %m/%d}: {label} ({side(holding.quantity)})'
    if item.underlying_price is None or item.intrinsic is None:
        return f'{head}: no price for {holding.underlying_symbol}; check it before the close'
    where = f'{holding.underlying_symbol} {item.underlying_price:.2f}'
    long = holding.is_long
    what = 'exercised' if long else 'assigned'
    outcome = _delivery(item)
    if item.intrinsic >= ITM:
        verdict = 'exercise automatic at the close' if long else 'assignment likely'
        return f'{head}: in the money by {item.intrinsic:.2f} ({where}): {verdict}: {outcome}'
    distance = abs(item.underlying_price - item.strike) / item.strike
    if distance <= NEAR:
        return f'{head}: near the money ({where}, {distance:.1%} from the strike): if {what}, {outcome}'
    return f'{head}: out of the money ({where}, {distance:.1%} from the strike): expires worthless if it stays there'


def _delivery(item: Expiring) -> str:
    holding = item.holding
    contracts = holding.size
    root = holding.symbol.split()[0] if holding.symbol else ''
    if holding.instrument_type is InstrumentType.EQUITY_OPTION and root in CASH_SETTLED_ROOTS:
        cash = (item.intrinsic or Decimal(0)) * holding.multiplier * contracts
        return f'settles in cash (about {cash:,.2f} {"received" if holding.is_long else "paid"})'
    buys = item.call == holding.is_long
    verb = 'buy' if buys else 'sell'
    if holding.instrument_type is InstrumentType.FUTURE_OPTION:
        return f'you would {verb} {qty(contracts)} {holding.underlying_symbol} futures at {item.strike}'
    shares = contracts * holding.multiplier
    notional = shares * item.strike
    return f'you would {verb} {qty(shares)} {holding.underlying_symbol} at {item.strike:.2f} ({notional:,.2f})'


def happened_this_week(events: Iterable[PositionEvent], now: datetime) -> list[str]:
    """The events that happened or were recognised since Monday of this week."""
    today = now.astimezone(NEW_YORK).date()
    monday = today - timedelta(days=today.weekday())
    return [
        f'done: {describe(event)}'
        for event in events
        if max(event.occurred_at, event.recognised_at).astimezone(NEW_YORK).date() >= monday
    ]


def underlying_symbols(items: Iterable[Expiring]) -> list[tuple[str, InstrumentType]]:
    """The underlyings whose quotes the lines need (stock for equity options, the future for futures options)."""
    kinds = {InstrumentType.EQUITY_OPTION: InstrumentType.EQUITY, InstrumentType.FUTURE_OPTION: InstrumentType.FUTURE}
    return sorted({(i.holding.underlying_symbol, kinds[i.holding.instrument_type]) for i in items})
