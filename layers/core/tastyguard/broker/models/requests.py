"""Request bodies we send: new orders, complex orders and order edits, serialised to exact wire JSON.

Wire rules: kebab-case keys, decimals as plain strings (``"179.50"``, never ``1E+2``), leg quantities as
JSON integers when whole, no ``null`` keys. :meth:`NewOrder.to_wire` gives the body.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, PlainSerializer, model_validator

from tastyguard.broker.models.common import InstrumentType, PriceEffect, to_kebab
from tastyguard.broker.models.complex_orders import ComplexOrderType
from tastyguard.broker.models.orders import OrderAction, OrderType, TimeInForce


def _plain(value: Decimal) -> str:
    return format(value, 'f')


def _quantity(value: Decimal) -> int | str:
    return int(value) if value == value.to_integral_value() else format(value.normalize(), 'f')


WireDecimal = Annotated[Decimal, PlainSerializer(_plain, return_type=str)]
WireQuantity = Annotated[Decimal, PlainSerializer(_quantity, return_type=int | str)]

_PRICED = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.MARKETABLE_LIMIT})
_UNPRICED = frozenset({OrderType.MARKET, OrderType.STOP, OrderType.NOTIONAL_MARKET})
_TRIGGERED = frozenset({OrderType.STOP, OrderType.STOP_LIMIT})


class RequestModel(BaseModel):
    """Base of request bodies: frozen, kebab-case on the wire, unknown keyword arguments rejected."""

    model_config = ConfigDict(
        frozen=True,
        extra='forbid',
        alias_generator=to_kebab,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        defer_build=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON body as a dict (kebab-case, strings for decimals, no nulls)."""
        return self.model_dump(mode='json', by_alias=True, exclude_none=True)


class NewOrderLeg(RequestModel):
    """A leg of a new order."""

    instrument_type: InstrumentType
    symbol: str
    action: OrderAction
    quantity: WireQuantity | None = None

    @model_validator(mode='after')
    def _check(self) -> Self:
        if not self.symbol.strip():
            raise ValueError('leg symbol must not be empty')
        if self.quantity is not None and self.quantity <= 0:
            raise ValueError(f'leg quantity must be positive, got {self.quantity}')
        return self


class AdvancedInstructions(RequestModel):
    """``advanced-instructions``; strict validation makes a closing order without a position fail."""

    strict_position_effect_validation: bool | None = None


class NewOrder(RequestModel):
    """A new (or replacement) order body. Checks the API's structural rules before anything is sent."""

    time_in_force: TimeInForce
    order_type: OrderType
    legs: tuple[NewOrderLeg, ...]
    price: WireDecimal | None = None
    price_effect: PriceEffect | None = None
    stop_trigger: WireDecimal | None = None
    gtc_date: date | None = None
    value: WireDecimal | None = None
    value_effect: PriceEffect | None = None
    source: str | None = None
    external_identifier: str | None = None
    partition_key: str | None = None
    preflight_id: str | None = None
    advanced_instructions: AdvancedInstructions | None = None

    @model_validator(mode='after')
    def _check(self) -> Self:
        if not 1 <= len(self.legs) <= 4:
            raise ValueError(f'an order has 1 to 4 legs, got {len(self.legs)}')
        symbols = [leg.symbol for leg in self.legs]
        if len(set(symbols)) != len(symbols):
            raise ValueError('an order must not repeat a leg symbol')
        if self.order_type in _PRICED and (self.price is None or self.price_effect is None):
            raise ValueError(f'a {self.order_type} order needs price and price-effect')
        if self.order_type in _UNPRICED and self.price is not None:
            raise ValueError(f'a {self.order_type} order must not carry a price')
        if self.order_type in _TRIGGERED and self.stop_trigger is None:
            raise ValueError(f'a {self.order_type} order needs a stop-trigger')
        for name in ('price', 'stop_trigger', 'value'):
            amount = getattr(self, name)
            if amount is not None and (not amount.is_finite() or amount <= 0):
                raise ValueError(f'{to_kebab(name)} must be a positive number (the sign goes in the effect)')
        if self.time_in_force == TimeInForce.GTD and self.gtc_date is None:
            raise ValueError('a GTD order needs gtc-date')
        return self


class NewComplexOrder(RequestModel):
    """A complex order body (``{"type": "OCO", "orders": [...]}``)."""

    type: ComplexOrderType
    orders: tuple[NewOrder, ...]
    trigger_order: NewOrder | None = None

    @model_validator(mode='after')
    def _check(self) -> Self:
        if not self.orders:
            raise ValueError('a complex order needs at least one order')
        if self.type == ComplexOrderType.OCO:
            kinds = sorted(str(order.order_type) for order in self.orders)
            if len(kinds) != 2 or kinds[0] != OrderType.LIMIT or kinds[1] not in (OrderType.STOP, OrderType.STOP_LIMIT):
                raise ValueError('an OCO order needs exactly one Limit and one Stop or Stop Limit order')
            if self.trigger_order is not None:
                raise ValueError('an OCO order has no trigger order')
        return self


class OrderEdit(RequestModel):
    """``PATCH /accounts/{n}/orders/{id}`` body: only price and execution properties may change."""

    order_type: OrderType | None = None
    time_in_force: TimeInForce | None = None
    price: WireDecimal | None = None
    price_effect: PriceEffect | None = None
    stop_trigger: WireDecimal | None = None
    gtc_date: date | None = None

    @model_validator(mode='after')
    def _check(self) -> Self:
        if not self.model_dump(exclude_none=True):
            raise ValueError('an order edit must change at least one field')
        for name in ('price', 'stop_trigger'):
            amount = getattr(self, name)
            if amount is not None and (not amount.is_finite() or amount <= 0):
                raise ValueError(f'{to_kebab(name)} must be a positive number')
        return self
