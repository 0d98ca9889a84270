"""Regular sessions in New York time: the configured close of a date, the next open and the next close.

Weekdays only (no holiday calendar). The close is ``Settings.session_close`` (16:00 unless the admin API changes
it) or the date's entry in ``Settings.early_closes`` (e.g. 13:00 on the day after Thanksgiving). Option
expirations settle at the close of their expiration date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from paperbroker.clock import NEW_YORK, SESSION_OPEN
from paperbroker.core import Settings


def close_of(day: date, settings: Settings) -> datetime:
    """The session close of ``day`` (aware, UTC), whether or not it is a trading day."""
    close = settings.early_closes.get(day, settings.session_close)
    return datetime.combine(day, close, NEW_YORK).astimezone(UTC)


def is_trading_day(day: date) -> bool:
    """Weekdays (the paper broker has no holiday calendar)."""
    return day.weekday() < 5


def next_boundary(moment: datetime, settings: Settings, *, which: str) -> datetime:
    """The first session ``open`` or ``close`` strictly after ``moment`` (aware, UTC)."""
    if which not in {'open', 'close'}:
        raise ValueError('"to" must be "open" or "close"')
    local = moment.astimezone(NEW_YORK)
    day = local.date()
    for _ in range(15):
        if is_trading_day(day):
            if which == 'open':
                boundary = datetime.combine(day, SESSION_OPEN, NEW_YORK).astimezone(UTC)
            else:
                boundary = close_of(day, settings)
            if boundary > moment:
                return boundary
        day += timedelta(days=1)
    raise AssertionError('no session within two weeks')  # pragma: no cover - weekdays always come


def parse_hhmm(text: object, what: str) -> time:
    """``'16:00'`` → a time; a ``ValueError`` naming ``what`` otherwise."""
    if not isinstance(text, str):
        raise ValueError(f'{what} must be a time written "HH:MM"')
    try:
        parsed = datetime.strptime(text.strip(), '%H:%M')  # noqa: DTZ007 - a time of day, no zone
    except ValueError:
        raise ValueError(f'{what} must be a time written "HH:MM", not {text!r}') from None
    return parsed.time()
