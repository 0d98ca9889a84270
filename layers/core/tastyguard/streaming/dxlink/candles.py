"""Candle subscriptions: the candle symbol (``AAPL{=5m}``), its period and where the history starts.

dxFeed builds candle symbols from a streamer symbol and attributes in braces; the period attribute is
``=<count><unit>`` (tastytrade's docs: ``AAPL{=5m}``, ``SPY{=1h}``, ``AAPL{=1d}``). ``tho=true`` asks for
regular trading hours only. The history comes from ``fromTime`` (epoch ms) to now, newest first; tastytrade
recommends coarser periods the further back you go (1 day back: 1m, 1 week: 5m, 1 month: 30m, 3 months: 1h,
6 months: 2h, longer: 1d), because a year of minutes is half a million events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

_PERIOD = re.compile(r'^(?P<count>[1-9]\d*)?(?P<unit>mo|[smhdwy])$')


class CandleUnit(StrEnum):
    """dxFeed candle period units."""

    SECOND = 's'
    MINUTE = 'm'
    HOUR = 'h'
    DAY = 'd'
    WEEK = 'w'
    MONTH = 'mo'
    YEAR = 'y'


@dataclass(frozen=True, slots=True)
class CandlePeriod:
    """A candle length such as 5 minutes (``CandlePeriod.parse('5m')``)."""

    count: int
    unit: CandleUnit

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f'a candle period needs a count of at least 1, not {self.count}')

    @classmethod
    def parse(cls, text: str) -> CandlePeriod:
        """``'5m'``, ``'1h'``, ``'d'``, ``'2w'``, ``'1mo'``..."""
        match = _PERIOD.match(text.strip())
        if match is None:
            units = ', '.join(unit.value for unit in CandleUnit)
            raise ValueError(f'{text!r} is not a candle period: use <count><unit> with unit one of {units}')
        return cls(int(match['count'] or 1), CandleUnit(match['unit']))

    def __str__(self) -> str:
        return f'{self.count}{self.unit.value}'


@dataclass(frozen=True, slots=True)
class CandleSubscription:
    """Candles of ``symbol`` (a streamer symbol) per ``period`` from ``from_time`` on."""

    symbol: str
    period: CandlePeriod
    from_time: datetime
    trading_hours_only: bool = False

    def __post_init__(self) -> None:
        if not self.symbol or '{' in self.symbol:
            raise ValueError(f'{self.symbol!r}: give the streamer symbol; the candle attributes are added for you')
        if self.from_time.tzinfo is None:
            raise ValueError('from_time must be timezone-aware')

    @property
    def candle_symbol(self) -> str:
        """The symbol events carry: ``AAPL{=5m}`` or ``AAPL{=5m,tho=true}``."""
        extra = ',tho=true' if self.trading_hours_only else ''
        return f'{self.symbol}{{={self.period}{extra}}}'

    @property
    def from_time_ms(self) -> int:
        return int(self.from_time.timestamp() * 1000)
