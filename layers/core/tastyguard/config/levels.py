"""Price-alert levels as people write them: ``below 150``, ``above 212.50``, ``-5%`` / ``+10%`` from entry.

A level is an absolute price crossed downwards (``below``) or upwards (``above``), or a percentage from the
position's average open price (negative: below it, positive: above it). Validation names what is wrong and
shows the forms that work.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

_ABSOLUTE = re.compile(r'^(below|above)\s+(\d+(?:\.\d+)?)$', re.IGNORECASE)
_PERCENT = re.compile(r'^([+-])\s*(\d+(?:\.\d+)?)\s*%$')
_FORMS = "'below 150', 'above 212.50', '-5%' or '+10%' (from the average open price)"


class Crossing(enum.StrEnum):
    """Which way the market must cross the level."""

    BELOW = 'below'
    ABOVE = 'above'


@dataclass(frozen=True, slots=True)
class PriceLevel:
    """One alert level (``percent`` set: relative to the entry price, signed)."""

    crossing: Crossing
    price: Decimal | None = None
    percent: Decimal | None = None

    def resolve(self, entry: Decimal) -> Decimal | None:
        """The absolute price of this level for a position opened at ``entry`` (None without an entry)."""
        if self.price is not None:
            return self.price
        if self.percent is None or entry <= 0:
            return None
        return entry * (1 + self.percent / 100)

    def crossed(self, price: Decimal, entry: Decimal) -> bool:
        """True when ``price`` is at or through this level."""
        level = self.resolve(entry)
        if level is None:
            return False
        return price <= level if self.crossing is Crossing.BELOW else price >= level

    def __str__(self) -> str:
        if self.percent is not None:
            return f'{"+" if self.percent > 0 else "-"}{format(abs(self.percent).normalize(), "f")}%'
        return f'{self.crossing} {format(self.price, "f") if self.price is not None else "?"}'


def parse_level(raw: Any) -> PriceLevel:
    """A level from its written form (raises ``ValueError`` naming the forms that work)."""
    if isinstance(raw, PriceLevel):
        return raw
    text = str(raw).strip()
    absolute = _ABSOLUTE.match(text)
    try:
        if absolute:
            price = Decimal(absolute.group(2))
            if price <= 0:
                raise ValueError(f'{text!r}: the price must be above 0')
            return PriceLevel(Crossing(absolute.group(1).lower()), price=price)
        percent = _PERCENT.match(text)
        if percent:
            value = Decimal(percent.group(2))
            if value == 0 or (value >= 100 and percent.group(1) == '-'):
                raise ValueError(f'{text!r}: a percentage from entry must be non-zero (and above -100%)')
            signed = value if percent.group(1) == '+' else -value
            return PriceLevel(Crossing.ABOVE if signed > 0 else Crossing.BELOW, percent=signed)
    except InvalidOperation:
        pass
    raise ValueError(f'{text!r} is not a price-alert level; write it as {_FORMS}')


PriceLevelField = Annotated[PriceLevel, BeforeValidator(parse_level), PlainSerializer(str, return_type=str)]
"""A level in a pydantic model: parsed from text, written back as text."""
