"""tastyguard's DXLink (dxFeed market data) client: typed events, decoded by the fields the server announces.

    from tastyguard.streaming.dxlink import DXLinkFeed, EventType, Quote, from_broker

The entry point is :class:`~tastyguard.streaming.dxlink.feed.DXLinkFeed` (its module docstring describes the
interface); events are in :mod:`~tastyguard.streaming.dxlink.events`, connection states in
:mod:`~tastyguard.streaming.dxlink.state`.
"""

from tastyguard.streaming.dxlink.candles import CandlePeriod, CandleSubscription, CandleUnit
from tastyguard.streaming.dxlink.config import FeedConfig
from tastyguard.streaming.dxlink.decoding import Decoded, FeedDecoder
from tastyguard.streaming.dxlink.events import (
    Candle,
    EventType,
    FeedEvent,
    Greeks,
    Profile,
    Quote,
    Summary,
    Trade,
)
from tastyguard.streaming.dxlink.feed import DXLinkFeed, FeedStats
from tastyguard.streaming.dxlink.state import DisconnectReason, FeedState, FeedStatus
from tastyguard.streaming.dxlink.tokens import QuoteTokens, QuoteTokenSource, from_broker

__all__ = [
    'Candle',
    'CandlePeriod',
    'CandleSubscription',
    'CandleUnit',
    'DXLinkFeed',
    'Decoded',
    'DisconnectReason',
    'EventType',
    'FeedConfig',
    'FeedDecoder',
    'FeedEvent',
    'FeedState',
    'FeedStats',
    'FeedStatus',
    'Greeks',
    'Profile',
    'Quote',
    'QuoteTokenSource',
    'QuoteTokens',
    'Summary',
    'Trade',
    'from_broker',
]
