"""Complex orders (OCO / OTO / OTOCO) as the API returns them."""

from __future__ import annotations

from datetime import datetime

from tastyguard.broker.models.balances import BuyingPowerEffect, FeeCalculation
from tastyguard.broker.models.common import ApiEnum, ApiMessage, BrokerModel, OptDecimal
from tastyguard.broker.models.orders import Order, OrderStatus


class ComplexOrderType(ApiEnum):
    """Complex order types."""

    OCO = 'OCO'
    OTO = 'OTO'
    OTOCO = 'OTOCO'
    PAIRS = 'PAIRS'
    BLAST = 'BLAST'


class RelatedOrder(BrokerModel):
    """An entry of ``related-orders``."""

    id: int | None = None
    complex_order_id: int | None = None
    complex_order_tag: str | None = None
    replaces_order_id: int | None = None
    replacing_order_id: int | None = None
    status: OrderStatus | None = None


class ComplexOrder(BrokerModel):
    """A complex order; ``id`` is None on a dry-run. Cancel it by this id, not a child's."""

    id: int | None = None
    account_number: str
    type: ComplexOrderType
    orders: tuple[Order, ...] = ()
    trigger_order: Order | None = None
    related_orders: tuple[RelatedOrder, ...] = ()
    terminal_at: datetime | None = None
    ratio_price_threshold: OptDecimal = None
    ratio_price_comparator: str | None = None
    ratio_price_is_threshold_based_on_notional: bool | None = None


class PlacedComplexOrderResponse(BrokerModel):
    """``data`` of ``POST /accounts/{n}/complex-orders`` and ``.../complex-orders/dry-run``."""

    complex_order: ComplexOrder
    warnings: tuple[ApiMessage, ...] = ()
    errors: tuple[ApiMessage, ...] = ()
    notes: tuple[ApiMessage, ...] = ()
    buying_power_effect: BuyingPowerEffect | None = None
    fee_calculation: FeeCalculation | None = None

    @property
    def warning_codes(self) -> tuple[str, ...]:
        """The warning codes, e.g. ``closing_with_no_position``."""
        return tuple(w.code for w in self.warnings if w.code)
