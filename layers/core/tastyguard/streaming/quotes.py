"""The latest quote per symbol: conflated from DXLink, written to the state table in small batches.

Quotes arrive many times a second; the jobs need only the latest one per symbol, a few seconds old at most.
:class:`QuoteBook` keeps the latest valid quote per symbol in memory (bounded by the symbols subscribed) and
writes, every ``interval``, only the symbols that changed since the last write, plus a refresh of unchanged
ones every ``refresh`` seconds (so a quiet symbol's item does not look stale to the jobs). A quote with
neither a bid nor an ask nor a last trade is not a quote and is skipped; ``"NaN"`` prices arrive as ``None``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from tastyguard.store.quotes import LatestQuote, QuoteStore
from tastyguard.streaming.dxlink.events import FeedEvent, Quote, Trade

logger = logging.getLogger('tastyguard.streaming')


@dataclass
class QuoteBookStats:
    """Counters for the bench and the health item."""

    events: int = 0
    written: int = 0
    writes: int = 0
    write_errors: int = 0


class QuoteBook:
    """Latest quotes by *position* symbol (the streamer symbol is mapped back through ``symbols``)."""

    def __init__(
        self,
        store: QuoteStore | None,
        wall: Callable[[], datetime],
        *,
        interval: float = 2.0,
        refresh: float = 60.0,
    ) -> None:
        self._store = store
        self._wall = wall
        self.interval = interval
        self.refresh = refresh
        self.latest: dict[str, LatestQuote] = {}
        self._dirty: set[str] = set()
        self._written_at: dict[str, datetime] = {}
        self._by_streamer: dict[str, str] = {}
        self.exchange_ms: dict[str, int] = {}  # the exchange time of each symbol's latest quote, when sent
        self.stats = QuoteBookStats()

    def follow(self, symbols: dict[str, str]) -> None:
        """Watch exactly these symbols (streamer symbol → position symbol); forget the others."""
        self._by_streamer = dict(symbols)
        wanted = set(symbols.values())
        for gone in set(self.latest) - wanted:
            self.latest.pop(gone, None)
            self.exchange_ms.pop(gone, None)
            self._written_at.pop(gone, None)
            self._dirty.discard(gone)

    def on_events(self, events: Iterable[FeedEvent]) -> set[str]:
        """Take a DXLink batch (only quotes and trades matter here); returns the position symbols that changed."""
        now = self._wall()
        changed: set[str] = set()
        for event in events:
            symbol = self._by_streamer.get(event.symbol)
            if symbol is None:
                continue
            self.stats.events += 1
            before = self.latest.get(symbol)
            if isinstance(event, Quote):
                bid, ask = event.bid_price, event.ask_price
                last = before.last if before else None
                stamp = max(event.bid_time or 0, event.ask_time or 0)
            elif isinstance(event, Trade):
                if event.price is None:
                    continue
                bid = before.bid if before else None
                ask = before.ask if before else None
                last = event.price
                stamp = event.time or 0
            else:
                continue
            if bid is None and ask is None and last is None:
                continue
            if before is not None and (before.bid, before.ask, before.last) == (bid, ask, last):
                continue
            self.latest[symbol] = LatestQuote(symbol=symbol, bid=bid, ask=ask, last=last, quoted_at=now)
            if stamp > 0:
                self.exchange_ms[symbol] = stamp
            else:
                self.exchange_ms.pop(symbol, None)
            self._dirty.add(symbol)
            changed.add(symbol)
        return changed

    def due(self) -> list[LatestQuote]:
        """What the next write should carry: changed symbols and ones not written for ``refresh`` seconds."""
        now = self._wall()
        stale = {
            s for s, at in self._written_at.items() if s in self.latest and (now - at).total_seconds() >= self.refresh
        }
        chosen = self._dirty | stale
        return [self.latest[s].model_copy(update={'quoted_at': now}) if s in stale else self.latest[s] for s in chosen]

    async def flush(self) -> int:
        """Write what is due (in a worker thread); a failure is logged and retried at the next flush."""
        batch = self.due()
        if not batch or self._store is None:
            return 0
        try:
            await asyncio.to_thread(self._store.put_many, batch)
        except Exception as error:
            self.stats.write_errors += 1
            logger.warning('could not write %d latest quotes: %s', len(batch), error)
            return 0
        now = self._wall()
        for quote in batch:
            self._written_at[quote.symbol] = now
            self._dirty.discard(quote.symbol)
        self.stats.writes += 1
        self.stats.written += len(batch)
        return len(batch)

    async def run(self, stop: asyncio.Event) -> None:
        """Flush every ``interval`` until ``stop``, then once more."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)
            await self.flush()
