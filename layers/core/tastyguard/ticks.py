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
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
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


def _band_list(ticks: Sequence[TickLike]) -> list[tuple[Decimal, Decimal | None, Decimal]]:
    """The schedule as contiguous ``(lower, upper, tick)`` bands from 0 upward (``upper`` None = open)."""
    bands, top = _bands(ticks)
    out: list[tuple[Decimal, Decimal | None, Decimal]] = []
    lower = Decimal(0)
    for threshold, value in bands:
        if threshold <= lower:  # a duplicate or non-positive threshold is shadowed, as in tick_for
            continue
        out.append((lower, threshold, value))
        lower = threshold
    out.append((lower, None, top))
    return out


def _up(price: Decimal, bands: list[tuple[Decimal, Decimal | None, Decimal]]) -> Decimal:
    """The smallest valid price at or above ``price``."""
    for lower, upper, tick in bands:
        if upper is not None and price >= upper:
            continue
        candidate = (max(price, lower) / tick).to_integral_value(rounding=ROUND_CEILING) * tick
        if upper is None or candidate < upper:
            return candidate
    raise TickTableError(f'could not place {price} on the tick schedule')  # pragma: no cover - top band is open


def _down(price: Decimal, bands: list[tuple[Decimal, Decimal | None, Decimal]]) -> Decimal:
    """The largest valid price at or below ``price``, or 0 when there is none."""
    for lower, upper, tick in reversed(bands):
        if lower > price:
            continue
        if upper is None or price < upper:
            candidate = (price / tick).to_integral_value(rounding=ROUND_FLOOR) * tick
        else:  # the largest multiple of the tick strictly below the band's upper bound
            candidate = ((upper / tick).to_integral_value(rounding=ROUND_CEILING) - 1) * tick
        if candidate >= lower and candidate > 0:
            return candidate
    return Decimal(0)


def round_to_tick(price: Decimal, ticks: Sequence[TickLike], direction: Rounding) -> Decimal:
    """Round a positive ``price`` onto the tick schedule, moving only in ``direction``.

    ``UP`` returns the smallest valid price at or above ``price``, ``DOWN`` the largest at or below it,
    ``NEAREST`` the closer of the two (the upper one on a tie). A price is valid when it is a multiple of
    the tick of the band it lies in, so the result is always on a tick of the band it lands in, also when
    rounding crosses a threshold, and no valid price lies between ``price`` and the result. ``DOWN`` may
    return ``0`` for a price below the first tick; callers must treat that as "no valid price".
    """
    if not price.is_finite() or price <= 0:
        raise ValueError(f'price must be a positive finite number, got {price}')
    bands = _band_list(ticks)
    if direction is Rounding.UP:
        result = _up(price, bands)
    elif direction is Rounding.DOWN:
        result = _down(price, bands)
    else:
        up, down = _up(price, bands), _down(price, bands)
        result = up if down <= 0 or up - price <= price - down else down
    if result <= 0:
        return Decimal(0)
    # Express the price with the tick's exponent (``3.00``, never ``3`` or ``1E+2``).
    return result.quantize(tick_for(result, ticks))


def ticks_from_wire(items: Sequence[dict[str, str]] | None) -> tuple[Tick, ...]:
    """Build a schedule from the API's JSON list (``[{"threshold": "3.0", "value": "0.01"}, ...]``)."""
    if not items:
        return PENNY
    return tuple(
        Tick(value=Decimal(item['value']), threshold=Decimal(item['threshold']) if item.get('threshold') else None)
        for item in items
    )
