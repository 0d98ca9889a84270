"""Decimal parsing and the API's number formats (string decimals, magnitude + ``*-effect``)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

ZERO = Decimal(0)


def to_decimal(value: Any) -> Decimal | None:
    """A Decimal from a JSON number or string, or None when it is not a finite number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int | float | str):
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation:
            return None
        return result if result.is_finite() else None
    return None


def fmt(value: Decimal) -> str:
    """Format like the API: no exponent, no trailing zeros, at least one decimal (``"3.0"``, ``"1.02"``)."""
    text = format(value.normalize(), 'f')
    if '.' not in text:
        text += '.0'
    return '0.0' if text in {'-0.0', '-0'} else text


def fmt_qty(value: Decimal) -> str:
    """Position quantities: ``"100"`` for whole numbers, ``"0.5"`` otherwise."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), 'f')


def wire_int(value: Decimal) -> int | str:
    """Order sizes and leg quantities: JSON ints when whole, else a decimal string."""
    if value == value.to_integral_value():
        return int(value)
    return format(value.normalize(), 'f')


def effect(value: Decimal, positive: str = 'Credit', negative: str = 'Debit') -> str:
    """The ``*-effect`` of a signed amount: Credit for money in, Debit for money out, None for zero."""
    if value > 0:
        return positive
    if value < 0:
        return negative
    return 'None'


def money(value: Decimal, places: int = 6) -> Decimal:
    """Round an amount for storage (half up)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def signed_pair(prefix: str, value: Decimal) -> dict[str, str]:
    """``{"prefix": "<magnitude>", "prefix-effect": "Credit|Debit|None"}``."""
    return {prefix: fmt(abs(value)), f'{prefix}-effect': effect(value)}
