"""The exact JSON shapes of orders, positions and balances.

Key order follows the recorded sandbox payloads (``id`` first, ``legs`` last, the rest alphabetical).
Decimals are strings, signs are magnitude + ``*-effect``, timestamps are ISO-8601 with milliseconds except
order ``updated-at`` (epoch milliseconds).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from paperbroker.accounting import Valuation, mark_of
from paperbroker.amounts import ZERO, fmt, fmt_qty, signed_pair, wire_int
from paperbroker.clock import iso_ms
from paperbroker.instruments import EquityOption, Future, FutureOption
from paperbroker.model import Account, BrokerState, ComplexOrder, Order, Position

if TYPE_CHECKING:
    from paperbroker.core import Settings

VENUE = 'PAPER_BROKER'


def order_json(order: Order, *, dry_run: bool = False) -> dict[str, Any]:
    """An order as ``/orders`` endpoints and the account streamer return it."""
    cancellable = (order.working and order.pending is None) or order.status == 'Contingent'
    data: dict[str, Any] = {}
    if not dry_run and order.id is not None:
        data['id'] = order.id
    data['account-number'] = order.account_number
    if order.advanced_instructions is not None:
        data['advanced-instructions'] = order.advanced_instructions
    optional: dict[str, Any] = {
        'cancel-user-id': order.cancel_user_id,
        'cancel-username': order.cancel_username,
    }
    data.update({k: v for k, v in optional.items() if v is not None})
    data['cancellable'] = cancellable
    optional = {
        'cancelled-at': _ts(order.cancelled_at),
        'complex-order-id': order.complex_order_id,
        'complex-order-tag': order.complex_order_tag,
        'contingent-status': order.contingent_status,
    }
    data.update({k: v for k, v in optional.items() if v is not None})
    data['editable'] = cancellable
    data['edited'] = order.edited
    optional = {
        'ext-client-order-id': None if dry_run else order.ext_client_order_id,
        'external-identifier': order.external_identifier,
        'global-request-id': order.global_request_id,
        'gtc-date': order.gtc_date.isoformat() if order.gtc_date else None,
        'live-at': _ts(order.live_at),
    }
    data.update({k: v for k, v in optional.items() if v is not None})
    data['order-type'] = order.order_type
    optional = {
        'preflight-id': order.preflight_id,
        'price': fmt(order.price) if order.price is not None else None,
        'price-effect': order.price_effect if order.price is not None else None,
        'received-at': None if dry_run else _ts(order.received_at),
        'reject-reason': order.reject_reason,
        'replaces-order-id': order.replaces_order_id,
        'replacing-order-id': order.replacing_order_id,
    }
    data.update({k: v for k, v in optional.items() if v is not None})
    data['size'] = wire_int(order.size)
    if order.source is not None:
        data['source'] = order.source
    data['status'] = order.status
    optional = {
        'stop-trigger': fmt(order.stop_trigger) if order.stop_trigger is not None else None,
        'terminal-at': _ts(order.terminal_at),
    }
    data.update({k: v for k, v in optional.items() if v is not None})
    data['time-in-force'] = order.time_in_force
    data['underlying-instrument-type'] = order.underlying_instrument_type
    data['underlying-symbol'] = order.underlying_symbol
    data['updated-at'] = 0 if dry_run else order.updated_ms
    optional = {'user-id': order.user_id, 'username': order.username}
    data.update({k: v for k, v in optional.items() if v is not None and not dry_run})
    if order.value is not None:
        data['value'] = fmt(order.value)
        data['value-effect'] = order.value_effect or 'Debit'
    data['legs'] = [
        {
            'action': leg.action,
            'instrument-type': leg.instrument_type,
            'quantity': wire_int(leg.quantity),
            'remaining-quantity': wire_int(leg.remaining),
            'symbol': leg.symbol,
            'fills': [
                {
                    'destination-venue': VENUE,
                    'fill-id': fill.fill_id,
                    'fill-price': fmt(fill.price),
                    'filled-at': iso_ms(fill.filled_at),
                    'quantity': wire_int(fill.quantity),
                }
                for fill in leg.fills
            ],
        }
        for leg in order.legs
    ]
    return data


def complex_order_json(state: BrokerState, group: ComplexOrder) -> dict[str, Any]:
    """A placed complex order with its child orders."""
    data: dict[str, Any] = {'id': group.id, 'account-number': group.account_number, 'type': group.type}
    if group.terminal_at is not None:
        data['terminal-at'] = iso_ms(group.terminal_at)
    if group.trigger_order_id is not None:
        data['trigger-order'] = order_json(state.orders[group.trigger_order_id])
    data['orders'] = [order_json(state.orders[i]) for i in group.order_ids]
    return data


def position_json(
    state: BrokerState, position: Position, today: date, settings: Settings, *, marks: bool = False
) -> dict[str, Any]:
    """A position as ``/accounts/{n}/positions`` returns it (``settings``: the session closes, for ``expires-at``)."""
    instrument = state.registry.get(position.symbol)
    mark = mark_of(state, position)
    close = position.close_price if position.close_price is not None else mark
    realized = position.realized_day_gain if position.realized_date == today else ZERO
    direction = 'Long' if position.quantity > 0 else 'Short' if position.quantity < 0 else 'Zero'
    data: dict[str, Any] = {
        'account-number': position.account_number,
        'symbol': position.symbol,
        'instrument-type': position.instrument_type,
        'underlying-symbol': position.underlying_symbol,
        'quantity': fmt_qty(abs(position.quantity)),
        'quantity-direction': direction,
        'average-open-price': fmt(position.average_open_price),
        'close-price': fmt(close),
        'average-daily-market-close-price': fmt(close),
        'average-yearly-market-close-price': fmt(position.average_open_price),
        'multiplier': int(position.multiplier),
        'cost-effect': 'Credit' if position.quantity < 0 else 'Debit',
        'is-suppressed': False,
        'is-frozen': False,
        'restricted-quantity': '0',
        **signed_pair('realized-day-gain', realized),
        'realized-day-gain-date': today.isoformat(),
        **signed_pair('realized-today', realized),
        'realized-today-date': today.isoformat(),
        'created-at': iso_ms(position.created_at),
        'updated-at': iso_ms(position.updated_at),
    }
    if instrument is not None:
        data['streamer-symbol'] = instrument.streamer_symbol
        if isinstance(instrument, EquityOption | FutureOption | Future):
            data['expires-at'] = _expires_at(instrument.expiration, instrument, settings)
    if marks:
        data['mark'] = fmt(abs(position.quantity) * mark * position.multiplier)
        data['mark-price'] = fmt(mark)
    return data


def balance_json(account: Account, val: Valuation, now: datetime, today: date) -> dict[str, Any]:
    """``/accounts/{n}/balances/USD``: every field the SDK's AccountBalance requires, and then some."""
    excess = val.net_liq - val.maintenance
    num = {
        'cash-balance': val.cash,
        'long-equity-value': val.long_equity,
        'short-equity-value': val.short_equity,
        'long-derivative-value': val.long_derivative,
        'short-derivative-value': val.short_derivative,
        'long-futures-value': val.long_futures,
        'short-futures-value': val.short_futures,
        'long-futures-derivative-value': val.long_futures_derivative,
        'short-futures-derivative-value': val.short_futures_derivative,
        'long-margineable-value': val.long_equity,
        'short-margineable-value': val.short_equity,
        'margin-equity': val.net_liq,
        'equity-buying-power': val.equity_buying_power,
        'derivative-buying-power': val.derivative_buying_power,
        'day-trading-buying-power': val.equity_buying_power * 2 if val.margin else ZERO,
        'futures-margin-requirement': (val.long_futures + val.short_futures) * Decimal('0.05'),
        'available-trading-funds': val.derivative_buying_power,
        'maintenance-requirement': val.maintenance,
        'maintenance-call-value': max(-excess, ZERO),
        'reg-t-call-value': ZERO,
        'day-trading-call-value': ZERO,
        'day-equity-call-value': ZERO,
        'net-liquidating-value': val.net_liq,
        'cash-available-to-withdraw': max(min(val.cash, val.derivative_buying_power), ZERO),
        'day-trade-excess': val.derivative_buying_power,
        'pending-cash': ZERO,
        'long-cryptocurrency-value': ZERO,
        'short-cryptocurrency-value': ZERO,
        'cryptocurrency-margin-requirement': ZERO,
        'unsettled-cryptocurrency-fiat-amount': ZERO,
        'closed-loop-available-balance': val.cash,
        'equity-offering-margin-requirement': ZERO,
        'long-bond-value': ZERO,
        'bond-margin-requirement': ZERO,
        'used-derivative-buying-power': val.maintenance,
        'reg-t-margin-requirement': val.maintenance,
        'futures-overnight-margin-requirement': (val.long_futures + val.short_futures) * Decimal('0.05'),
        'futures-intraday-margin-requirement': (val.long_futures + val.short_futures) * Decimal('0.025'),
        'maintenance-excess': max(excess, ZERO),
        'pending-margin-interest': ZERO,
        'effective-cryptocurrency-buying-power': ZERO,
        'apex-starting-day-margin-equity': val.net_liq,
        'buying-power-adjustment': ZERO,
    }
    data: dict[str, Any] = {'account-number': account.number, 'currency': 'USD'}
    data.update({k: fmt(v) for k, v in num.items()})
    data.update(
        {
            'pending-cash-effect': 'None',
            'unsettled-cryptocurrency-fiat-effect': 'None',
            'buying-power-adjustment-effect': 'None',
            'snapshot-date': today.isoformat(),
            'time-of-day': 'EOD',
            'updated-at': iso_ms(now),
        }
    )
    return data


def _ts(moment: datetime | None) -> str | None:
    return iso_ms(moment) if moment is not None else None


def _expires_at(expiration: date, instrument: EquityOption | Future | FutureOption, settings: Settings) -> str:
    if isinstance(instrument, EquityOption):  # equity options stop trading at the session close (13:00 on an early one)
        return iso_ms(settings.close_of(expiration))
    return f'{expiration.isoformat()}T14:30:00.000+00:00'
