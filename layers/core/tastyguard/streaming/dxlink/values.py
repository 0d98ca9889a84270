"""Wire values to Python values: what a COMPACT row cell means.

The JSON decoder gives numbers as :class:`~decimal.Decimal` (``parse_float=Decimal``, so ``190.2`` stays
``190.2``) or ``int``; dxFeed sends missing numbers as the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``
(and a lenient decoder may see bare ``NaN``). All of those, ``null`` and ``""`` become ``None``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

Converter = Callable[[Any], Any]


def to_decimal(value: Any) -> Decimal | None:
    """A finite decimal, else None."""
    if type(value) is Decimal:
        return value if value.is_finite() else None
    if type(value) is int:
        return Decimal(value)
    if type(value) is float:
        return Decimal(repr(value)) if math.isfinite(value) else None
    if type(value) is str and value:
        try:
            number = Decimal(value)
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def to_int(value: Any) -> int | None:
    """A whole number (times, ids, counts), else None."""
    if type(value) is int:
        return value
    number = to_decimal(value) if type(value) is not bool else None
    if number is None or number != number.to_integral_value():
        return None
    return int(number)


def to_flags(value: Any) -> int:
    """Event flags (0 when absent)."""
    return to_int(value) or 0


def to_text(value: Any) -> str | None:
    """A string, else None (``"NaN"`` and ``""`` included: that is how dxFeed says "no value")."""
    if type(value) is str and value and value != 'NaN':
        return value
    return None


def to_bool(value: Any) -> bool | None:
    """A boolean (``true``/``false`` as JSON or as text), else None."""
    if type(value) is bool:
        return value
    if value in {'true', 'false'}:
        return bool(value == 'true')
    return None


CONVERTERS: dict[str, Converter] = {
    'decimal': to_decimal,
    'int': to_int,
    'flags': to_flags,
    'text': to_text,
    'bool': to_bool,
}


def no_constant(_: str) -> None:
    """``json.loads(parse_constant=...)``: bare ``NaN``/``Infinity`` are missing values."""
    return None


_JSON = json.JSONDecoder(parse_float=Decimal, parse_constant=no_constant)


def loads(text: str) -> Any:
    """Decode one DXLink message: numbers as ``Decimal`` (exact), bare ``NaN``/``Infinity`` as None."""
    return _JSON.decode(text)
