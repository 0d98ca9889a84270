"""Base model, tolerant enums and wire-format helpers shared by every broker model.

tastytrade's JSON is kebab-case, sends decimals as strings, never sends a negative amount (a magnitude
plus a ``*-effect`` of ``Credit``/``Debit``/``None``), and adds fields and enum values without notice.
The models here therefore ignore unknown keys, keep everything but the essentials optional, and use
enums that accept values they have never seen (:class:`ApiEnum`).
"""

from __future__ import annotations

import enum
import math
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict


def to_kebab(name: str) -> str:
    """``account_number`` -> ``account-number``."""
    return name.replace('_', '-')


class BrokerModel(BaseModel):
    """Immutable, kebab-case, drift-tolerant base of every tastytrade payload model."""

    model_config = ConfigDict(
        frozen=True,
        extra='ignore',
        alias_generator=to_kebab,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        coerce_numbers_to_str=True,
        defer_build=True,
    )


class ApiEnum(enum.StrEnum):
    """A tastytrade string set that tolerates values the API adds later.

    An unknown value becomes a pseudo-member (``name == 'UNKNOWN'``, ``value`` the raw string) instead
    of a validation error, so a new order status never breaks parsing of a whole order list. It still
    compares equal to its raw string; check :attr:`is_known` before relying on it.
    """

    @classmethod
    def _missing_(cls, value: object) -> Self | None:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = 'UNKNOWN'
        member._value_ = value
        return member

    @property
    def is_known(self) -> bool:
        """False for a value this version of tastyguard has never seen."""
        return self._value_ in type(self)._value2member_map_


class PriceEffect(ApiEnum):
    """The sign of an amount: money received (``Credit``) or paid (``Debit``)."""

    CREDIT = 'Credit'
    DEBIT = 'Debit'
    NONE = 'None'


class InstrumentType(ApiEnum):
    """Instrument types as tastytrade spells them."""

    EQUITY = 'Equity'
    EQUITY_OPTION = 'Equity Option'
    EQUITY_OFFERING = 'Equity Offering'
    FUTURE = 'Future'
    FUTURE_OPTION = 'Future Option'
    CRYPTOCURRENCY = 'Cryptocurrency'
    INDEX = 'Index'
    BOND = 'Bond'
    WARRANT = 'Warrant'
    FIXED_INCOME = 'Fixed Income Security'
    LIQUIDITY_POOL = 'Liquidity Pool'
    EVENT_CONTRACT = 'Event Contract'


class OptionType(ApiEnum):
    """Call or put, as the instrument endpoints spell it."""

    CALL = 'C'
    PUT = 'P'


def signed(amount: Decimal | None, effect: PriceEffect | None) -> Decimal | None:
    """Apply a ``*-effect`` to a magnitude: ``Debit`` is negative, ``Credit`` and ``None`` positive."""
    if amount is None:
        return None
    if effect == PriceEffect.DEBIT:
        return -abs(amount)
    if effect == PriceEffect.CREDIT:
        return abs(amount)
    return amount


def _finite_decimal_or_none(value: Any) -> Any:
    """Map the API's non-numbers (``"NaN"``, ``"Infinity"``, ``""``) to None; leave the rest to pydantic."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            parsed = Decimal(text)
        except InvalidOperation:
            return value  # pydantic reports it with the field name
        return parsed if parsed.is_finite() else None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


OptDecimal = Annotated[Decimal | None, BeforeValidator(_finite_decimal_or_none)]
"""An optional amount; ``NaN``/``Infinity``/empty become None instead of failing the whole payload."""


def _epoch_millis(value: Any) -> Any:
    """Accept epoch milliseconds as int or digit string, or an ISO-8601 timestamp (converted to ms)."""
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip('-').isdigit():
            return int(text)
        try:
            parsed = datetime.fromisoformat(text.replace('Z', '+00:00'))
        except ValueError:
            return value
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return int(parsed.timestamp() * 1000)
    return value


EpochMillis = Annotated[int | None, BeforeValidator(_epoch_millis)]
"""Order ``updated-at``: epoch milliseconds (``0`` on dry-runs)."""


def millis_to_datetime(value: int | None) -> datetime | None:
    """Epoch milliseconds to an aware UTC datetime (None for missing or ``0``)."""
    if not value:
        return None
    return datetime.fromtimestamp(value / 1000, tz=UTC)


class ApiMessage(BrokerModel):
    """A warning, note or error entry: ``{code, message}`` or ``{domain, reason}``."""

    code: str | None = None
    message: str | None = None
    domain: str | None = None
    reason: str | None = None
    preflight_id: str | None = None
    url: str | None = None

    def __str__(self) -> str:
        if self.code or self.message:
            head, tail = self.code, self.message
        else:
            head, tail = self.domain, self.reason
        return ': '.join(part for part in (head, tail) if part) or 'unspecified'
