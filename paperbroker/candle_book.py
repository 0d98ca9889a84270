"""Candles for DXLink ``Candle`` subscriptions, built from the broker's own quote path.

Since the last reset the book keeps one-minute buckets (open, high, low, close, count) of every symbol's
``last``, ``mark``, ``bid`` and ``ask``: the reset's quotes are the first bucket and every quote change after it
adds to the current minute (virtual time, so ``advance_clock`` builds days of history in a test). Before the
reset there is no recorded path, so the book generates one: a deterministic, smooth walk (a sum of seeded sine
waves from a few minutes to a year long) that ends exactly at the reset's price. The same symbol, price and reset
time always give the same history, whatever the candle period.

A history is returned newest first (the order dxFeed sends a time-series snapshot), periods without a recorded
price are skipped (no trades, no candle), and the period in progress is always included: it is the "live"
candle that the feed re-sends on every quote change. At most ``limit`` candles come back; when older ones were
cut off the series says so (the feed then flags the oldest one ``SNAPSHOT_SNIP`` instead of ``SNAPSHOT_END``).
"""

from __future__ import annotations

import bisect
import hashlib
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from paperbroker.candle_periods import in_history_session, next_start, period_start, previous_start
from paperbroker.candle_symbols import CandleSymbol
from paperbroker.clock import epoch_ms

if TYPE_CHECKING:
    from paperbroker.core import Core
    from paperbroker.model import Quote

KINDS = ('last', 'mark', 'bid', 'ask')
MINUTE_MS = 60_000
MAX_BUCKETS = 50_000  # per symbol and price kind (about five weeks of minutes); the oldest go first
SAMPLES = 8  # points of the generated path per candle
# (amplitude of log-price, wave length in days): minutes to a year, roughly 1.5 % a day, 30 % a year
WAVES = ((0.0015, 11 / 1440), (0.003, 1 / 24), (0.008, 1.0), (0.02, 7.0), (0.04, 31.0), (0.06, 97.0), (0.1, 367.0))


@dataclass(frozen=True)
class Candle:
    """One period's prices."""

    time: int  # period start, epoch ms
    open: float
    high: float
    low: float
    close: float
    count: int
    vwap: float


@dataclass
class CandleSeries:
    """A history, newest first; ``snipped`` when older candles exist but were left out."""

    candles: list[Candle]
    snipped: bool = False


def _round(price: float) -> float:
    return round(price, 4 if price < 1 else 2)


class SyntheticPath:
    """A deterministic price path for the time before the recording started."""

    def __init__(self, symbol: str, anchor_ms: int, anchor_price: float) -> None:
        digest = hashlib.sha256(symbol.encode()).digest()
        self.waves = [
            (amplitude, days * 86_400_000, digest[i] / 255 * 2 * math.pi) for i, (amplitude, days) in enumerate(WAVES)
        ]
        self.anchor_ms = anchor_ms
        self.anchor_price = anchor_price
        self._anchor_level = self._level(anchor_ms)

    def _level(self, ms: int) -> float:
        return sum(a * math.sin(2 * math.pi * ms / length + phase) for a, length, phase in self.waves)

    def price(self, ms: int) -> float:
        return self.anchor_price * math.exp(self._level(ms) - self._anchor_level)

    def candle(self, start: int, end: int) -> Candle:
        """OHLC of the path over ``[start, end)`` (``end`` no later than the anchor)."""
        step = (end - 1 - start) / (SAMPLES - 1)
        prices = [_round(self.price(int(start + i * step))) for i in range(SAMPLES)]
        return Candle(start, prices[0], max(prices), min(prices), prices[-1], SAMPLES, _round(sum(prices) / SAMPLES))


@dataclass
class PricePath:
    """One price kind of one symbol: minute buckets since the anchor."""

    anchor_ms: int
    keys: list[int] = field(default_factory=list)
    buckets: dict[int, list[float]] = field(default_factory=dict)  # minute -> [open, high, low, close, count]

    def add(self, ms: int, price: float) -> None:
        minute = ms - ms % MINUTE_MS
        bucket = self.buckets.get(minute)
        if bucket is None:
            if self.keys and minute < self.keys[-1]:
                return  # the virtual clock never goes back; ignore anything that claims to
            self.buckets[minute] = [price, price, price, price, 1]
            self.keys.append(minute)
            if len(self.keys) > MAX_BUCKETS:
                del self.buckets[self.keys.pop(0)]
                self.anchor_ms = self.keys[0]  # the generated history now joins the oldest bucket kept
            return
        bucket[1] = max(bucket[1], price)
        bucket[2] = min(bucket[2], price)
        bucket[3] = price
        bucket[4] += 1

    def close_before(self, ms: int) -> float | None:
        index = bisect.bisect_left(self.keys, ms)
        return self.buckets[self.keys[index - 1]][3] if index else None

    def candle(self, start: int, end: int) -> Candle | None:
        """OHLC of the recorded minutes in ``[start, end)``; None when nothing was recorded then."""
        first = bisect.bisect_left(self.keys, start)
        last = bisect.bisect_left(self.keys, end)
        if first >= last:
            return None
        rows = [self.buckets[key] for key in self.keys[first:last]]
        count = int(sum(row[4] for row in rows))
        vwap = sum(row[3] * row[4] for row in rows) / count
        return Candle(
            start, rows[0][0], max(r[1] for r in rows), min(r[2] for r in rows), rows[-1][3], count, _round(vwap)
        )


def _prices(quote: Quote) -> dict[str, float | None]:
    mark = quote.mark
    values = {'last': quote.last if quote.last is not None else mark, 'mark': mark, 'bid': quote.bid, 'ask': quote.ask}
    return {kind: float(value) if value is not None else None for kind, value in values.items()}


class CandleBook:
    """Every symbol's recorded price path and the candles built from it (a quote listener of the hub)."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.paths: dict[tuple[str, str], PricePath] = {}
        self.last_seen: dict[str, dict[str, float | None]] = {}
        self.reset_ms = epoch_ms(core.now())

    def reset(self) -> None:
        """Start recording afresh from the current quotes (called after a scenario is built)."""
        self.paths.clear()
        self.last_seen.clear()
        self.reset_ms = epoch_ms(self.core.now())
        for symbol in list(self.core.state.quotes):
            self.observe(symbol)

    def quote_changed(self, symbol: str) -> None:
        """The hub's callback: record the new prices."""
        self.observe(symbol)

    def observe(self, symbol: str) -> None:
        """Record a symbol's current prices (idempotent: an unchanged quote adds nothing)."""
        quote = self.core.state.quotes.get(symbol)
        if quote is None:
            return
        prices = _prices(quote)
        if self.last_seen.get(symbol) == prices:
            return
        self.last_seen[symbol] = prices
        now = epoch_ms(self.core.now())
        for kind, price in prices.items():
            if price is None:
                continue
            path = self.paths.get((symbol, kind))
            if path is None:
                path = self.paths[(symbol, kind)] = PricePath(anchor_ms=now - now % MINUTE_MS)
            path.add(now, price)

    def history(self, symbol: str, candle: CandleSymbol, from_ms: int, limit: int) -> CandleSeries:
        """Candles of ``symbol`` from the period containing ``from_ms`` to now, newest first."""
        self.observe(symbol)
        path = self.paths.get((symbol, candle.price)) or self.paths.get((symbol, 'last'))
        if path is None or not path.keys:
            return CandleSeries([])
        now = epoch_ms(self.core.now())
        synthetic = SyntheticPath(symbol, path.anchor_ms, path.buckets[path.keys[0]][0])
        first = period_start(candle, max(from_ms, 0))
        out: list[Candle] = []
        start = period_start(candle, now)
        while start >= first:
            if len(out) >= limit:
                return CandleSeries(out, snipped=True)
            built = self._period(candle, path, synthetic, start, live=not out)
            if built is not None:
                out.append(built)
            start = previous_start(candle, start)
        return CandleSeries(out)

    def live(self, symbol: str, candle: CandleSymbol) -> Candle | None:
        """The candle in progress (what a live update carries)."""
        series = self.history(symbol, candle, epoch_ms(self.core.now()), 1)
        return series.candles[0] if series.candles else None

    @staticmethod
    def _period(
        candle: CandleSymbol, path: PricePath, synthetic: SyntheticPath, start: int, *, live: bool
    ) -> Candle | None:
        end = next_start(candle, start)
        recorded = path.candle(max(start, path.anchor_ms), end)
        if start < path.anchor_ms:
            if not in_history_session(candle, start):
                return recorded
            generated = synthetic.candle(start, min(end, path.anchor_ms))
            return _merge(generated, recorded) if recorded is not None else generated
        if recorded is None and live:
            price = path.close_before(start)
            if price is None:
                return None
            return Candle(start, price, price, price, price, 0, price)
        if recorded is not None:
            opening = path.close_before(start)
            if opening is not None:
                return Candle(
                    start,
                    opening,
                    max(opening, recorded.high),
                    min(opening, recorded.low),
                    recorded.close,
                    recorded.count,
                    recorded.vwap,
                )
        return recorded


def _merge(older: Candle, newer: Candle) -> Candle:
    count = older.count + newer.count
    vwap = _round((older.vwap * older.count + newer.vwap * newer.count) / count)
    return Candle(
        older.time, older.open, max(older.high, newer.high), min(older.low, newer.low), newer.close, count, vwap
    )
