"""Orders as the API returns them: placed, searched, live, dry-run, streamed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from tastyguard.broker.models.balances import BuyingPowerEffect, FeeCalculation
from tastyguard.broker.models.common import (
    ApiEnum,
    ApiMessage,
    BrokerModel,
    EpochMillis,
    InstrumentType,
    OptDecimal,
    PriceEffect,
    millis_to_datetime,
    signed,
)


class OrderStatus(ApiEnum):
    """Order statuses (``Cancelled`` with two l's is the wire value)."""

    RECEIVED = 'Received'
    ROUTED = 'Routed'
    IN_FLIGHT = 'In Flight'
    LIVE = 'Live'
    CANCEL_REQUESTED = 'Cancel Requested'
    REPLACE_REQUESTED = 'Replace Requested'
    CONTINGENT = 'Contingent'
    FILLED = 'Filled'
    CANCELLED = 'Cancelled'
    EXPIRED = 'Expired'
    REJECTED = 'Rejected'
    REMOVED = 'Removed'
    PARTIALLY_REMOVED = 'Partially Removed'

    @property
    def is_terminal(self) -> bool:
        """True for a status the order never leaves (unknown statuses are not terminal)."""
        return self in _TERMINAL


_TERMINAL = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELLED,
        OrderStatus.EXPIRED,
        OrderStatus.REJECTED,
        OrderStatus.REMOVED,
        OrderStatus.PARTIALLY_REMOVED,
    }
)


class OrderType(ApiEnum):
    """Order types accepted by the API."""

    LIMIT = 'Limit'
    MARKET = 'Market'
    MARKETABLE_LIMIT = 'Marketable Limit'
    STOP = 'Stop'
    STOP_LIMIT = 'Stop Limit'
    NOTIONAL_MARKET = 'Notional Market'


class TimeInForce(ApiEnum):
    """Time-in-force values (Ext variants: single-leg equity only)."""

    DAY = 'Day'
    GTC = 'GTC'
    GTD = 'GTD'
    EXT = 'Ext'
    EXT_OVERNIGHT = 'Ext Overnight'
    GTC_EXT = 'GTC Ext'
    GTC_EXT_OVERNIGHT = 'GTC Ext Overnight'
    IOC = 'IOC'


class OrderAction(ApiEnum):
    """Leg actions. ``Buy``/``Sell`` are for outright futures."""

    BUY_TO_OPEN = 'Buy to Open'
    BUY_TO_CLOSE = 'Buy to Close'
    SELL_TO_OPEN = 'Sell to Open'
    SELL_TO_CLOSE = 'Sell to Close'
    BUY = 'Buy'
    SELL = 'Sell'
    ALLOCATE = 'Allocate'

    @property
    def is_buy(self) -> bool:
        """True for the buying actions."""
        return self.value.startswith('Buy')

    @property
    def is_sell(self) -> bool:
        """True for the selling actions."""
        return self.value.startswith('Sell')

    @property
    def is_closing(self) -> bool:
        """True for ``Buy to Close`` / ``Sell to Close``."""
        return self.value.endswith('to Close')


class Fill(BrokerModel):
    """One execution of an order leg."""

    quantity: Decimal
    fill_price: Decimal
    fill_id: str | None = None
    filled_at: datetime | None = None
    destination_venue: str | None = None
    ext_group_fill_id: str | None = None
    ext_exec_id: str | None = None


class OrderLeg(BrokerModel):
    """A leg of a placed order. ``quantity`` is absent on notional orders."""

    instrument_type: InstrumentType
    symbol: str
    action: OrderAction
    quantity: OptDecimal = None
    remaining_quantity: OptDecimal = None
    fills: tuple[Fill, ...] = ()

    @property
    def filled_quantity(self) -> Decimal:
        """Sum of the fills attached so far (fills can arrive after the order shows ``Filled``)."""
        return sum((fill.quantity for fill in self.fills), Decimal(0))


class Order(BrokerModel):
    """A placed order (or a dry-run one: then ``id`` is None and ``updated-at`` is 0)."""

    id: int | None = None
    account_number: str
    status: OrderStatus
    order_type: OrderType
    legs: tuple[OrderLeg, ...]
    time_in_force: TimeInForce | None = None
    gtc_date: date | None = None
    size: OptDecimal = None
    underlying_symbol: str | None = None
    underlying_instrument_type: InstrumentType | None = None
    price: OptDecimal = None
    price_effect: PriceEffect | None = None
    value: OptDecimal = None
    value_effect: PriceEffect | None = None
    stop_trigger: OptDecimal = None
    contingent_status: str | None = None
    confirmation_status: str | None = None
    cancellable: bool | None = None
    editable: bool | None = None
    edited: bool | None = None
    received_at: datetime | None = None
    in_flight_at: datetime | None = None
    live_at: datetime | None = None
    cancelled_at: datetime | None = None
    terminal_at: datetime | None = None
    updated_at: EpochMillis = None
    cancel_user_id: str | None = None
    cancelled_size: OptDecimal = None
    reject_reason: str | None = None
    replaces_order_id: int | None = None
    replacing_order_id: int | None = None
    complex_order_id: int | None = None
    complex_order_tag: str | None = None
    preflight_id: str | None = None
    global_request_id: str | None = None
    source: str | None = None
    external_identifier: str | None = None
    ext_client_order_id: str | None = None
    partition_key: str | None = None

    @property
    def signed_price(self) -> Decimal | None:
        """Limit price with its effect: negative for a debit (paying), positive for a credit."""
        return signed(self.price, self.price_effect)

    @property
    def signed_value(self) -> Decimal | None:
        """Notional value with its effect (negative for a debit)."""
        return signed(self.value, self.value_effect)

    @property
    def updated_at_datetime(self) -> datetime | None:
        """``updated-at`` (epoch ms) as an aware UTC datetime; None when missing or 0."""
        return millis_to_datetime(self.updated_at)

    @property
    def is_terminal(self) -> bool:
        """True when the order can no longer fill or be changed."""
        return self.status.is_terminal

    @property
    def remaining_quantity(self) -> Decimal:
        """Remaining quantity of the first leg (the order's size for single-leg orders)."""
        if not self.legs:
            return Decimal(0)
        leg = self.legs[0]
        if leg.remaining_quantity is not None:
            return leg.remaining_quantity
        return leg.quantity or Decimal(0)


class PlacedOrderResponse(BrokerModel):
    """``data`` of ``POST /accounts/{n}/orders`` and ``.../orders/dry-run``."""

    order: Order
    warnings: tuple[ApiMessage, ...] = ()
    errors: tuple[ApiMessage, ...] = ()
    notes: tuple[ApiMessage, ...] = ()
    buying_power_effect: BuyingPowerEffect | None = None
    fee_calculation: FeeCalculation | None = None
    closing_fee_calculation: FeeCalculation | None = None

    @property
    def warning_codes(self) -> tuple[str, ...]:
        """The warning codes, e.g. ``closing_with_no_position``."""
        return tuple(w.code for w in self.warnings if w.code)
