"""The schema of ``tastyguard.yaml``: accounts, environment, mode, stop policy, notifications, schedules.

Every model is frozen and forbids unknown keys, so a typo is an error that names the field, never a
silently ignored setting. :mod:`tastyguard.config.explain` turns validation errors into readable lines.
"""

from __future__ import annotations

import enum
import re
from datetime import time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from tastyguard.config.policy import PolicySet, Symbol


class Mode(enum.StrEnum):
    """How far tastyguard goes: report only, dry-run every order at the broker, or submit."""

    OBSERVE = 'observe'
    SHADOW = 'shadow'
    LIVE = 'live'


class Environment(enum.StrEnum):
    """Which broker tastyguard talks to."""

    PRODUCTION = 'production'
    SANDBOX = 'sandbox'
    PAPER = 'paper'


class Severity(enum.StrEnum):
    """How urgent a message is (ordered: info < warning < critical)."""

    INFO = 'info'
    WARNING = 'warning'
    CRITICAL = 'critical'

    @property
    def rank(self) -> int:
        """0 for info, 1 for warning, 2 for critical."""
        return list(Severity).index(self)


_FROZEN = ConfigDict(frozen=True, extra='forbid')

AccountNumber = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r'^[A-Za-z0-9]{4,16}$')]
EmailAddress = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r'^[^@\s]+@[^@\s]+\.[^@\s]+$')]


class AccountConfig(BaseModel):
    """One tastytrade account and how it is protected."""

    model_config = _FROZEN

    account_number: AccountNumber = Field(description="the tastytrade account number, e.g. '5WX01234'")
    nickname: str | None = Field(None, description='a name for messages (never the account number alone)')
    enabled: bool = Field(True, description='false: skip this account entirely')
    mode: Mode | None = Field(None, description='observe, shadow or live (default: the top-level mode)')
    policy: PolicySet = Field(default_factory=PolicySet, description='stop policy for this account')
    hands_off: tuple[Symbol, ...] = Field((), description='symbols tastyguard never touches in this account')


class SlackSettings(BaseModel):
    """Slack delivery through the notifier Lambda (the webhook URL itself lives in Secrets Manager)."""

    model_config = _FROZEN

    enabled: bool = Field(False, description='send messages to Slack')
    webhook_secret_name: str = Field(
        'tastyguard/slack-webhook', min_length=1, description='the Secrets Manager secret holding the webhook URL'
    )

    @model_validator(mode='before')
    @classmethod
    def _no_secret_in_config(cls, data: Any) -> Any:
        if isinstance(data, dict) and any('url' in str(key).lower() for key in data):
            raise ValueError(
                'the Slack webhook URL is a secret and does not belong in this file: store it in AWS Secrets '
                'Manager and set webhook_secret_name to the name of that secret'
            )
        return data


class NotificationSettings(BaseModel):
    """Who hears about what."""

    model_config = _FROZEN

    email: tuple[EmailAddress, ...] = Field((), description='addresses subscribed to the SNS topic')
    slack: SlackSettings = Field(default_factory=SlackSettings)
    min_severity: Severity = Field(Severity.WARNING, description='send alerts at or above: info, warning, critical')
    realert_after_minutes: int = Field(
        240, ge=5, le=10_080, description='repeat an unresolved alert after this many minutes'
    )
    digest: bool = Field(True, description='send the daily digest (time: schedules.digest_time)')


class ScheduleSettings(BaseModel):
    """When the scheduled jobs run (EventBridge Scheduler, in ``timezone``)."""

    model_config = _FROZEN

    timezone: str = Field('America/New_York', description='IANA time zone of the schedules')
    market_hours_only: bool = Field(True, description='run the jobs only while the market is open')
    ensure_stops_minutes: int = Field(5, ge=1, le=60, description='check stops every N minutes')
    sync_positions_minutes: int = Field(5, ge=1, le=60, description='snapshot positions every N minutes')
    reconcile_orders_minutes: int = Field(15, ge=1, le=240, description='reconcile orders every N minutes')
    digest_time: time = Field(time(16, 30), description="daily digest time, quoted: '16:30'")

    @field_validator('timezone')
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name like 'America/New_York'") from None
        return value

    @field_validator('digest_time', mode='before')
    @classmethod
    def _hh_mm(cls, value: Any) -> Any:
        if isinstance(value, str) and not re.fullmatch(r'([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?', value.strip()):
            raise ValueError(f"{value!r} is not a time of day; write it as 'HH:MM', e.g. '16:30'")
        return value


class SafetySettings(BaseModel):
    """Switches that stop order writes without cancelling any protective stop."""

    model_config = _FROZEN

    kill_switch: bool = Field(False, description='true: no order writes at all (existing stops stay)')
    max_order_writes: int = Field(
        200, ge=1, le=5000, description='circuit breaker: order writes per window per account (all symbols)'
    )
    max_writes_per_symbol: int = Field(
        6, ge=1, le=100, description='circuit breaker: order writes per window for one position (a runaway loop)'
    )
    window_minutes: int = Field(15, ge=1, le=1440, description='circuit breaker window')


class StreamerSettings(BaseModel):
    """The long-lived streamer (account streamer + DXLink) and how the jobs use what it sees."""

    model_config = _FROZEN

    quote_max_age_seconds: int = Field(
        15,
        ge=1,
        le=600,
        description="jobs use the streamer's latest quote instead of a REST quote while it is this fresh",
    )
    quote_write_seconds: float = Field(
        2.0, ge=0.5, le=60, description='how often the streamer writes the latest quotes it saw (changed symbols only)'
    )
    catch_up_on_reconnect: bool = Field(
        True,
        description='after every reconnect, reconcile and protect each account (fills may have happened meanwhile)',
    )


class TastyguardConfig(BaseModel):
    """The whole ``tastyguard.yaml``."""

    model_config = _FROZEN

    version: Literal[1] = Field(1, description='the config format version')
    environment: Environment = Field(description='production, sandbox or paper')
    mode: Mode = Field(Mode.SHADOW, description='observe, shadow (default: dry-run only) or live')
    accounts: tuple[AccountConfig, ...] = Field(min_length=1, description='the accounts to protect')
    policy: PolicySet = Field(default_factory=PolicySet, description='stop policy for every account')
    hands_off: tuple[Symbol, ...] = Field((), description='symbols tastyguard never touches, in any account')
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    schedules: ScheduleSettings = Field(default_factory=ScheduleSettings)
    safety: SafetySettings = Field(default_factory=SafetySettings)
    streamer: StreamerSettings = Field(default_factory=StreamerSettings)

    @field_validator('accounts')
    @classmethod
    def _unique_accounts(cls, accounts: tuple[AccountConfig, ...]) -> tuple[AccountConfig, ...]:
        seen: set[str] = set()
        for account in accounts:
            if account.account_number in seen:
                raise ValueError(f'account {account.account_number} is listed twice')
            seen.add(account.account_number)
        return accounts

    def account(self, account_number: str) -> AccountConfig:
        """The configuration of one account; :class:`UnknownAccountError` if it is not configured."""
        for account in self.accounts:
            if account.account_number == account_number.strip().upper():
                return account
        raise UnknownAccountError(account_number, tuple(a.account_number for a in self.accounts))

    def mode_for(self, account: AccountConfig) -> Mode:
        """The account's mode (its own setting, or the top-level mode)."""
        return account.mode or self.mode


class UnknownAccountError(KeyError):
    """An account number that the configuration does not list."""

    def __init__(self, account_number: str, known: tuple[str, ...]) -> None:
        self.account_number = account_number
        self.known = known
        super().__init__(f'account {account_number} is not in the configuration (configured: {", ".join(known)})')

    def __str__(self) -> str:
        return str(self.args[0])
