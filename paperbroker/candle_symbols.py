"""dxFeed candle symbols: ``AAPL{=5m}``, ``SPY{=1h,tho=true}``, ``/ESZ26:XCME{=d}``, ``AAPL{=2h,price=mark}``.

The part before ``{`` is the streamer symbol (an ``&X`` exchange suffix is dropped); inside the braces the first
attribute is the period, ``=<count><unit>`` (count 1 when omitted; units ``m`` minutes, ``h`` hours, ``d`` days,
``w`` weeks, ``mo`` months, ``y`` years), followed by ``key=value`` attributes. This broker understands
``tho=true`` (regular trading hours only) and ``price=last|mark|bid|ask`` (which price builds the candle, ``last``
by default); other attributes are accepted and ignored. Seconds, ticks, volume and price-range periods are not
modelled (the broker keeps minute buckets): such subscriptions get no events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UNIT_SECONDS = {'m': 60, 'h': 3600, 'd': 86_400, 'w': 7 * 86_400}
CALENDAR_UNITS = frozenset({'mo', 'y'})
PRICE_KINDS = frozenset({'last', 'mark', 'bid', 'ask'})
_PERIOD = re.compile(r'^(?P<count>\d+(?:\.\d+)?)?(?P<unit>mo|[a-z]+)$')


@dataclass(frozen=True)
class CandleSymbol:
    """A parsed candle symbol."""

    text: str  # exactly as subscribed (events carry it back)
    base: str  # the streamer symbol the candles are built from
    count: int
    unit: str  # m, h, d, w, mo or y
    trading_hours_only: bool = False
    price: str = 'last'

    @property
    def seconds(self) -> int | None:
        """The period's length for fixed-length units (None for months and years)."""
        return self.count * UNIT_SECONDS[self.unit] if self.unit in UNIT_SECONDS else None

    @property
    def intraday(self) -> bool:
        return self.unit in {'m', 'h'}


def parse_candle_symbol(text: str) -> CandleSymbol | None:
    """The candle symbol's parts, or None when it is not one this broker builds candles for."""
    if not text.endswith('}') or '{' not in text:
        return None
    base, _, attributes = text[:-1].partition('{')
    base = base.split('&', 1)[0]
    parts = [part.strip() for part in attributes.split(',') if part.strip()]
    if not base or not parts or not parts[0].startswith('='):
        return None
    match = _PERIOD.match(parts[0][1:])
    if match is None:
        return None
    unit = match['unit']
    count_text = match['count'] or '1'
    if unit not in UNIT_SECONDS and unit not in CALENDAR_UNITS:
        return None
    if '.' in count_text or int(count_text) < 1:
        return None
    options = dict(part.partition('=')[::2] for part in parts[1:])
    price = options.get('price', 'last').lower()
    return CandleSymbol(
        text=text,
        base=base,
        count=int(count_text),
        unit=unit,
        trading_hours_only=options.get('tho', 'false').lower() == 'true',
        price=price if price in PRICE_KINDS else 'last',
    )
