"""Broker wire models → the planner's own types (the engine never sees the wire format).

Unknown values map conservatively: an order status the client has never seen counts as still able to fill
(it limits the closing quantity) but not as protection, and an unknown instrument type is never protected.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from tastyguard.broker import models as wire
from tastyguard.engine.types import (
    Holding,
    InstrumentType,
    InstrumentView,
    OptionDetails,
    OptionType,
    OrderAction,
    OrderLeg,
    OrderStatus,
    OrderType,
    QuoteView,
    TimeInForce,
    WorkingOrder,
)
from tastyguard.ticks import Tick, TickLike

_E = TypeVar('_E', OrderStatus, OrderType, TimeInForce, OrderAction)

_OCC = re.compile(r'^(?P<root>.{1,6}?)\s*(?P<yy>\d{2})(?P<mm>\d{2})(?P<dd>\d{2})(?P<cp>[CP])(?P<strike>\d{8})$')
_FUTURE = re.compile(r'^(?P<root>/[A-Z0-9]+?)[FGHJKMNQUVXZ]\d{1,2}$')

_INSTRUMENT_TYPES = {
    'Equity': InstrumentType.EQUITY,
    'Equity Option': InstrumentType.EQUITY_OPTION,
    'Future': InstrumentType.FUTURE,
    'Future Option': InstrumentType.FUTURE_OPTION,
    'Cryptocurrency': InstrumentType.CRYPTO,
}


def instrument_type(value: object) -> InstrumentType:
    """The engine's instrument type for a wire value (anything unknown is OTHER: never protected)."""
    return _INSTRUMENT_TYPES.get(str(value), InstrumentType.OTHER)


def option_details(symbol: str) -> OptionDetails | None:
    """Contract details parsed from an OCC symbol (``AAPL  261218C00200000``), or None."""
    match = _OCC.match(symbol)
    if match is None:
        return None
    try:
        expiration = date(2000 + int(match['yy']), int(match['mm']), int(match['dd']))
    except ValueError:
        return None
    return OptionDetails(
        option_type=OptionType(match['cp']), strike=Decimal(match['strike']) / 1000, expiration=expiration
    )


def future_root(symbol: str) -> str | None:
    """The product of a futures contract: ``/ESZ6`` → ``/ES`` (None if the symbol is not one)."""
    match = _FUTURE.match(symbol)
    return match['root'] if match else None


def holding(position: wire.Position) -> Holding:
    """A position as the planner sees it (signed quantity, known multiplier, option details)."""
    kind = instrument_type(position.instrument_type)
    multiplier = position.multiplier or (Decimal(100) if kind is InstrumentType.EQUITY_OPTION else Decimal(1))
    underlying = position.underlying_symbol or position.symbol
    root = None
    if kind is InstrumentType.FUTURE:
        root = future_root(position.symbol)
    elif kind is InstrumentType.FUTURE_OPTION:
        root = future_root(underlying)
    return Holding(
        account_number=position.account_number,
        symbol=position.symbol,
        instrument_type=kind,
        underlying_symbol=underlying,
        quantity=position.signed_quantity,
        average_open_price=position.average_open_price or Decimal(0),
        multiplier=multiplier,
        expires_at=position.expires_at,
        option=option_details(position.symbol) if kind is InstrumentType.EQUITY_OPTION else None,
        root_symbol=root,
        opened_at=position.created_at,
    )


def _enum(kind: type[_E], value: object, default: _E) -> _E:
    try:
        return kind(str(value))
    except ValueError:
        return default


def _decimal(value: Decimal | None, default: Decimal) -> Decimal:
    try:
        return Decimal(value) if value is not None else default
    except (InvalidOperation, TypeError):
        return default


def working_order(order: wire.Order, authored: bool = True) -> WorkingOrder:
    """An order as the planner sees it (``authored``: the ownership verdict of a ``tg-`` order)."""
    legs = tuple(
        OrderLeg(
            symbol=leg.symbol,
            instrument_type=instrument_type(leg.instrument_type),
            action=_enum(OrderAction, leg.action, OrderAction.BUY_TO_OPEN),
            quantity=_decimal(leg.quantity, Decimal(0)),
            remaining_quantity=_decimal(leg.remaining_quantity, _decimal(leg.quantity, Decimal(0))),
        )
        for leg in order.legs
    )
    return WorkingOrder(
        id=str(order.id),
        # A status the engine does not know may still fill, is not protection, and is not safe to change:
        # exactly how Cancel Requested is treated (counts for the closing cap, never as coverage, never touched).
        status=_enum(OrderStatus, order.status, OrderStatus.CANCEL_REQUESTED),
        order_type=_enum(OrderType, order.order_type, OrderType.MARKET),
        time_in_force=_enum(TimeInForce, order.time_in_force, TimeInForce.DAY),
        legs=legs,
        stop_trigger=order.stop_trigger,
        price=order.price,
        external_identifier=order.external_identifier,
        source=order.source,
        complex_order_id=None if order.complex_order_id is None else str(order.complex_order_id),
        complex_order_tag=order.complex_order_tag,
        replaces_order_id=None if order.replaces_order_id is None else str(order.replaces_order_id),
        received_at=order.received_at,
        authored=authored,
    )


def working_orders(orders: Iterable[wire.Order], ours: Mapping[int, bool] | None = None) -> list[WorkingOrder]:
    """The orders that have an id (dry-run shapes never reach here); ``ours``: ownership verdicts by id."""
    verdicts = ours or {}
    return [working_order(order, verdicts.get(order.id, True)) for order in orders if order.id is not None]


def quote_view(quote: wire.Quote) -> QuoteView:
    """A quote as the planner sees it."""
    return QuoteView(symbol=quote.symbol, bid=quote.bid, ask=quote.ask, last=quote.last, mark=quote.mark or quote.mid)


def ticks(schedule: Sequence[TickLike]) -> tuple[Tick, ...]:
    """A tick schedule as plain :class:`~tastyguard.ticks.Tick` values."""
    return tuple(Tick(value=Decimal(entry.value), threshold=entry.threshold) for entry in schedule)


def instrument_view(symbol: str, schedule: Sequence[TickLike], *, closing_only: bool = False) -> InstrumentView:
    """An instrument as the planner sees it."""
    return InstrumentView(symbol=symbol, ticks=ticks(schedule), closing_only=closing_only)
