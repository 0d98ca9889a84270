"""The US equity market calendar (NYSE rules): trading days, holidays, early closes. No pandas.

The scheduled jobs run on a market-hours cron in ``America/New_York``; the cron knows weekdays but not
holidays or the 1 p.m. early closes, so each job asks this module whether the market is in session.
Unscheduled closures (a national day of mourning) are listed in :data:`SPECIAL_CLOSURES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo('America/New_York')
REGULAR_OPEN = time(9, 30)
REGULAR_CLOSE = time(16, 0)
EARLY_CLOSE = time(13, 0)

SPECIAL_CLOSURES: frozenset[date] = frozenset(
    {
        date(2018, 12, 5),  # President George H. W. Bush
        date(2025, 1, 9),  # President Jimmy Carter
    }
)


@dataclass(frozen=True, slots=True)
class Session:
    """One trading day's regular session (aware datetimes in New York time)."""

    day: date
    opens_at: datetime
    closes_at: datetime

    @property
    def early_close(self) -> bool:
        """True on a 1 p.m. close."""
        return self.closes_at.time() == EARLY_CLOSE


def easter(year: int) -> date:
    """Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 - the algorithm's own name
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = (date(year, month + 1, 1) if month < 12 else date(year + 1, 1, 1)) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date | None:
    """Saturday holidays move to Friday, Sunday holidays to Monday."""
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


@lru_cache(maxsize=64)
def holidays(year: int) -> frozenset[date]:
    """The full-day NYSE holidays of ``year``."""
    monday, thursday = 0, 3
    days: set[date | None] = {
        # New Year's Day: a Saturday New Year is not observed on the Friday before (NYSE rule 7.2).
        date(year, 1, 2)
        if date(year, 1, 1).weekday() == 6
        else (None if date(year, 1, 1).weekday() == 5 else date(year, 1, 1)),
        _nth_weekday(year, 1, monday, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, monday, 3),  # Washington's Birthday
        easter(year) - timedelta(days=2),  # Good Friday
        _last_weekday(year, 5, monday),  # Memorial Day
        _observed(date(year, 6, 19)) if year >= 2022 else None,  # Juneteenth
        _observed(date(year, 7, 4)),  # Independence Day
        _nth_weekday(year, 9, monday, 1),  # Labor Day
        _nth_weekday(year, 11, thursday, 4),  # Thanksgiving
        _observed(date(year, 12, 25)),  # Christmas
    }
    return frozenset(day for day in days if day is not None and day.year == year) | frozenset(
        day for day in SPECIAL_CLOSURES if day.year == year
    )


def is_trading_day(day: date) -> bool:
    """True on weekdays that are not NYSE holidays."""
    return day.weekday() < 5 and day not in holidays(day.year)


def _early_close(day: date) -> bool:
    thanksgiving = _nth_weekday(day.year, 11, 3, 4)
    if day == thanksgiving + timedelta(days=1):
        return True
    # The day before Independence Day and Christmas Eve close early when they fall Monday to Thursday.
    return (day.month, day.day) in ((7, 3), (12, 24)) and day.weekday() <= 3


def session(day: date) -> Session | None:
    """The regular session of ``day``, or None when the market is closed all day."""
    if not is_trading_day(day):
        return None
    close = EARLY_CLOSE if _early_close(day) else REGULAR_CLOSE
    return Session(
        day=day,
        opens_at=datetime.combine(day, REGULAR_OPEN, NEW_YORK),
        closes_at=datetime.combine(day, close, NEW_YORK),
    )


def in_session(now: datetime, *, before: timedelta = timedelta(0), after: timedelta = timedelta(0)) -> bool:
    """True when ``now`` (aware) is within today's session, widened by ``before`` / ``after``."""
    local = now.astimezone(NEW_YORK)
    today = session(local.date())
    return today is not None and today.opens_at - before <= local <= today.closes_at + after
