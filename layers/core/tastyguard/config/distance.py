"""A price distance written as a percentage (``10%``) or an absolute amount (``2.50``).

Config files write distances the way a trader says them: ``distance: 10%`` or ``distance: 2.50``. The
YAML loader reads plain numbers as :class:`~decimal.Decimal`, so no float is ever involved.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

_HUNDRED = Decimal(100)


class DistanceUnit(enum.StrEnum):
    """How a distance is measured."""

    PERCENT = 'percent'
    AMOUNT = 'amount'


@dataclass(frozen=True, slots=True)
class Distance:
    """A non-negative distance: ``value`` percent of a reference price, or ``value`` in price units."""

    value: Decimal
    unit: DistanceUnit

    def of(self, price: Decimal) -> Decimal:
        """The distance in price units, measured from ``price``."""
        if self.unit is DistanceUnit.PERCENT:
            return price * self.value / _HUNDRED
        return self.value

    def __str__(self) -> str:
        text = _plain(self.value)
        return f'{text}%' if self.unit is DistanceUnit.PERCENT else text


def _plain(value: Decimal) -> str:
    """``10`` not ``1E+1``, ``2.5`` not ``2.50000``."""
    return format(value.normalize(), 'f')


_FORMS = "a percentage like '10%', an amount like 2.50, or {percent: 10} / {amount: 2.50}"


def _number(raw: object) -> Decimal:
    if isinstance(raw, bool):
        raise ValueError(f'{raw!r} is not a distance; use {_FORMS}')
    if isinstance(raw, Decimal):
        number = raw
    elif isinstance(raw, int):
        number = Decimal(raw)
    elif isinstance(raw, float):  # only from hand-built dicts; YAML and JSON loading never produce floats
        number = Decimal(repr(raw))
    elif isinstance(raw, str):
        try:
            number = Decimal(raw.strip())
        except InvalidOperation:
            raise ValueError(f'{raw!r} is not a distance; use {_FORMS}') from None
    else:
        raise ValueError(f'{raw!r} is not a distance; use {_FORMS}')
    if not number.is_finite():
        raise ValueError(f'{raw!r} is not a finite number')
    if number < 0:
        raise ValueError(f'{raw!r} is negative; a distance is always written as a positive number')
    return number


def parse_distance(raw: Any) -> Distance:
    """Read a distance from config input (see the module docstring for the accepted forms)."""
    if isinstance(raw, Distance):
        return raw
    if isinstance(raw, dict):
        if len(raw) != 1 or next(iter(raw)) not in ('percent', 'amount'):
            raise ValueError(f'{raw!r} is not a distance; use {_FORMS}')
        ((key, value),) = raw.items()
        return Distance(_number(value), DistanceUnit(key))
    if isinstance(raw, str) and raw.strip().endswith('%'):
        return Distance(_number(raw.strip()[:-1]), DistanceUnit.PERCENT)
    return Distance(_number(raw), DistanceUnit.AMOUNT)


DistanceField = Annotated[
    Distance,
    PlainValidator(parse_distance),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({'type': 'string', 'pattern': r'^\d+(\.\d+)?%?$', 'examples': ['10%', '2.50']}),
]
"""A pydantic field type for :class:`Distance` (serialised back to ``'10%'`` / ``'2.5'``)."""
