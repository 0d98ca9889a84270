"""Positions (``GET /accounts/{n}/positions``, streamer ``CurrentPosition``)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from tastyguard.broker.models.common import BrokerModel, InstrumentType, OptDecimal, PriceEffect, signed


class QuantityDirection(enum.StrEnum):
    """Long, short or flat.

    Deliberately *strict* (not an :class:`ApiEnum`): a position whose direction we cannot read must fail
    parsing, so a read is skipped rather than a position being mistaken for flat or for the wrong side.
    """

    LONG = 'Long'
    SHORT = 'Short'
    ZERO = 'Zero'


class Position(BrokerModel):
    """A current position. ``quantity`` is a magnitude; the side is in ``quantity-direction``."""

    account_number: str
    symbol: str
    instrument_type: InstrumentType
    quantity: Decimal
    quantity_direction: QuantityDirection
    underlying_symbol: str | None = None
    streamer_symbol: str | None = None
    multiplier: OptDecimal = None
    average_open_price: OptDecimal = None
    average_daily_market_close_price: OptDecimal = None
    average_yearly_market_close_price: OptDecimal = None
    close_price: OptDecimal = None
    mark: OptDecimal = None
    mark_price: OptDecimal = None
    cost_effect: PriceEffect | None = None
    realized_day_gain: OptDecimal = None
    realized_day_gain_effect: PriceEffect | None = None
    realized_day_gain_date: date | None = None
    realized_today: OptDecimal = None
    realized_today_effect: PriceEffect | None = None
    realized_today_date: date | None = None
    restricted_quantity: OptDecimal = None
    is_frozen: bool | None = None
    is_suppressed: bool | None = None
    expires_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def is_long(self) -> bool:
        """True for a long position with a non-zero quantity."""
        return self.quantity_direction is QuantityDirection.LONG and self.quantity != 0

    @property
    def is_short(self) -> bool:
        """True for a short position with a non-zero quantity."""
        return self.quantity_direction is QuantityDirection.SHORT and self.quantity != 0

    @property
    def signed_quantity(self) -> Decimal:
        """Quantity with its side: positive long, negative short, zero flat."""
        if self.quantity_direction is QuantityDirection.LONG:
            return abs(self.quantity)
        if self.quantity_direction is QuantityDirection.SHORT:
            return -abs(self.quantity)
        return Decimal(0)

    @property
    def signed_realized_day_gain(self) -> Decimal | None:
        """Realized day gain, negative for a loss (``Debit``)."""
        return signed(self.realized_day_gain, self.realized_day_gain_effect)

    @property
    def signed_realized_today(self) -> Decimal | None:
        """Realized today, negative for a loss (``Debit``)."""
        return signed(self.realized_today, self.realized_today_effect)
