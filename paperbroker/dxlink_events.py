"""dxFeed event fields (Quote, Trade, Summary, Profile, Greeks, Candle) built from the broker's state, by name.

A DXLink client names the fields it wants (``acceptEventFields``); rows are built in exactly that order and
fields this feed does not know are sent as ``"NaN"``. A client that names none gets the default field sets of
:mod:`paperbroker.dxlink_fields`, announced in a ``FEED_CONFIG`` before the first row.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from paperbroker.candle_book import Candle
from paperbroker.clock import epoch_ms, ny_date
from paperbroker.dxlink_greeks import Greeks
from paperbroker.instruments import Equity, Instrument
from paperbroker.model import Quote

NAN = 'NaN'


def _num(value: Decimal | None) -> float | str:
    return float(value) if value is not None else NAN


def _day_id(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def event_fields(
    kind: str, streamer_symbol: str, instrument: Instrument, quote: Quote, now: datetime
) -> dict[str, Any]:
    """Every field this feed knows for one event of ``kind``."""
    updated = epoch_ms(quote.updated_at or now)
    today = ny_date(quote.updated_at or now)
    base: dict[str, Any] = {'eventType': kind, 'eventSymbol': streamer_symbol, 'eventTime': 0}
    if kind == 'Quote':
        base.update(
            {
                'sequence': 0,
                'timeNanoPart': 0,
                'bidTime': updated,
                'bidExchangeCode': 'Q',
                'bidPrice': _num(quote.bid),
                'bidSize': float(quote.bid_size),
                'askTime': updated,
                'askExchangeCode': 'Q',
                'askPrice': _num(quote.ask),
                'askSize': float(quote.ask_size),
            }
        )
    elif kind == 'Trade':
        change = quote.last - quote.prev_close if quote.last is not None and quote.prev_close is not None else None
        direction = 'UNDEFINED' if not change else ('UP' if change > 0 else 'DOWN')
        base.update(
            {
                'time': updated,
                'timeNanoPart': 0,
                'sequence': 0,
                'exchangeCode': 'Q',
                'dayId': _day_id(today),
                'tickDirection': direction,
                'extendedTradingHours': False,
                'price': _num(quote.last),
                'change': _num(change),
                'size': 100,
                'dayVolume': float(quote.volume),
                'dayTurnover': NAN,
            }
        )
    elif kind == 'Summary':
        base.update(
            {
                'dayId': _day_id(today),
                'dayOpenPrice': _num(quote.open),
                'dayHighPrice': _num(quote.high),
                'dayLowPrice': _num(quote.low),
                'dayClosePrice': NAN,
                'dayClosePriceType': 'REGULAR',
                'prevDayId': _day_id(today) - 1,
                'prevDayClosePrice': _num(quote.prev_close),
                'prevDayClosePriceType': 'FINAL',
                'prevDayVolume': NAN,
                'openInterest': 0,
            }
        )
    elif kind == 'Profile':
        reference = quote.prev_close or quote.last
        base.update(
            {
                'description': instrument.description,
                'shortSaleRestriction': 'INACTIVE',
                'tradingStatus': 'ACTIVE',
                'statusReason': NAN,
                'haltStartTime': 0,
                'haltEndTime': 0,
                'highLimitPrice': _num(reference * Decimal('1.05') if reference else None),
                'lowLimitPrice': _num(reference * Decimal('0.95') if reference else None),
                'high52WeekPrice': _num(reference * Decimal('1.25') if reference else None),
                'low52WeekPrice': _num(reference * Decimal('0.75') if reference else None),
                'beta': 1.0 if isinstance(instrument, Equity) else NAN,
                'earningsPerShare': NAN,
                'dividendFrequency': NAN,
                'exDividendAmount': NAN,
                'exDividendDayId': 0,
                'shares': NAN,
                'freeFloat': NAN,
            }
        )
    return base


def time_index(time_ms: int, sequence: int = 0) -> int:
    """dxFeed's index of a time-series event: seconds << 32 | milliseconds << 22 | sequence."""
    return (time_ms // 1000) << 32 | (time_ms % 1000) << 22 | sequence


def greeks_fields(streamer_symbol: str, values: Greeks | None, now: datetime) -> dict[str, Any]:
    """A Greeks event (every number ``"NaN"`` when the greeks cannot be computed)."""
    stamp = epoch_ms(now)
    event: dict[str, Any] = {
        'eventType': 'Greeks',
        'eventSymbol': streamer_symbol,
        'eventTime': 0,
        'eventFlags': 0,
        'index': time_index(stamp),
        'time': stamp,
        'sequence': 0,
    }
    for name in ('price', 'volatility', 'delta', 'gamma', 'theta', 'rho', 'vega'):
        number = getattr(values, name) if values is not None else None
        event[name] = round(number, 6) if number is not None else NAN
    return event


def candle_fields(candle_symbol: str, candle: Candle | None, flags: int) -> dict[str, Any]:
    """A Candle event; ``candle=None`` is the empty-snapshot marker (flags say so, prices are ``"NaN"``)."""
    event: dict[str, Any] = {
        'eventType': 'Candle',
        'eventSymbol': candle_symbol,
        'eventTime': 0,
        'eventFlags': flags,
        'index': time_index(candle.time) if candle else 0,
        'time': candle.time if candle else 0,
        'sequence': 0,
        'count': candle.count if candle else 0,
        'volume': NAN,
        'bidVolume': NAN,
        'askVolume': NAN,
        'impVolatility': NAN,
        'openInterest': NAN,
    }
    for name in ('open', 'high', 'low', 'close', 'vwap'):
        event[name] = getattr(candle, name) if candle else NAN
    event['VWAP'] = event['vwap']  # dxFeed's schema spells it VWAP; clients ask for either
    return event


def row(fields: list[str], values: dict[str, Any]) -> list[Any]:
    """One COMPACT row in the client's field order (unknown fields as ``"NaN"``)."""
    return [values.get(name, NAN) for name in fields]
