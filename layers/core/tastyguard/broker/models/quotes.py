"""REST quotes (``GET /market-data/by-type``) and the DXLink quote token (``GET /api-quote-tokens``)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import SecretStr

from tastyguard.broker.models.common import BrokerModel, InstrumentType, OptDecimal


class Quote(BrokerModel):
    """A snapshot quote. Any price may be missing (indices have no bid/ask; illiquid symbols nothing)."""

    symbol: str
    instrument_type: InstrumentType | None = None
    bid: OptDecimal = None
    ask: OptDecimal = None
    bid_size: OptDecimal = None
    ask_size: OptDecimal = None
    mid: OptDecimal = None
    mark: OptDecimal = None
    last: OptDecimal = None
    last_mkt: OptDecimal = None
    open: OptDecimal = None
    day_high_price: OptDecimal = None
    day_low_price: OptDecimal = None
    year_high_price: OptDecimal = None
    year_low_price: OptDecimal = None
    prev_close: OptDecimal = None
    prev_close_date: date | None = None
    close_price_type: str | None = None
    prev_close_price_type: str | None = None
    summary_date: date | None = None
    high_limit_price: OptDecimal = None
    low_limit_price: OptDecimal = None
    is_trading_halted: bool | None = None
    halt_start_time: int | None = None
    halt_end_time: int | None = None
    volume: OptDecimal = None
    beta: OptDecimal = None
    updated_at: datetime | None = None

    @property
    def reference_price(self) -> Decimal | None:
        """The best single price: mark, else mid, else the bid/ask midpoint, else last."""
        if self.mark:
            return self.mark
        if self.mid:
            return self.mid
        if self.bid and self.ask:
            return (self.bid + self.ask) / 2
        return self.last or None


class QuoteToken(BrokerModel):
    """A DXLink token (valid 24 h). Always connect to the returned ``dxlink-url``."""

    token: SecretStr
    dxlink_url: str
    level: str | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None
