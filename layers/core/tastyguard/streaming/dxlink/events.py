"""Typed, immutable DXLink market events.

Prices, sizes and volumes are :class:`~decimal.Decimal` parsed from the wire text (never through a float),
times are epoch milliseconds, and anything missing, ``"NaN"`` or infinite is ``None``: never zero, because a
zero price would fire a trailing stop. Every event carries ``symbol`` (the streamer symbol, or the candle symbol
for :class:`Candle`) and ``event_time`` (dxFeed's ``eventTime``, often 0 on real feeds).

The wire names each attribute comes from are in :data:`WIRE_FIELDS`; :data:`DEFAULT_ACCEPT_FIELDS` is what this
client asks the server for in ``FEED_SETUP`` (the server's ``FEED_CONFIG`` has the last word).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar, get_args

TX_PENDING = 0x1
REMOVE_EVENT = 0x2
SNAPSHOT_BEGIN = 0x4
SNAPSHOT_END = 0x8
SNAPSHOT_SNIP = 0x10


class EventType(StrEnum):
    """The DXLink event types this client decodes."""

    QUOTE = 'Quote'
    TRADE = 'Trade'
    SUMMARY = 'Summary'
    PROFILE = 'Profile'
    GREEKS = 'Greeks'
    CANDLE = 'Candle'


@dataclass(frozen=True, slots=True)
class Quote:
    """Best bid and offer."""

    event_type: ClassVar[EventType] = EventType.QUOTE
    symbol: str
    event_time: int | None = None
    bid_price: Decimal | None = None
    ask_price: Decimal | None = None
    bid_size: Decimal | None = None
    ask_size: Decimal | None = None
    bid_time: int | None = None
    ask_time: int | None = None

    @property
    def mid(self) -> Decimal | None:
        """The midpoint, when both sides are there."""
        if self.bid_price is None or self.ask_price is None:
            return None
        return (self.bid_price + self.ask_price) / 2


@dataclass(frozen=True, slots=True)
class Trade:
    """The last regular-hours trade and the day's volume."""

    event_type: ClassVar[EventType] = EventType.TRADE
    symbol: str
    event_time: int | None = None
    time: int | None = None
    price: Decimal | None = None
    change: Decimal | None = None
    size: Decimal | None = None
    day_volume: Decimal | None = None
    extended_trading_hours: bool | None = None


@dataclass(frozen=True, slots=True)
class Summary:
    """The session's open, high, low, close and the previous close."""

    event_type: ClassVar[EventType] = EventType.SUMMARY
    symbol: str
    event_time: int | None = None
    day_id: int | None = None
    day_open_price: Decimal | None = None
    day_high_price: Decimal | None = None
    day_low_price: Decimal | None = None
    day_close_price: Decimal | None = None
    prev_day_close_price: Decimal | None = None
    open_interest: int | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    """Reference data and trading status (halts, limit-up/limit-down bands)."""

    event_type: ClassVar[EventType] = EventType.PROFILE
    symbol: str
    event_time: int | None = None
    description: str | None = None
    trading_status: str | None = None
    short_sale_restriction: str | None = None
    halt_start_time: int | None = None
    halt_end_time: int | None = None
    high_limit_price: Decimal | None = None
    low_limit_price: Decimal | None = None
    high_52_week_price: Decimal | None = None
    low_52_week_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Greeks:
    """An option's implied volatility and sensitivities (``price`` is the option price they come from)."""

    event_type: ClassVar[EventType] = EventType.GREEKS
    symbol: str
    event_time: int | None = None
    time: int | None = None
    price: Decimal | None = None
    volatility: Decimal | None = None
    delta: Decimal | None = None
    gamma: Decimal | None = None
    theta: Decimal | None = None
    rho: Decimal | None = None
    vega: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Candle:
    """One period's prices of a candle symbol (``AAPL{=5m}``); ``time`` is the period's start.

    A history arrives newest first as a snapshot: the first event has :attr:`snapshot_begin`, the last
    :attr:`snapshot_end` (or :attr:`snapshot_snip` when the server cut it short); later unflagged events update
    the candle in progress. :attr:`removed` marks an empty snapshot (no candles at all).
    """

    event_type: ClassVar[EventType] = EventType.CANDLE
    symbol: str
    event_time: int | None = None
    event_flags: int = 0
    index: int | None = None
    time: int | None = None
    count: int | None = None
    open: Decimal | None = None
    high: Decimal | None = None
    low: Decimal | None = None
    close: Decimal | None = None
    volume: Decimal | None = None
    vwap: Decimal | None = None

    @property
    def snapshot_begin(self) -> bool:
        return bool(self.event_flags & SNAPSHOT_BEGIN)

    @property
    def snapshot_end(self) -> bool:
        return bool(self.event_flags & (SNAPSHOT_END | SNAPSHOT_SNIP))

    @property
    def snapshot_snip(self) -> bool:
        return bool(self.event_flags & SNAPSHOT_SNIP)

    @property
    def removed(self) -> bool:
        return bool(self.event_flags & REMOVE_EVENT)

    @property
    def pending(self) -> bool:
        return bool(self.event_flags & TX_PENDING)


FeedEvent = Quote | Trade | Summary | Profile | Greeks | Candle
EVENT_CLASSES: Mapping[EventType, type[FeedEvent]] = {cls.event_type: cls for cls in get_args(FeedEvent)}

# wire name -> (attribute, kind); kinds: text, int, decimal, bool, flags
WIRE_FIELDS: Mapping[EventType, Mapping[str, tuple[str, str]]] = {
    EventType.QUOTE: {
        'eventSymbol': ('symbol', 'text'),
        'eventTime': ('event_time', 'int'),
        'bidPrice': ('bid_price', 'decimal'),
        'askPrice': ('ask_price', 'decimal'),
        'bidSize': ('bid_size', 'decimal'),
        'askSize': ('ask_size', 'decimal'),
        'bidTime': ('bid_time', 'int'),
        'askTime': ('ask_time', 'int'),
    },
    EventType.TRADE: {
        'eventSymbol': ('symbol', 'text'),
        'eventTime': ('event_time', 'int'),
        'time': ('time', 'int'),
        'price': ('price', 'decimal'),
        'change': ('change', 'decimal'),
        'size': ('size', 'decimal'),
        'dayVolume': ('day_volume', 'decimal'),
        'extendedTradingHours': ('extended_trading_hours', 'bool'),
    },
    EventType.SUMMARY: {
        'eventSymbol': ('symbol', 'text'),
        'eventTime': ('event_time', 'int'),
        'dayId': ('day_id', 'int'),
        'dayOpenPrice': ('day_open_price', 'decimal'),
        'dayHighPrice': ('day_high_price', 'decimal'),
        'dayLowPrice': ('day_low_price', 'decimal'),
        'dayClosePrice': ('day_close_price', 'decimal'),
        'prevDayClosePrice': ('prev_day_close_price', 'decimal'),
        'openInterest': ('open_interest', 'int'),
    },
    EventType.PROFILE: {
        'eventSymbol': ('symbol', 'text'),
        'eventTime': ('event_time', 'int'),
        'description': ('description', 'text'),
        'tradingStatus': ('trading_status', 'text'),
        'shortSaleRestriction': ('short_sale_restriction', 'text'),
        'haltStartTime': ('halt_start_time', 'int'),
        'haltEndTime': ('halt_end_time', 'int'),
        'highLimitPrice': ('high_limit_price', 'decimal'),
        'lowLimitPrice': ('low_limit_price', 'decimal'),
        'high52WeekPrice': ('high_52_week_price', 'decimal'),
        'low52WeekPrice': ('low_52_week_price', 'decimal'),
    },
    EventType.GREEKS: {
        'eventSymbol': ('symbol', 'text'),
        'eventTime': ('event_time', 'int'),
        'time': ('time', 'int'),
        'price': ('price', 'decimal'),
        'volatility': ('volatility', 'decimal'),
        'delta': ('delta', 'decimal'),
        'gamma': ('gamma', 'decimal'),
        'theta': ('theta', 'decimal'),
        'rho': ('rho', 'decimal'),
        'vega': ('vega', 'decimal'),
    },
    EventType.CANDLE: {
        'eventSymbol': ('symbol', 'text'),
        'eventTime': ('event_time', 'int'),
        'eventFlags': ('event_flags', 'flags'),
        'index': ('index', 'int'),
        'time': ('time', 'int'),
        'count': ('count', 'int'),
        'open': ('open', 'decimal'),
        'high': ('high', 'decimal'),
        'low': ('low', 'decimal'),
        'close': ('close', 'decimal'),
        'volume': ('volume', 'decimal'),
        'vwap': ('vwap', 'decimal'),
        'VWAP': ('vwap', 'decimal'),  # dxFeed's schema spells it this way
    },
}

DEFAULT_ACCEPT_FIELDS: Mapping[EventType, tuple[str, ...]] = {
    kind: ('eventType', *dict.fromkeys(name for name in fields if name != 'VWAP'))
    for kind, fields in WIRE_FIELDS.items()
}
