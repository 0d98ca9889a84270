"""Accounts and the customer (``/customers/me``, ``/customers/me/accounts``)."""

from __future__ import annotations

from datetime import datetime

from tastyguard.broker.models.common import BrokerModel


class Account(BrokerModel):
    """One brokerage account. Only ``account-number`` is required."""

    account_number: str
    nickname: str | None = None
    account_type_name: str | None = None
    margin_or_cash: str | None = None
    is_closed: bool | None = None
    is_firm_error: bool | None = None
    is_firm_proprietary: bool | None = None
    is_futures_approved: bool | None = None
    is_foreign: bool | None = None
    is_test_drive: bool | None = None
    day_trader_status: bool | None = None
    suitable_options_level: str | None = None
    opened_at: datetime | None = None
    created_at: datetime | None = None


class AccountAuthority(BrokerModel):
    """An item of ``GET /customers/me/accounts``: the account and the user's authority over it."""

    account: Account
    authority_level: str | None = None


class Customer(BrokerModel):
    """``GET /customers/me``. Personal fields (name, e-mail, address) are deliberately not modelled."""

    id: str | None = None
    external_id: str | None = None
    is_professional: bool | None = None
    has_industry_affiliation: bool | None = None
    permitted_account_types: tuple[dict[str, object], ...] = ()


class TradingStatus(BrokerModel):
    """``GET /accounts/{n}/trading-status`` (also a streamer notification type)."""

    account_number: str
    is_closing_only: bool | None = None
    is_frozen: bool | None = None
    is_closed: bool | None = None
    is_futures_enabled: bool | None = None
    is_futures_closing_only: bool | None = None
    is_in_margin_call: bool | None = None
    is_pattern_day_trader: bool | None = None
    options_level: str | None = None
    updated_at: datetime | None = None
