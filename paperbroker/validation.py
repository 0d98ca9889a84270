"""Parse and validate a new-order body the way the API does.

Two stages, like tastytrade: request validation (422 ``validation_error`` with ``{"domain", "reason"}``) and
preflight checks against the account (422 ``preflight_check_failure`` with ``{"code", "message"}``).
Unknown keys are ignored. The paper API's fill-control keys (``behavior``, ``delay``, ``schedule``) are read.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from paperbroker.amounts import to_decimal
from paperbroker.clock import parse_datetime
from paperbroker.errors import preflight_failure, validation_error
from paperbroker.instruments import Equity, FutureOption
from paperbroker.model import BrokerState, Leg, Order
from paperbroker.registry import Registry

TIME_IN_FORCE = ('Day', 'GTC', 'GTD', 'Ext', 'Ext Overnight', 'GTC Ext', 'GTC Ext Overnight', 'IOC')
ORDER_TYPES = ('Limit', 'Market', 'Marketable Limit', 'Stop', 'Stop Limit', 'Notional Market')
PRICED = frozenset({'Limit', 'Stop Limit', 'Marketable Limit'})
ACTIONS = ('Buy to Open', 'Buy to Close', 'Sell to Open', 'Sell to Close', 'Buy', 'Sell')
LEG_TYPES = ('Equity', 'Equity Option', 'Future', 'Future Option', 'Cryptocurrency')
BEHAVIORS = ('immediate', 'delayed', 'scheduled', 'never', 'reject', 'partial')
DURATION_RE = re.compile(r'^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$')
CLOSING_WARNING = (
    'You cannot route a closing order without an existing position to close. '
    'This order will be updated to a {side} to open order when routed.'
)


def parse_order(body: Any, registry: Registry, account_number: str, now: datetime) -> Order:
    """Validate a new-order body and build the (unplaced) order, or raise a 422 ``validation_error``."""
    if not isinstance(body, dict):
        raise validation_error([{'domain': 'body', 'reason': 'must be a JSON object'}])
    errors: list[dict[str, str]] = []

    def bad(domain: str, reason: str) -> None:
        errors.append({'domain': domain, 'reason': reason})

    tif = body.get('time-in-force')
    if tif is None:
        bad('time-in-force', 'is missing')
    elif tif not in TIME_IN_FORCE:
        bad('time-in-force', 'does not have a valid value')
    order_type = body.get('order-type')
    if order_type is None:
        bad('order-type', 'is missing')
    elif order_type not in ORDER_TYPES:
        bad('order-type', 'does not have a valid value')
    price = _price_field(body, 'price', order_type in PRICED, order_type, bad)
    price_effect = body.get('price-effect')
    if price is not None and price_effect not in {'Credit', 'Debit'}:
        bad('price-effect', 'is missing' if price_effect is None else 'does not have a valid value')
    stop = _price_field(body, 'stop-trigger', order_type in {'Stop', 'Stop Limit'}, order_type, bad)
    if stop is not None and stop <= 0:
        bad('stop-trigger', 'does not have a valid value')
    value = _price_field(body, 'value', order_type == 'Notional Market', order_type, bad)
    gtc_date = _gtc_date(body.get('gtc-date'), tif, bad)
    legs = _legs(body.get('legs'), registry, notional=order_type == 'Notional Market', bad=bad)
    if legs and order_type == 'Market' and tif in {'GTC', 'GTC Ext', 'GTC Ext Overnight'}:
        bad('time-in-force', 'GTC is not allowed for Market orders')
    if (
        legs
        and tif in {'Ext', 'Ext Overnight', 'GTC Ext', 'GTC Ext Overnight'}
        and (len(legs) > 1 or legs[0].instrument_type != 'Equity')
    ):
        bad('time-in-force', 'extended-hours orders must be single-leg equity orders')
    if legs and order_type in {'Market', 'Notional Market'} and len(legs) > 1:
        bad('legs', 'Market orders must have exactly one leg')
    behavior, eligible_at = _behavior(body, now, bad)
    instruments = [registry.get(leg.symbol) for leg in legs]
    underlyings = {i.underlying_symbol for i in instruments if i is not None}
    if len(underlyings) > 1:
        bad('legs', 'all legs must have the same underlying symbol')
    if errors:
        raise validation_error(errors)
    assert isinstance(tif, str) and isinstance(order_type, str)
    first = next((i for i in instruments if i is not None), None)
    advanced = body.get('advanced-instructions')
    return Order(
        account_number=account_number,
        time_in_force=tif,
        order_type=order_type,
        legs=legs,
        underlying_symbol=first.underlying_symbol if first else legs[0].symbol,
        underlying_instrument_type=first.underlying_instrument_type if first else legs[0].instrument_type,
        size=_size(legs),
        price=price,
        price_effect=price_effect if price is not None else None,
        stop_trigger=stop,
        value=value,
        value_effect=body.get('value-effect') if value is not None else None,
        gtc_date=gtc_date,
        source=str(body['source']) if body.get('source') is not None else None,
        external_identifier=str(body['external-identifier']) if body.get('external-identifier') else None,
        advanced_instructions=dict(advanced) if isinstance(advanced, dict) else None,
        behavior=behavior,
        eligible_at=eligible_at,
    )


def preflight(order: Order, state: BrokerState, *, market_open: bool) -> list[dict[str, str]]:
    """Account-level checks: raise 422 ``preflight_check_failure`` or return the warnings."""
    errors = _instrument_errors(order, state) + _price_effect_errors(order)
    warnings: list[dict[str, str]] = []
    for leg in order.legs:
        if not leg.is_closing:
            continue
        open_quantity = closable_quantity(state, order.account_number, leg)
        if order.strict and open_quantity < leg.quantity:
            errors.append(_strict_error(leg, open_quantity))
        elif open_quantity == 0:
            side = 'buy' if leg.is_buy else 'sell'
            warnings.append({'code': 'closing_with_no_position', 'message': CLOSING_WARNING.format(side=side)})
    if errors:
        raise preflight_failure(errors)
    if not market_open:
        warnings.append(
            {'code': 'tif.next_valid_session', 'message': 'Your order will begin working during next valid session.'}
        )
    return warnings


def _instrument_errors(order: Order, state: BrokerState) -> list[dict[str, str]]:
    errors = []
    for leg in order.legs:
        instrument = state.registry.get(leg.symbol)
        if instrument is None:
            errors.append({'code': 'invalid_symbol', 'message': f'Symbol {leg.symbol} could not be found.'})
        elif isinstance(instrument, FutureOption) and order.is_stop:
            errors.append(
                {'code': 'stop_orders_not_supported', 'message': 'Stop orders are not supported for futures options.'}
            )
    if order.order_type == 'Stop' and len(order.legs) > 1:
        errors.append(
            {
                'code': 'stop_orders_not_supported',
                'message': 'Stop market orders are not supported for multi-leg orders; use Stop Limit.',
            }
        )
    return errors


def _price_effect_errors(order: Order) -> list[dict[str, str]]:
    if order.price is None or not order.legs or order.price <= 0:
        return []
    if all(leg.is_buy for leg in order.legs) and order.price_effect == 'Credit':
        return [{'code': 'cant_buy_for_credit', 'message': 'You cannot buy for a credit.'}]
    if not any(leg.is_buy for leg in order.legs) and order.price_effect == 'Debit':
        return [{'code': 'cant_sell_for_debit', 'message': 'You cannot sell for a debit.'}]
    return []


def closable_quantity(state: BrokerState, account_number: str, leg: Leg) -> Decimal:
    """How much of a closing leg the current position can absorb (0 if none or the wrong side)."""
    position = state.positions.get((account_number, leg.symbol))
    if position is None:
        return Decimal(0)
    if leg.is_buy:
        return max(-position.quantity, Decimal(0))
    return max(position.quantity, Decimal(0))


def convert_unbacked_closing_legs(order: Order, state: BrokerState) -> None:
    """What tastytrade does when routing a non-strict closing order with no position: make it opening."""
    if order.strict:
        return
    for leg in order.legs:
        if leg.is_closing and closable_quantity(state, order.account_number, leg) == 0:
            leg.action = leg.action.replace('to Close', 'to Open')


def _strict_error(leg: Leg, open_quantity: Decimal) -> dict[str, str]:
    if open_quantity == 0:
        return {
            'code': 'closing_with_no_position',
            'message': f'{leg.symbol}: you cannot route a closing order without an existing position to close '
            '(strict position effect validation).',
        }
    return {
        'code': 'closing_quantity_exceeds_position',
        'message': f'{leg.symbol}: closing quantity {leg.quantity} exceeds the open position of {open_quantity} '
        '(strict position effect validation).',
    }


def _price_field(body: dict[str, Any], key: str, required: bool, order_type: Any, bad: Any) -> Decimal | None:
    raw = body.get(key)
    if raw is None:
        if required:
            bad(key, 'is missing')
        return None
    if not required:
        if order_type in ORDER_TYPES:
            bad(key, f'must be blank for {order_type} orders')
        return None
    value = to_decimal(raw)
    if value is None or value < 0:
        bad(key, 'does not have a valid value')
        return None
    return value


def _gtc_date(raw: Any, tif: Any, bad: Any) -> date | None:
    if raw is None:
        if tif == 'GTD':
            bad('gtc-date', 'is missing')
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        bad('gtc-date', 'does not have a valid value')
        return None


def _legs(raw: Any, registry: Registry, *, notional: bool, bad: Any) -> list[Leg]:
    if not isinstance(raw, list) or not raw:
        bad('legs', 'is missing')
        return []
    legs = [leg for index, item in enumerate(raw) if (leg := _leg(index, item, registry, notional, bad)) is not None]
    symbols = [leg.symbol for leg in legs]
    if len(set(symbols)) != len(symbols):
        bad('legs', 'must not contain duplicate symbols')
    stock_like = [leg for leg in legs if leg.instrument_type in {'Equity', 'Future', 'Cryptocurrency'}]
    if len(legs) > 4 or len(stock_like) > 1 or (len(legs) > 1 and len(stock_like) == len(legs)):
        bad('legs', 'has too many legs for this instrument type')
    return legs


def _leg(index: int, item: Any, registry: Registry, notional: bool, bad: Any) -> Leg | None:
    domain = f'legs[{index}]'
    if not isinstance(item, dict):
        bad(domain, 'must be an object')
        return None
    kind, symbol, action = item.get('instrument-type'), item.get('symbol'), item.get('action')
    quantity = to_decimal(item.get('quantity'))
    ok = True
    if kind not in LEG_TYPES:
        bad(f'{domain}.instrument-type', 'is missing' if kind is None else 'does not have a valid value')
        ok = False
    if not isinstance(symbol, str) or not symbol:
        bad(f'{domain}.symbol', 'is missing')
        ok = False
    if action not in ACTIONS:
        bad(f'{domain}.action', 'is missing' if action is None else 'does not have a valid value')
        ok = False
    elif action in {'Buy', 'Sell'} and kind != 'Future':
        bad(f'{domain}.action', 'Buy and Sell are only valid for futures')
    if notional:
        quantity = quantity or Decimal(0)
    elif quantity is None or quantity <= 0:
        bad(f'{domain}.quantity', 'is missing' if item.get('quantity') is None else 'does not have a valid value')
        ok = False
    if not ok:
        return None
    assert isinstance(symbol, str) and isinstance(kind, str) and isinstance(action, str) and quantity is not None
    instrument = registry.get(symbol)
    if instrument is not None:
        if instrument.instrument_type != kind:
            bad(f'{domain}.instrument-type', f'does not match symbol {symbol}')
        symbol = instrument.symbol
        if not isinstance(instrument, Equity) and quantity != quantity.to_integral_value():
            bad(f'{domain}.quantity', 'must be a whole number')
    return Leg(kind, symbol, action, quantity, quantity)


def _behavior(body: dict[str, Any], now: datetime, bad: Any) -> tuple[str, datetime | None]:
    behavior = body.get('behavior', 'immediate')
    if behavior not in BEHAVIORS:
        bad('behavior', 'does not have a valid value')
        return 'immediate', None
    if behavior == 'delayed':
        seconds = _seconds(body.get('delay'))
        if seconds is None:
            bad('delay', 'is missing' if body.get('delay') is None else 'does not have a valid value')
            return behavior, None
        return behavior, now + timedelta(seconds=seconds)
    if behavior == 'scheduled':
        try:
            return behavior, parse_datetime(str(body['schedule']))
        except (KeyError, ValueError):
            bad('schedule', 'is missing' if body.get('schedule') is None else 'does not have a valid value')
    return str(behavior), None


def _seconds(raw: Any) -> float | None:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw) if raw >= 0 and math.isfinite(raw) else None
    if isinstance(raw, str):
        match = DURATION_RE.match(raw.strip())
        if match and raw.strip() not in {'P', 'PT'}:
            parts = {k: float(v) for k, v in match.groupdict(default='0').items()}
            return parts['d'] * 86400 + parts['h'] * 3600 + parts['m'] * 60 + parts['s']
        value = to_decimal(raw)
        return float(value) if value is not None and value >= 0 else None
    return None


def _size(legs: list[Leg]) -> Decimal:
    whole = [int(leg.quantity) for leg in legs if leg.quantity == leg.quantity.to_integral_value()]
    if not legs:
        return Decimal(0)
    if len(legs) == 1 or len(whole) != len(legs):
        return legs[0].quantity
    return Decimal(math.gcd(*whole))
