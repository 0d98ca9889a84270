"""Number and time formats of the wire, and the virtual clock."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from paperbroker.amounts import fmt, fmt_qty, to_decimal, wire_int
from paperbroker.clock import VirtualClock, epoch_ms, iso_ms, iso_z, session_close_after

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ('value', 'text'),
    [
        ('3', '3.0'),
        ('1.020', '1.02'),
        ('99999', '99999.0'),
        ('0.000166', '0.000166'),
        ('-0', '0.0'),
        ('1E+3', '1000.0'),
    ],
)
def test_decimals_are_formatted_like_the_api(value: str, text: str) -> None:
    assert fmt(Decimal(value)) == text


def test_quantities_are_whole_strings_or_ints_when_whole() -> None:
    assert fmt_qty(Decimal('100.0')) == '100'
    assert fmt_qty(Decimal('0.50')) == '0.5'
    assert wire_int(Decimal('20')) == 20
    assert wire_int(Decimal('2.5')) == '2.5'


def test_json_numbers_and_strings_become_decimals_but_nothing_else() -> None:
    assert to_decimal('179.50') == Decimal('179.50')
    assert to_decimal(179.5) == Decimal('179.5')
    assert to_decimal(True) is None
    assert to_decimal('NaN') is None
    assert to_decimal('abc') is None


def test_timestamps_use_milliseconds_and_the_api_zone_suffixes() -> None:
    moment = datetime(2026, 6, 12, 19, 33, 24, 172000, tzinfo=UTC)

    assert iso_ms(moment) == '2026-06-12T19:33:24.172+00:00'
    assert iso_z(moment) == '2026-06-12T19:33:24.172Z'
    assert epoch_ms(moment) == 1781292804172


def test_virtual_clock_only_moves_forward_and_resets() -> None:
    clock = VirtualClock()
    before = clock.now()

    clock.advance(900)

    assert (clock.now() - before).total_seconds() >= 900
    with pytest.raises(ValueError, match='forward'):
        clock.advance(-1)
    clock.reset()
    assert (clock.now() - before).total_seconds() < 60


def test_session_close_is_the_next_weekday_four_pm_in_new_york() -> None:
    friday_evening = datetime(2026, 11, 20, 22, 0, tzinfo=UTC)  # 17:00 New York
    monday_morning = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 10:00 New York

    assert session_close_after(friday_evening) == datetime(2026, 11, 23, 21, 0, tzinfo=UTC)
    assert session_close_after(monday_morning) == datetime(2026, 11, 23, 21, 0, tzinfo=UTC)
    assert session_close_after(monday_morning, on=date(2026, 11, 25)) == datetime(2026, 11, 25, 21, 0, tzinfo=UTC)
