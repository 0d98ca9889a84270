"""Rounding prices to an instrument's tick table.

tastytrade publishes a tick schedule per instrument (``tick-sizes``, ``option-tick-sizes``): an entry
*with* a ``threshold`` applies to prices strictly below that threshold, the entry without one applies
at or above the highest threshold. tastytrade's preflight does not reject off-tick prices (the order dies
at the venue), so every price we send is rounded here first.

Rounding direction is the caller's choice. A protective stop is rounded *toward the market* (a long's
sell stop below the market rounds up, a short's buy stop above the market rounds down), so the
configured distance is the most the stop can lose.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Protocol


class Rounding(enum.StrEnum):
    """Which way to move a price that is not on a tick."""

    UP = 'up'
    DOWN = 'down'
    NEAREST = 'nearest'


class TickLike(Protocol):
    """One entry of a tick schedule (the broker's ``TickSize`` model satisfies this)."""

    @property
    def threshold(self) -> Decimal | None: ...

    @property
    def value(self) -> Decimal: ...


@dataclass(frozen=True, slots=True)
class Tick:
    """A tick-schedule entry: ``value`` applies below ``threshold`` (or everywhere above, if None)."""

    value: Decimal
    threshold: Decimal | None = None


PENNY = (Tick(Decimal('0.01')),)
"""A flat one-cent schedule, used when an instrument publishes none."""


class TickTableError(ValueError):
    """The tick schedule is unusable (empty, non-positive ticks, no open-ended entry)."""


def _bands(ticks: Sequence[TickLike]) -> tuple[list[tuple[Decimal, Decimal]], Decimal]:
    """Split a schedule into (threshold, tick) bands sorted ascending plus the open-ended tick."""
    if not ticks:
        raise TickTableError('tick schedule is empty')
    bands: list[tuple[Decimal, Decimal]] = []
    top: Decimal | None = None
    for entry in ticks:
        value = Decimal(entry.value)
        if value <= 0:
            raise TickTableError(f'tick value must be positive, got {value}')
        if entry.threshold is None:
            top = value
        else:
            bands.append((Decimal(entry.threshold), value))
    bands.sort()
    if top is None:
        # The API always ends with an open-ended entry; if it is missing, the last band's tick continues.
        top = bands[-1][1]
    return bands, top


def tick_for(price: Decimal, ticks: Sequence[TickLike]) -> Decimal:
    """The tick that applies at ``price``."""
    bands, top = _bands(ticks)
    for threshold, value in bands:
        if price < threshold:
            return value
    return top


def is_on_tick(price: Decimal, ticks: Sequence[TickLike]) -> bool:
    """True when ``price`` is positive and a whole multiple of the tick that applies at it."""
    if price <= 0:
        return False
    return price % tick_for(price, ticks) == 0


_MODES = {Rounding.UP: ROUND_CEILING, Rounding.DOWN: ROUND_FLOOR, Rounding.NEAREST: ROUND_HALF_UP}


def round_to_tick(price: Decimal, ticks: Sequence[TickLike], direction: Rounding) -> Decimal:
    """Round a positive ``price`` onto the tick schedule, moving only in ``direction``.

    ``UP`` never returns less than ``price``, ``DOWN`` never more, ``NEAREST`` picks the closer tick of
    the band ``price`` is in. The result is always on a valid tick for the band it lands in, also when
    rounding carries it across a threshold. ``DOWN`` may return ``0`` for a price below the first tick;
    callers must treat a non-positive result as "no valid price".
    """
    if not price.is_finite() or price <= 0:
        raise ValueError(f'price must be a positive finite number, got {price}')
    result = price
    # Rounding can move the price into a neighbouring band with a coarser tick; re-round there (same
    # direction). Each pass either returns or moves strictly further in one direction, so few passes occur.
    for _ in range(len(ticks) + 2):
        tick = tick_for(result, ticks)
        rounded = (result / tick).to_integral_value(rounding=_MODES[direction]) * tick
        if rounded <= 0:
            return Decimal(0)
        if is_on_tick(rounded, ticks):
            # Express the price with the tick's exponent (``3.00``, never ``3`` or ``1E+2``).
            return rounded.quantize(tick_for(rounded, ticks))
        if direction is Rounding.NEAREST:
            direction = Rounding.UP if rounded > result else Rounding.DOWN
        result = rounded
    raise TickTableError(f'could not place {price} on the tick schedule')  # pragma: no cover - defensive


def ticks_from_wire(items: Sequence[dict[str, str]] | None) -> tuple[Tick, ...]:
    """Build a schedule from the API's JSON list (``[{"threshold": "3.0", "value": "0.01"}, ...]``)."""
    if not items:
        return PENNY
    return tuple(
        Tick(value=Decimal(item['value']), threshold=Decimal(item['threshold']) if item.get('threshold') else None)
        for item in items
    )
