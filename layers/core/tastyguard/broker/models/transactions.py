"""Transactions (``GET /accounts/{n}/transactions``)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from tastyguard.broker.models.common import BrokerModel, InstrumentType, OptDecimal, PriceEffect, signed


class Transaction(BrokerModel):
    """One ledger entry (a trade, a fee, a dividend...)."""

    id: int
    account_number: str
    transaction_type: str | None = None
    transaction_sub_type: str | None = None
    action: str | None = None
    description: str | None = None
    symbol: str | None = None
    underlying_symbol: str | None = None
    instrument_type: InstrumentType | None = None
    quantity: OptDecimal = None
    price: OptDecimal = None
    value: OptDecimal = None
    value_effect: PriceEffect | None = None
    net_value: OptDecimal = None
    net_value_effect: PriceEffect | None = None
    commission: OptDecimal = None
    commission_effect: PriceEffect | None = None
    clearing_fees: OptDecimal = None
    clearing_fees_effect: PriceEffect | None = None
    regulatory_fees: OptDecimal = None
    regulatory_fees_effect: PriceEffect | None = None
    proprietary_index_option_fees: OptDecimal = None
    proprietary_index_option_fees_effect: PriceEffect | None = None
    is_estimated_fee: bool | None = None
    currency: str | None = None
    order_id: int | None = None
    exec_id: str | None = None
    destination_venue: str | None = None
    executed_at: datetime | None = None
    created_at: datetime | None = None
    transaction_date: date | None = None

    @property
    def signed_net_value(self) -> Decimal | None:
        """Net value, negative for a debit."""
        return signed(self.net_value, self.net_value_effect)
