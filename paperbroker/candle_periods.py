"""Candle period arithmetic: where a period starts, the one before it, the one after it.

Minutes and hours are aligned to multiples of the period since the epoch (UTC); days, weeks (Mondays), months
and years start at midnight New York time, because that is the trading calendar the broker keeps. Times are
epoch milliseconds throughout (the unit of DXLink's ``time`` and ``fromTime``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from paperbroker.candle_symbols import CandleSymbol
from paperbroker.clock import NEW_YORK

REGULAR_OPEN = time(9, 30)
REGULAR_CLOSE = time(16, 0)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _ny(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(NEW_YORK)


def _midnight(day: date) -> int:
    return _ms(datetime.combine(day, time(0), NEW_YORK))


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_start(candle: CandleSymbol, ms: int) -> int:
    """The start of the period that contains ``ms``."""
    seconds = candle.seconds
    if candle.intraday and seconds is not None:
        length = seconds * 1000
        return ms - ms % length
    day = _ny(ms).date()
    if candle.unit == 'd':
        epoch_day = day.toordinal() - date(1970, 1, 1).toordinal()
        return _midnight(day - timedelta(days=epoch_day % candle.count))
    if candle.unit == 'w':
        return _midnight(day - timedelta(days=day.weekday()))
    if candle.unit == 'mo':
        index = day.year * 12 + day.month - 1
        return _midnight(_add_months(date(day.year, day.month, 1), -(index % candle.count)))
    return _midnight(date(day.year - day.year % candle.count, 1, 1))


def next_start(candle: CandleSymbol, start: int) -> int:
    """The start of the period after the one starting at ``start``."""
    seconds = candle.seconds
    if candle.intraday and seconds is not None:
        return start + seconds * 1000
    day = _ny(start).date()
    if candle.unit in {'d', 'w'}:
        days = candle.count * (7 if candle.unit == 'w' else 1)
        return _midnight(day + timedelta(days=days))
    months = candle.count * (12 if candle.unit == 'y' else 1)
    return _midnight(_add_months(day, months))


def previous_start(candle: CandleSymbol, start: int) -> int:
    """The start of the period before the one starting at ``start``."""
    return period_start(candle, start - 1)


def in_history_session(candle: CandleSymbol, start: int) -> bool:
    """Whether a period of the generated history trades: weekdays, and regular hours for ``tho=true``."""
    local = _ny(start)
    if candle.unit in {'w', 'mo', 'y'}:
        return True
    if local.weekday() >= 5:
        return False
    if candle.intraday and candle.trading_hours_only:
        return REGULAR_OPEN <= local.time() < REGULAR_CLOSE
    return True
