"""The virtual clock: wall-clock time plus an offset that the admin API moves forward.

Every timestamp the broker produces (orders, fills, tokens, quotes) and every timer it runs (delayed fills,
partial-fill remainders, token expiry, DXLink keepalive) reads this clock, so tests can jump ahead in time
instead of sleeping.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo('America/New_York')
SESSION_OPEN = time(9, 30)
SESSION_CLOSE = time(16, 0)


class VirtualClock:
    """Real UTC time shifted by an offset that only ever grows (until a reset)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)
        self.stopped_at: datetime | None = None  # the wall-clock part, while stopped

    def now(self) -> datetime:
        """The current virtual time (aware, UTC)."""
        return (self.stopped_at or datetime.now(UTC)) + self.offset

    def stop(self) -> None:
        """Stop the wall-clock part: from now on time moves only with ``advance`` (exact timing in tests)."""
        if self.stopped_at is None:
            self.stopped_at = datetime.now(UTC)

    def resume(self) -> None:
        """Let wall-clock time run again (virtual time jumps forward by the time it was stopped, never back)."""
        self.stopped_at = None

    def advance(self, seconds: float) -> datetime:
        """Move virtual time forward by ``seconds`` (never backwards) and return the new time."""
        if seconds < 0:
            raise ValueError('the clock only moves forward')
        self.offset += timedelta(seconds=seconds)
        return self.now()

    def reset(self) -> None:
        """Back to wall-clock time."""
        self.offset = timedelta(0)
        self.stopped_at = None

    def today(self) -> date:
        """Today's date in New York (the broker's trading day)."""
        return self.now().astimezone(NEW_YORK).date()


def iso_ms(moment: datetime) -> str:
    """ISO-8601 with milliseconds and ``+00:00``, the API's usual timestamp format."""
    return moment.astimezone(UTC).isoformat(timespec='milliseconds')


def iso_z(moment: datetime) -> str:
    """ISO-8601 with milliseconds and ``Z`` (market data uses this variant)."""
    return moment.astimezone(UTC).isoformat(timespec='milliseconds').replace('+00:00', 'Z')


def iso_s(moment: datetime) -> str:
    """ISO-8601 to the second with ``Z`` (quote tokens use this variant)."""
    return moment.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch (order ``updated-at``, streamer ``timestamp``)."""
    return int(moment.timestamp() * 1000)


def ny_date(moment: datetime) -> date:
    """The New York calendar date of a moment."""
    return moment.astimezone(NEW_YORK).date()


def session_close_after(moment: datetime, on: date | None = None) -> datetime:
    """The first regular-session close (16:00 New York, weekdays) strictly after ``moment``.

    With ``on`` the close of that date is returned instead (used for GTD orders).
    """
    if on is not None:
        return datetime.combine(on, SESSION_CLOSE, NEW_YORK).astimezone(UTC)
    local = moment.astimezone(NEW_YORK)
    day = local.date()
    while True:
        close = datetime.combine(day, SESSION_CLOSE, NEW_YORK)
        if day.weekday() < 5 and close > local:
            return close.astimezone(UTC)
        day += timedelta(days=1)


def parse_datetime(text: str) -> datetime:
    """Parse an ISO-8601 timestamp (``Z`` allowed); naive values are taken as UTC."""
    value = datetime.fromisoformat(text.replace('Z', '+00:00'))
    return value if value.tzinfo else value.replace(tzinfo=UTC)
