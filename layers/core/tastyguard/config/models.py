"""The schema of ``tastyguard.yaml``: accounts, environment, mode, stop policy, notifications, schedules.

Every model is frozen and forbids unknown keys, so a typo is an error that names the field, never a
silently ignored setting. :mod:`tastyguard.config.explain` turns validation errors into readable lines.
"""

from __future__ import annotations

import enum
import functools
import re
from datetime import time
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator, model_validator

from tastyguard.config.grants import (
    AccountNumber,
    GrantConfig,
    GrantName,
    ScaleSettings,
    check_grants,
    resolve_grants,
)
from tastyguard.config.policy import PolicyOverride, PolicySet, Symbol


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
    grant: GrantName | None = Field(
        None, description='the grant (login) that reaches this account, when several grants are configured'
    )


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
    follow_prices: bool = Field(
        True,
        description='act on live quotes: ratchet trailing stops, watch software stops, price alerts and stops '
        'the market is through',
    )


class TastyguardConfig(BaseModel):
    """The whole ``tastyguard.yaml``."""

    model_config = _FROZEN

    version: Literal[1] = Field(1, description='the config format version')
    environment: Environment = Field(description='production, sandbox or paper')
    mode: Mode = Field(Mode.SHADOW, description='observe, shadow (default: dry-run only) or live')
    grants: tuple[GrantConfig, ...] = Field(
        (), description="tastytrade logins and their accounts (default: one grant 'default' with every account)"
    )
    accounts: tuple[AccountConfig, ...] = Field(
        (),
        validate_default=True,
        description='the accounts to protect and their settings (optional for accounts a grant lists or discovers)',
    )
    policy: PolicySet = Field(default_factory=PolicySet, description='stop policy for every account')
    hands_off: tuple[Symbol, ...] = Field((), description='symbols tastyguard never touches, in any account')
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    schedules: ScheduleSettings = Field(default_factory=ScheduleSettings)
    safety: SafetySettings = Field(default_factory=SafetySettings)
    streamer: StreamerSettings = Field(default_factory=StreamerSettings)
    scale: ScaleSettings = Field(default_factory=ScaleSettings)

    @field_validator('grants')
    @classmethod
    def _distinct_grants(cls, grants: tuple[GrantConfig, ...]) -> tuple[GrantConfig, ...]:
        check_grants(grants)
        return grants

    @field_validator('accounts')
    @classmethod
    def _accounts_and_their_grants(
        cls, accounts: tuple[AccountConfig, ...], info: ValidationInfo
    ) -> tuple[AccountConfig, ...]:
        seen: set[str] = set()
        for account in accounts:
            if account.account_number in seen:
                raise ValueError(f'account {account.account_number} is listed twice')
            seen.add(account.account_number)
        grants: tuple[GrantConfig, ...] | None = info.data.get('grants')
        if grants is None:
            return accounts  # the grants are invalid; that error is reported on its own
        if not accounts and not any(grant.accounts or grant.discover for grant in grants):
            raise ValueError('at least one account is required')
        resolve_grants(grants, ((a.account_number, a.grant) for a in accounts))
        return accounts

    @functools.cached_property
    def _grant_map(self) -> tuple[tuple[GrantConfig, ...], dict[str, str]]:
        return resolve_grants(self.grants, ((a.account_number, a.grant) for a in self.accounts))

    @property
    def effective_grants(self) -> tuple[GrantConfig, ...]:
        """The grants as configured, or the one ``default`` grant holding every account."""
        return self._grant_map[0]

    def grant(self, name: str) -> GrantConfig:
        """One grant by name; ``KeyError`` naming the known ones."""
        for grant in self.effective_grants:
            if grant.name == name:
                return grant
        raise KeyError(f'grant {name!r} is not configured (grants: {", ".join(g.name for g in self.effective_grants)})')

    def grant_of(self, account_number: str) -> str | None:
        """The grant of an account written in this file (None: not written here, e.g. only discovered)."""
        return self._grant_map[1].get(account_number.strip().upper())

    def configured_accounts(self) -> tuple[AccountConfig, ...]:
        """Every account written in this file: the ``accounts`` entries, then accounts only a grant lists."""
        entries = {account.account_number for account in self.accounts}
        extra = [
            AccountConfig(account_number=number)
            for grant in self.effective_grants
            for number in grant.accounts
            if number not in entries
        ]
        return (*self.accounts, *extra)

    def including(self, account_number: str) -> TastyguardConfig:
        """This configuration with an ``accounts`` entry for ``account_number`` (the top-level settings) if it has
        none: a discovered account, or one that only a grant lists. A no-op for an account with an entry."""
        number = account_number.strip().upper()
        if any(account.account_number == number for account in self.accounts):
            return self
        return self.model_copy(update={'accounts': (*self.accounts, AccountConfig(account_number=number))})

    @model_validator(mode='after')
    def _trailing_below_the_breaker(self) -> Self:
        """Trailing moves must never trip the per-position breaker (it needs a manual reset)."""
        limit = self.safety.max_writes_per_symbol
        for where, value in _trail_limits(self):
            if value >= limit:
                raise ValueError(
                    f'{where}.trail_max_moves is {value}, but safety.max_writes_per_symbol is {limit}: a trailing '
                    f'stop would trip the circuit breaker; use at most {limit - 1} (or raise max_writes_per_symbol)'
                )
        return self

    def account(self, account_number: str) -> AccountConfig:
        """The configuration of one account; :class:`UnknownAccountError` if it is not configured."""
        number = account_number.strip().upper()
        for account in self.configured_accounts():
            if account.account_number == number:
                return account
        raise UnknownAccountError(account_number, tuple(a.account_number for a in self.configured_accounts()))

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


def _trail_limits(config: TastyguardConfig) -> list[tuple[str, int]]:
    """Every ``trail_max_moves`` the file sets, with where (the built-in default is below every breaker)."""
    found: list[tuple[str, int]] = []
    sets = [('policy', config.policy)] + [(f'accounts[{i}].policy', a.policy) for i, a in enumerate(config.accounts)]
    for where, policy in sets:
        layers: list[tuple[str, PolicyOverride]] = [(where, policy)]
        layers += [(f'{where}.instrument_types.{k}', v) for k, v in policy.instrument_types.items()]
        layers += [(f'{where}.symbols.{k}', v) for k, v in policy.symbols.items()]
        found += [(name, layer.trail_max_moves) for name, layer in layers if layer.trail_max_moves is not None]
    return found
