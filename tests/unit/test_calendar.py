from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tastyguard.calendar import easter, holidays, in_session, is_trading_day, session

pytestmark = pytest.mark.unit

# The NYSE's published holiday lists.
PUBLISHED = {
    2025: [
        date(2025, 1, 1),
        date(2025, 1, 9),
        date(2025, 1, 20),
        date(2025, 2, 17),
        date(2025, 4, 18),
        date(2025, 5, 26),
        date(2025, 6, 19),
        date(2025, 7, 4),
        date(2025, 9, 1),
        date(2025, 11, 27),
        date(2025, 12, 25),
    ],
    2026: [
        date(2026, 1, 1),
        date(2026, 1, 19),
        date(2026, 2, 16),
        date(2026, 4, 3),
        date(2026, 5, 25),
        date(2026, 6, 19),
        date(2026, 7, 3),
        date(2026, 9, 7),
        date(2026, 11, 26),
        date(2026, 12, 25),
    ],
    2027: [
        date(2027, 1, 1),
        date(2027, 1, 18),
        date(2027, 2, 15),
        date(2027, 3, 26),
        date(2027, 5, 31),
        date(2027, 6, 18),
        date(2027, 7, 5),
        date(2027, 9, 6),
        date(2027, 11, 25),
        date(2027, 12, 24),
    ],
}


@pytest.mark.parametrize('year', sorted(PUBLISHED))
def test_holidays_match_the_published_nyse_lists(year: int) -> None:
    assert sorted(holidays(year)) == PUBLISHED[year]


def test_a_saturday_new_year_is_not_observed_on_the_friday_before() -> None:
    # 2022-01-01 was a Saturday; the NYSE was open on Friday 2021-12-31
    assert is_trading_day(date(2021, 12, 31))
    assert not [day for day in holidays(2022) if day.month == 1 and day.day < 3]


@pytest.mark.parametrize(
    ('day', 'early'),
    [
        (date(2026, 11, 27), True),  # day after Thanksgiving
        (date(2026, 12, 24), True),  # Christmas Eve, a Thursday
        (date(2025, 7, 3), True),  # the day before Independence Day, a Thursday
        (date(2026, 7, 2), False),  # July 4, 2026 is a Saturday: the Friday is the holiday, Thursday is full
        (date(2026, 11, 20), False),
    ],
)
def test_early_closes(day: date, early: bool) -> None:
    today = session(day)
    assert today is not None
    assert today.early_close is early


def test_the_session_knows_the_hours_in_new_york_across_daylight_saving() -> None:
    winter = session(date(2026, 1, 5))
    summer = session(date(2026, 7, 6))
    assert winter is not None and summer is not None
    assert winter.opens_at.astimezone(UTC).hour == 14  # 9:30 EST
    assert summer.opens_at.astimezone(UTC).hour == 13  # 9:30 EDT


def test_in_session_with_margins() -> None:
    open_ = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)  # 9:30 New York
    assert in_session(open_)
    assert not in_session(open_ - timedelta(minutes=1))
    assert in_session(open_ - timedelta(minutes=1), before=timedelta(minutes=5))
    assert not in_session(datetime(2026, 11, 21, 15, 0, tzinfo=UTC))  # Saturday
    assert not in_session(datetime(2026, 11, 27, 18, 30, tzinfo=UTC))  # 13:30 on an early-close day


@given(st.integers(min_value=1900, max_value=2200))
def test_easter_is_a_sunday_between_march_22_and_april_25(year: int) -> None:
    day = easter(year)
    assert day.weekday() == 6
    assert date(year, 3, 22) <= day <= date(year, 4, 25)
