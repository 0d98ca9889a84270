"""The latest quote per symbol, written by the streamer, read by the scheduled jobs.

The streamer conflates DXLink quotes to the latest one per symbol and writes them in batches (a few seconds
apart, only symbols that changed), each item with a short TTL. A job that finds a fresh item (younger than
``max_age``) for a position uses it instead of asking tastytrade's REST quote endpoint; an old or missing one
is simply not used. Items live under ``pk = QUOTE#<symbol>`` so writes spread over partitions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from tastyguard.store.keys import QUOTE_SK, quote_pk
from tastyguard.store.table import StateTable, to_record

QUOTE_TTL = timedelta(days=1)


class LatestQuote(BaseModel):
    """One symbol's latest prices as the streamer saw them (a missing price is None, never zero)."""

    model_config = ConfigDict(frozen=True)

    symbol: str
    bid: Decimal | None = None
    ask: Decimal | None = None
    last: Decimal | None = None
    quoted_at: datetime  # when the streamer received it

    def age(self, now: datetime) -> timedelta:
        """How old the quote is at ``now``."""
        return now - self.quoted_at


class QuoteStore:
    """Latest quotes in the state table."""

    def __init__(self, state: StateTable) -> None:
        self._state = state

    def put_many(self, quotes: Iterable[LatestQuote]) -> int:
        """Write ``quotes`` (one batch writer: 25 items per request); returns how many."""
        count = 0
        with self._state.table.batch_writer(overwrite_by_pkeys=['pk', 'sk']) as batch:
            for quote in quotes:
                item = {
                    **quote.model_dump(mode='json', exclude_none=True),
                    'pk': quote_pk(quote.symbol),
                    'sk': QUOTE_SK,
                    'expires_at': self._state.expiry(QUOTE_TTL),
                }
                batch.put_item(Item=item)
                count += 1
        return count

    def get_many(self, symbols: Sequence[str]) -> dict[str, LatestQuote]:
        """The stored quotes of ``symbols`` (missing ones, and any DynamoDB left unread, are left to REST)."""
        items, _ = self._state.get_items([(quote_pk(symbol), QUOTE_SK) for symbol in symbols], consistent=False)
        return {quote.symbol: quote for quote in (to_record(raw, LatestQuote) for raw in items)}

    def fresh(self, symbols: Sequence[str], *, max_age: timedelta) -> dict[str, LatestQuote]:
        """The stored quotes of ``symbols`` that are younger than ``max_age``."""
        now = self._state.clock()
        return {s: q for s, q in self.get_many(symbols).items() if q.age(now) <= max_age}
