"""Valuation, balances, fees and buying-power effects: a simple model that stays self-consistent.

* Net liquidating value = cash + long stock/option values - short stock/option values + futures open P/L.
* Maintenance requirement: 25% of long stock, 30% of short stock, 100% of short option value, 5% of futures
  notional. Buying power: margin accounts 2 x (NLV - maintenance) for stock, 1 x for derivatives; cash
  accounts just their cash.
* Fees (charged to cash on every fill): stock 0.0008/share clearing + TAF on sells; options 1.00/contract
  commission to open (max 10 per leg), 0.10 clearing, 0.02 ORF; futures 1.25 commission, 0.30 clearing,
  0.02 NFA, 1.38 exchange; futures options 2.50 / 0.30 / 0.02 / 0.60.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from paperbroker.amounts import ZERO, money
from paperbroker.model import Account, BrokerState, Leg, Position

TAF_PER_SHARE = Decimal('0.000166')
TAF_MAX = Decimal('8.30')


@dataclass
class Valuation:
    """An account's values, all non-negative magnitudes except ``futures_pl``."""

    cash: Decimal
    long_equity: Decimal = ZERO
    short_equity: Decimal = ZERO
    long_derivative: Decimal = ZERO
    short_derivative: Decimal = ZERO
    long_futures: Decimal = ZERO
    short_futures: Decimal = ZERO
    long_futures_derivative: Decimal = ZERO
    short_futures_derivative: Decimal = ZERO
    futures_pl: Decimal = ZERO
    maintenance: Decimal = ZERO
    margin: bool = True

    @property
    def net_liq(self) -> Decimal:
        return (
            self.cash
            + self.long_equity
            - self.short_equity
            + self.long_derivative
            - self.short_derivative
            + self.long_futures_derivative
            - self.short_futures_derivative
            + self.futures_pl
        )

    @property
    def equity_buying_power(self) -> Decimal:
        if not self.margin:
            return max(self.cash, ZERO)
        return max((self.net_liq - self.maintenance) * 2, ZERO)

    @property
    def derivative_buying_power(self) -> Decimal:
        if not self.margin:
            return max(self.cash, ZERO)
        return max(self.net_liq - self.maintenance, ZERO)


def mark_of(state: BrokerState, position: Position) -> Decimal:
    """The position's per-unit mark: quote mid (or last), else its average open price."""
    quote = state.quotes.get(position.symbol)
    mark = quote.mark if quote else None
    return mark if mark is not None else position.average_open_price


def value_account(state: BrokerState, account: Account) -> Valuation:
    """Value every open position of an account."""
    val = Valuation(cash=account.cash, margin=account.margin_or_cash == 'Margin')
    for position in state.account_positions(account.number):
        mark = mark_of(state, position)
        size = abs(position.quantity) * mark * position.multiplier
        long = position.quantity > 0
        kind = position.instrument_type
        if kind == 'Equity':
            if long:
                val.long_equity += size
                val.maintenance += size * Decimal('0.25')
            else:
                val.short_equity += size
                val.maintenance += size * Decimal('0.30')
        elif kind == 'Equity Option':
            if long:
                val.long_derivative += size
            else:
                val.short_derivative += size
                val.maintenance += size
        elif kind == 'Future':
            val.futures_pl += (mark - position.average_open_price) * position.quantity * position.multiplier
            val.maintenance += size * Decimal('0.05')
            if long:
                val.long_futures += size
            else:
                val.short_futures += size
        elif long:
            val.long_futures_derivative += size
        else:
            val.short_futures_derivative += size
            val.maintenance += size
    return val


def leg_fees(leg: Leg, quantity: Decimal, price: Decimal) -> dict[str, Decimal]:
    """Fees of executing ``quantity`` of a leg at ``price`` (magnitudes, all debits)."""
    sell = not leg.is_buy
    fees = {'commission': ZERO, 'clearing': ZERO, 'regulatory': ZERO, 'exchange': ZERO}
    kind = leg.instrument_type
    if kind == 'Equity':
        fees['clearing'] = quantity * Decimal('0.0008')
        if sell:
            fees['regulatory'] = min(quantity * TAF_PER_SHARE, TAF_MAX) + quantity * price * Decimal('0.0000278')
    elif kind == 'Equity Option':
        if not leg.is_closing:
            fees['commission'] = min(quantity * Decimal('1.00'), Decimal(10))
        fees['clearing'] = quantity * Decimal('0.10')
        fees['regulatory'] = quantity * Decimal('0.02') + (min(quantity * Decimal('0.002'), TAF_MAX) if sell else ZERO)
    elif kind == 'Future':
        fees.update(
            commission=quantity * Decimal('1.25'),
            clearing=quantity * Decimal('0.30'),
            regulatory=quantity * Decimal('0.02'),
            exchange=quantity * Decimal('1.38'),
        )
    else:
        fees.update(
            commission=quantity * Decimal('2.50'),
            clearing=quantity * Decimal('0.30'),
            regulatory=quantity * Decimal('0.02'),
            exchange=quantity * Decimal('0.60'),
        )
    return {k: money(v) for k, v in fees.items()}


def sum_fees(parts: list[dict[str, Decimal]]) -> dict[str, Decimal]:
    """Add fee dictionaries."""
    total = {'commission': ZERO, 'clearing': ZERO, 'regulatory': ZERO, 'exchange': ZERO}
    for part in parts:
        for key, value in part.items():
            total[key] += value
    return total
