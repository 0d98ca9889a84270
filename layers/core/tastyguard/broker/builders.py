"""Builders for the orders tastyguard sends: protective stops, stop-limits, take-profits and OCO pairs.

Every order built here carries ``source = "tastyguard/<version>"``, the caller's ``external-identifier``
(``tg-`` prefix, at most 64 safe characters) and ``advanced-instructions.strict-position-effect-validation:
true`` -- so a stop whose position is gone is rejected instead of silently opening a new one. Only
closing actions are accepted, prices must be positive and, when a tick table is given, on a tick
(tastytrade's preflight does not catch off-tick prices; round with :func:`tastyguard.ticks.round_to_tick`
and :func:`protective_rounding` first).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

from pydantic import ValidationError

from tastyguard import __version__
from tastyguard.broker.models.common import InstrumentType, PriceEffect
from tastyguard.broker.models.complex_orders import ComplexOrderType
from tastyguard.broker.models.orders import OrderAction, OrderType, TimeInForce
from tastyguard.broker.models.requests import AdvancedInstructions, NewComplexOrder, NewOrder, NewOrderLeg
from tastyguard.ticks import Rounding, TickLike, is_on_tick

SOURCE = f'tastyguard/{__version__}'
EXTERNAL_ID_PREFIX = 'tg-'
EXTERNAL_ID_MAX = 64
_EXTERNAL_ID = re.compile(r'^[A-Za-z0-9._:\-]+$')
_CLOSING = frozenset({OrderAction.SELL_TO_CLOSE, OrderAction.BUY_TO_CLOSE})
_WHOLE_QUANTITY = frozenset({InstrumentType.EQUITY_OPTION, InstrumentType.FUTURE, InstrumentType.FUTURE_OPTION})
_STOP_TIFS = frozenset({TimeInForce.GTC, TimeInForce.DAY, TimeInForce.GTC_EXT})
_EQUITY_ONLY_TIFS = frozenset({TimeInForce.GTC_EXT})

Amount = Decimal | int | str


class InvalidOrderError(ValueError):
    """A builder refused to build an order; the message says which rule was broken."""


def validate_external_identifier(value: str) -> str:
    """Return ``value`` if it is a valid tastyguard external identifier, else raise :class:`InvalidOrderError`."""
    if not value:
        raise InvalidOrderError('external identifier must not be empty')
    if not value.startswith(EXTERNAL_ID_PREFIX):
        raise InvalidOrderError(f'external identifier must start with {EXTERNAL_ID_PREFIX!r}, got {value!r}')
    if len(value) > EXTERNAL_ID_MAX:
        raise InvalidOrderError(f'external identifier is {len(value)} characters; the maximum is {EXTERNAL_ID_MAX}')
    if not _EXTERNAL_ID.match(value):
        raise InvalidOrderError(f'external identifier may hold only letters, digits and . _ : -, got {value!r}')
    return value


def protective_rounding(action: OrderAction) -> Rounding:
    """Round a protective stop toward the market: a sell stop (below) up, a buy stop (above) down."""
    return Rounding.UP if OrderAction(action).is_sell else Rounding.DOWN


def _amount(name: str, value: Amount) -> Decimal:
    if isinstance(value, float):
        raise InvalidOrderError(f'{name} must be a Decimal, int or str, not a float (binary rounding)')
    amount = Decimal(value)
    if not amount.is_finite() or amount <= 0:
        raise InvalidOrderError(f'{name} must be a positive number, got {value}')
    return amount


def _on_tick(name: str, price: Decimal, ticks: Sequence[TickLike] | None) -> None:
    if ticks is not None and not is_on_tick(price, ticks):
        raise InvalidOrderError(f'{name} {price} is not on the instrument tick table; round it first')


def _leg(
    symbol: str, instrument_type: InstrumentType, action: OrderAction, quantity: Amount, *, stop: bool = True
) -> NewOrderLeg:
    kind, act = InstrumentType(instrument_type), OrderAction(action)
    if act not in _CLOSING:
        raise InvalidOrderError(f'a protective order must use a closing action (Sell/Buy to Close), got {act!r}')
    if stop and kind is InstrumentType.FUTURE_OPTION:
        raise InvalidOrderError('tastytrade accepts no stops on futures options; protect them in software')
    qty = _amount('quantity', quantity)
    if kind in _WHOLE_QUANTITY and qty != qty.to_integral_value():
        raise InvalidOrderError(f'{kind} quantities are whole numbers, got {qty}')
    return NewOrderLeg(instrument_type=kind, symbol=symbol, action=act, quantity=qty)


def _tif(time_in_force: TimeInForce, legs: Sequence[NewOrderLeg]) -> TimeInForce:
    tif = TimeInForce(time_in_force)
    if tif not in _STOP_TIFS:
        raise InvalidOrderError(f'protective orders use GTC, GTC Ext or Day, got {tif}')
    if tif in _EQUITY_ONLY_TIFS and (len(legs) != 1 or legs[0].instrument_type is not InstrumentType.EQUITY):
        raise InvalidOrderError(f'{tif} is allowed for single-leg equity orders only')
    return tif


def _order(**fields: object) -> NewOrder:
    try:
        return NewOrder.model_validate(
            {
                **fields,
                'source': SOURCE,
                'advanced_instructions': AdvancedInstructions(strict_position_effect_validation=True),
            },
            by_name=True,
            by_alias=False,
        )
    except ValidationError as exc:
        raise InvalidOrderError('; '.join(str(e['msg']) for e in exc.errors())) from None


def stop_order(
    *,
    symbol: str,
    instrument_type: InstrumentType,
    action: OrderAction,
    quantity: Amount,
    stop_trigger: Amount,
    external_identifier: str,
    time_in_force: TimeInForce = TimeInForce.GTC,
    ticks: Sequence[TickLike] | None = None,
) -> NewOrder:
    """A single-leg closing Stop (market) order; never carries a price."""
    leg = _leg(symbol, instrument_type, action, quantity)
    trigger = _amount('stop-trigger', stop_trigger)
    _on_tick('stop-trigger', trigger, ticks)
    return _order(
        time_in_force=_tif(time_in_force, [leg]),
        order_type=OrderType.STOP,
        stop_trigger=trigger,
        legs=(leg,),
        external_identifier=validate_external_identifier(external_identifier),
    )


def stop_limit_order(
    *,
    symbol: str,
    instrument_type: InstrumentType,
    action: OrderAction,
    quantity: Amount,
    stop_trigger: Amount,
    limit_price: Amount,
    external_identifier: str,
    time_in_force: TimeInForce = TimeInForce.GTC,
    ticks: Sequence[TickLike] | None = None,
) -> NewOrder:
    """A single-leg closing Stop Limit: Credit for a sell (limit at or below the trigger), Debit for a buy."""
    leg = _leg(symbol, instrument_type, action, quantity)
    trigger, price = _amount('stop-trigger', stop_trigger), _amount('limit price', limit_price)
    selling = leg.action.is_sell
    if (selling and price > trigger) or (not selling and price < trigger):
        side = 'at or below' if selling else 'at or above'
        raise InvalidOrderError(f'the limit price {price} of a {leg.action} stop must be {side} the trigger {trigger}')
    _on_tick('stop-trigger', trigger, ticks)
    _on_tick('limit price', price, ticks)
    return _order(
        time_in_force=_tif(time_in_force, [leg]),
        order_type=OrderType.STOP_LIMIT,
        stop_trigger=trigger,
        price=price,
        price_effect=PriceEffect.CREDIT if selling else PriceEffect.DEBIT,
        legs=(leg,),
        external_identifier=validate_external_identifier(external_identifier),
    )


def spread_stop_limit_order(
    *,
    legs: Sequence[tuple[str, InstrumentType, OrderAction, Amount]],
    stop_trigger: Amount,
    limit_price: Amount,
    price_effect: PriceEffect,
    external_identifier: str,
    time_in_force: TimeInForce = TimeInForce.GTC,
    ticks: Sequence[TickLike] | None = None,
) -> NewOrder:
    """A closing Stop Limit for a 2-4 leg option spread (stop-market is not offered on spreads).

    ``legs`` are ``(symbol, instrument_type, action, quantity)``; ``price_effect`` is the net effect of
    closing (``Debit`` to buy back a credit spread, ``Credit`` to sell out a debit spread).
    """
    built = [_leg(*leg) for leg in legs]
    if not 2 <= len(built) <= 4:
        raise InvalidOrderError(f'a spread has 2 to 4 legs, got {len(built)}')
    if any(leg.instrument_type is not InstrumentType.EQUITY_OPTION for leg in built):
        raise InvalidOrderError('spread stop-limits are for equity option legs only')
    effect = PriceEffect(price_effect)
    if effect not in (PriceEffect.CREDIT, PriceEffect.DEBIT):
        raise InvalidOrderError(f'price effect must be Credit or Debit, got {effect}')
    trigger, price = _amount('stop-trigger', stop_trigger), _amount('limit price', limit_price)
    _on_tick('stop-trigger', trigger, ticks)
    _on_tick('limit price', price, ticks)
    return _order(
        time_in_force=_tif(time_in_force, built),
        order_type=OrderType.STOP_LIMIT,
        stop_trigger=trigger,
        price=price,
        price_effect=effect,
        legs=tuple(built),
        external_identifier=validate_external_identifier(external_identifier),
    )


def limit_order(
    *,
    symbol: str,
    instrument_type: InstrumentType,
    action: OrderAction,
    quantity: Amount,
    limit_price: Amount,
    external_identifier: str,
    time_in_force: TimeInForce = TimeInForce.GTC,
    ticks: Sequence[TickLike] | None = None,
) -> NewOrder:
    """A single-leg closing Limit (the take-profit half of an OCO, or a software stop's closing order: futures
    options take limits, only their stops are refused)."""
    leg = _leg(symbol, instrument_type, action, quantity, stop=False)
    price = _amount('limit price', limit_price)
    _on_tick('limit price', price, ticks)
    return _order(
        time_in_force=_tif(time_in_force, [leg]),
        order_type=OrderType.LIMIT,
        price=price,
        price_effect=PriceEffect.CREDIT if leg.action.is_sell else PriceEffect.DEBIT,
        legs=(leg,),
        external_identifier=validate_external_identifier(external_identifier),
    )


def oco_order(*, take_profit: NewOrder, stop_loss: NewOrder) -> NewComplexOrder:
    """An OCO closing pair: one Limit and one Stop/Stop Limit on the same legs ("one fills, one cancels")."""
    if take_profit.order_type != OrderType.LIMIT:
        raise InvalidOrderError(f'the take-profit of an OCO must be a Limit, got {take_profit.order_type}')
    if stop_loss.order_type not in (OrderType.STOP, OrderType.STOP_LIMIT):
        raise InvalidOrderError(f'the stop-loss of an OCO must be a Stop or Stop Limit, got {stop_loss.order_type}')
    if take_profit.legs != stop_loss.legs:
        raise InvalidOrderError('both orders of an OCO must close the same legs')
    idents = {take_profit.external_identifier, stop_loss.external_identifier}
    if None in idents or len(idents) != 2:
        raise InvalidOrderError('both orders of an OCO need their own external identifier')
    try:
        return NewComplexOrder(type=ComplexOrderType.OCO, orders=(take_profit, stop_loss))
    except ValidationError as exc:
        raise InvalidOrderError('; '.join(str(e['msg']) for e in exc.errors())) from None
