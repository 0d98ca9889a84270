"""dxFeed event fields (Quote, Trade, Summary, Profile) built from a quote, by field name.

A DXLink client names the fields it wants (``acceptEventFields``); rows are built in exactly that order and
fields this feed does not know are sent as ``"NaN"``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from paperbroker.clock import epoch_ms, ny_date
from paperbroker.instruments import Equity, Instrument
from paperbroker.model import Quote

SUPPORTED = ('Quote', 'Trade', 'Summary', 'Profile')
DEFAULT_FIELDS: dict[str, list[str]] = {
    'Quote': [
        'eventType',
        'eventSymbol',
        'eventTime',
        'sequence',
        'timeNanoPart',
        'bidTime',
        'bidExchangeCode',
        'bidPrice',
        'bidSize',
        'askTime',
        'askExchangeCode',
        'askPrice',
        'askSize',
    ],
    'Trade': [
        'eventType',
        'eventSymbol',
        'eventTime',
        'time',
        'timeNanoPart',
        'sequence',
        'exchangeCode',
        'dayId',
        'tickDirection',
        'extendedTradingHours',
        'price',
        'change',
        'size',
        'dayVolume',
        'dayTurnover',
    ],
    'Summary': [
        'eventType',
        'eventSymbol',
        'eventTime',
        'dayId',
        'dayOpenPrice',
        'dayHighPrice',
        'dayLowPrice',
        'dayClosePrice',
        'dayClosePriceType',
        'prevDayId',
        'prevDayClosePrice',
        'prevDayClosePriceType',
        'prevDayVolume',
        'openInterest',
    ],
    'Profile': [
        'eventType',
        'eventSymbol',
        'eventTime',
        'description',
        'shortSaleRestriction',
        'tradingStatus',
        'statusReason',
        'haltStartTime',
        'haltEndTime',
        'highLimitPrice',
        'lowLimitPrice',
        'high52WeekPrice',
        'low52WeekPrice',
        'beta',
        'earningsPerShare',
        'dividendFrequency',
        'exDividendAmount',
        'exDividendDayId',
        'shares',
        'freeFloat',
    ],
}
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


def row(fields: list[str], values: dict[str, Any]) -> list[Any]:
    """One COMPACT row in the client's field order (unknown fields as ``"NaN"``)."""
    return [values.get(name, NAN) for name in fields]
