"""Schedule periods -> cron fields, timeouts and event ages (pure functions, no synth)."""

from __future__ import annotations

from datetime import time

import pytest

from infra import cadence

pytestmark = pytest.mark.infra


@pytest.mark.parametrize(
    ('minutes', 'market_hours_only', 'expected'),
    [
        (5, True, ('*/5', '9-16', 'MON-FRI')),
        (15, True, ('*/15', '9-16', 'MON-FRI')),
        (1, True, ('*', '9-16', 'MON-FRI')),
        (5, False, ('*/5', '*', '*')),
        (60, True, ('0', '9-16', 'MON-FRI')),
        (120, True, ('0', '9-16/2', 'MON-FRI')),
        (240, False, ('0', '*/4', '*')),
    ],
)
def test_periods_become_cron_fields(minutes: int, market_hours_only: bool, expected: tuple[str, str, str]) -> None:
    fields = cadence.periodic_cron(minutes, market_hours_only=market_hours_only)
    assert (fields.minute, fields.hour, fields.week_day) == expected


@pytest.mark.parametrize('minutes', [0, 90, 150])
def test_periods_cron_cannot_express_are_refused_with_a_reason(minutes: int) -> None:
    with pytest.raises(ValueError, match='minute'):
        cadence.periodic_cron(minutes, market_hours_only=True)


def test_the_digest_runs_once_at_its_local_time() -> None:
    fields = cadence.daily_cron(time(16, 30), market_hours_only=True)
    assert (fields.minute, fields.hour, fields.week_day) == ('30', '16', 'MON-FRI')
    assert cadence.daily_cron(time(7, 5), market_hours_only=False).week_day == '*'


@pytest.mark.parametrize(
    ('job', 'minutes', 'seconds'),
    [
        ('ensure_stops', 5, 180),
        ('ensure_stops', 3, 150),
        ('ensure_stops', 1, 30),
        ('reconcile_orders', 60, 180),
        ('digest', None, 300),
    ],
)
def test_a_run_always_ends_before_the_next_tick(job: str, minutes: int | None, seconds: int) -> None:
    assert cadence.job_timeout(job, minutes).to_seconds() == seconds


@pytest.mark.parametrize(('minutes', 'seconds'), [(5, 240), (1, 60), (15, 840), (None, 3600)])
def test_a_tick_is_stale_once_the_next_one_is_due(minutes: int | None, seconds: int) -> None:
    assert cadence.max_event_age(minutes).to_seconds() == seconds


@pytest.mark.parametrize(
    ('minutes', 'offset', 'expected'),
    [(5, 0, '*/5'), (5, 2, '2-59/5'), (15, 3, '3-59/15'), (5, 7, '2-59/5'), (1, 3, '*'), (60, 3, '3')],
)
def test_offsets_keep_jobs_that_share_a_lease_apart(minutes: int, offset: int, expected: str) -> None:
    assert cadence.periodic_cron(minutes, market_hours_only=True, offset_minutes=offset).minute == expected
