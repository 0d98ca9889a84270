"""Account balances (``GET /accounts/{n}/balances/{currency}``, streamer ``AccountBalance``)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from tastyguard.broker.models.common import BrokerModel, OptDecimal, PriceEffect, signed


class AccountBalance(BrokerModel):
    """The balance of one account in one currency. Everything but the account number is optional."""

    account_number: str
    currency: str | None = None
    cash_balance: OptDecimal = None
    net_liquidating_value: OptDecimal = None
    equity_buying_power: OptDecimal = None
    derivative_buying_power: OptDecimal = None
    day_trading_buying_power: OptDecimal = None
    available_trading_funds: OptDecimal = None
    cash_available_to_withdraw: OptDecimal = None
    maintenance_requirement: OptDecimal = None
    maintenance_excess: OptDecimal = None
    margin_equity: OptDecimal = None
    reg_t_margin_requirement: OptDecimal = None
    long_equity_value: OptDecimal = None
    short_equity_value: OptDecimal = None
    long_derivative_value: OptDecimal = None
    short_derivative_value: OptDecimal = None
    long_futures_value: OptDecimal = None
    short_futures_value: OptDecimal = None
    long_futures_derivative_value: OptDecimal = None
    short_futures_derivative_value: OptDecimal = None
    pending_cash: OptDecimal = None
    pending_cash_effect: PriceEffect | None = None
    snapshot_date: date | None = None
    time_of_day: str | None = None
    updated_at: datetime | None = None

    @property
    def signed_pending_cash(self) -> Decimal | None:
        """Pending cash, negative when it is a debit."""
        return signed(self.pending_cash, self.pending_cash_effect)


class BuyingPowerEffect(BrokerModel):
    """``buying-power-effect`` of a placed or dry-run order."""

    change_in_margin_requirement: OptDecimal = None
    change_in_margin_requirement_effect: PriceEffect | None = None
    change_in_buying_power: OptDecimal = None
    change_in_buying_power_effect: PriceEffect | None = None
    current_buying_power: OptDecimal = None
    current_buying_power_effect: PriceEffect | None = None
    new_buying_power: OptDecimal = None
    new_buying_power_effect: PriceEffect | None = None
    isolated_order_margin_requirement: OptDecimal = None
    isolated_order_margin_requirement_effect: PriceEffect | None = None
    is_spread: bool | None = None
    impact: OptDecimal = None
    effect: PriceEffect | None = None

    @property
    def signed_change_in_buying_power(self) -> Decimal | None:
        """Change in buying power, negative when the order uses buying power."""
        return signed(self.change_in_buying_power, self.change_in_buying_power_effect)

    @property
    def signed_impact(self) -> Decimal | None:
        """The overall impact, negative for a debit."""
        return signed(self.impact, self.effect)


class FeeItem(BrokerModel):
    """One ``*-breakdown`` entry of a fee calculation."""

    name: str | None = None
    value: OptDecimal = None
    effect: PriceEffect | None = None


class FeeCalculation(BrokerModel):
    """``fee-calculation`` of a placed or dry-run order."""

    regulatory_fees: OptDecimal = None
    regulatory_fees_effect: PriceEffect | None = None
    clearing_fees: OptDecimal = None
    clearing_fees_effect: PriceEffect | None = None
    commission: OptDecimal = None
    commission_effect: PriceEffect | None = None
    proprietary_index_option_fees: OptDecimal = None
    proprietary_index_option_fees_effect: PriceEffect | None = None
    total_fees: OptDecimal = None
    total_fees_effect: PriceEffect | None = None
    rebates: OptDecimal = None
    rebates_effect: PriceEffect | None = None
    per_quantity: bool | None = None
    regulatory_fees_breakdown: tuple[FeeItem, ...] = ()
    clearing_fees_breakdown: tuple[FeeItem, ...] = ()
    commission_breakdown: tuple[FeeItem, ...] = ()
    proprietary_fees_breakdown: tuple[FeeItem, ...] = ()
    rebates_breakdown: tuple[FeeItem, ...] = ()

    @property
    def signed_total_fees(self) -> Decimal | None:
        """Total fees, negative when paid."""
        return signed(self.total_fees, self.total_fees_effect)
