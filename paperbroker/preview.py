"""``buying-power-effect`` and ``fee-calculation`` of an order, in the recorded dry-run shapes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from paperbroker.accounting import leg_fees, sum_fees, value_account
from paperbroker.amounts import ZERO, fmt, money
from paperbroker.matching import leg_price
from paperbroker.model import BrokerState, Leg, Order
from paperbroker.validation import closable_quantity


def estimated_price(state: BrokerState, order: Order, leg: Leg) -> Decimal:
    """The price a leg is expected to execute at, for fees and margin."""
    if len(order.legs) == 1 and order.price is not None:
        return order.price
    market = leg_price(state, leg)
    if market is not None:
        return market
    return order.stop_trigger or order.price or ZERO


def fee_calculation(state: BrokerState, orders: list[Order]) -> tuple[dict[str, Any], Decimal]:
    """The ``fee-calculation`` object for one or more orders, and the total."""
    parts = [leg_fees(leg, leg.remaining, estimated_price(state, order, leg)) for order in orders for leg in order.legs]
    fees = sum_fees(parts)
    regulatory = fees['regulatory'] + fees['exchange']
    total = fees['commission'] + fees['clearing'] + regulatory

    def item(name: str, value: Decimal) -> dict[str, str]:
        return {'name': name, 'value': fmt(value), 'effect': _debit(value)}

    return {
        'regulatory-fees': fmt(regulatory),
        'regulatory-fees-effect': _debit(regulatory),
        'regulatory-fees-breakdown': [
            item('exchange', fees['exchange']),
            item('nfa', ZERO),
            item('orf', ZERO),
            item('sec', ZERO),
            item('taf', fees['regulatory']),
        ],
        'clearing-fees': fmt(fees['clearing']),
        'clearing-fees-effect': _debit(fees['clearing']),
        'clearing-fees-breakdown': [item('clearing', fees['clearing'])],
        'commission': fmt(fees['commission']),
        'commission-effect': _debit(fees['commission']),
        'commission-breakdown': [item('brokerage', fees['commission'])],
        'proprietary-index-option-fees': '0.0',
        'proprietary-index-option-fees-effect': 'None',
        'proprietary-fees-breakdown': [item('proprietary', ZERO)],
        'total-fees': fmt(total),
        'total-fees-effect': _debit(total),
        'rebates': '0.0',
        'rebates-effect': 'None',
        'rebates-breakdown': [item('rebate', ZERO)],
        'per-quantity': False,
    }, total


def buying_power_effect(state: BrokerState, orders: list[Order], fees: Decimal) -> dict[str, Any]:
    """The ``buying-power-effect`` object: margin the opening part of the orders needs, plus fees."""
    account = state.accounts[orders[0].account_number]
    margin_account = account.margin_or_cash == 'Margin'
    requirement = ZERO
    for order in orders:
        for leg in order.legs:
            opening = (
                leg.remaining - min(leg.remaining, closable_quantity(state, order.account_number, leg))
                if leg.is_closing or leg.action in {'Buy', 'Sell'}
                else leg.remaining
            )
            if opening <= 0:
                continue
            instrument = state.registry.get(leg.symbol)
            multiplier = instrument.multiplier if instrument else Decimal(1)
            notional = opening * estimated_price(state, order, leg) * multiplier
            rate = (
                Decimal('0.05')
                if leg.instrument_type == 'Future'
                else (Decimal('0.5') if margin_account and leg.instrument_type == 'Equity' else Decimal(1))
            )
            requirement += notional * rate
    requirement = money(requirement, 6)
    current = value_account(state, account).derivative_buying_power
    change = requirement + fees
    return {
        'change-in-margin-requirement': fmt(requirement),
        'change-in-margin-requirement-effect': _debit(requirement),
        'change-in-buying-power': fmt(change),
        'change-in-buying-power-effect': _debit(change),
        'current-buying-power': fmt(current),
        'current-buying-power-effect': 'Credit',
        'new-buying-power': fmt(abs(current - change)),
        'new-buying-power-effect': 'Credit' if current >= change else 'Debit',
        'isolated-order-margin-requirement': fmt(requirement),
        'isolated-order-margin-requirement-effect': _debit(requirement),
        'is-spread': any(len(order.legs) > 1 for order in orders),
        'impact': fmt(change),
        'effect': _debit(change),
    }


def _debit(value: Decimal) -> str:
    return 'Debit' if value > 0 else 'None'
