from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tastyguard.notify.dedupe import AlertCandidate, triage
from tastyguard.notify.notice import Severity
from tastyguard.store.alerts import AlertRecord

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
BREACH = AlertCandidate('breached:AMD', 'breached', Severity.WARNING, 'AMD is through its stop', 'AMD')


def _run(candidates: list[AlertCandidate], records: dict[str, AlertRecord], now: datetime = NOW):  # type: ignore[no-untyped-def]
    return triage('5WT00001', candidates, records, now=now, repeat_after=timedelta(hours=24), scope_kinds={'breached'})


def _records(result) -> dict[str, AlertRecord]:  # type: ignore[no-untyped-def]
    return {record.dedupe_key: record for record in result.records}


def test_a_new_problem_is_sent_once() -> None:
    first = _run([BREACH], {})
    assert first.send == [BREACH]
    second = _run([BREACH], _records(first), NOW + timedelta(minutes=5))
    assert second.send == []
    assert second.suppressed == [BREACH]


def test_a_problem_still_present_after_the_repeat_interval_gets_a_reminder() -> None:
    first = _run([BREACH], {})
    later = _run([BREACH], _records(first), NOW + timedelta(hours=24))
    assert later.reminders == [BREACH]
    assert _records(later)['breached:AMD'].times_sent == 2


def test_an_escalation_is_sent_immediately() -> None:
    first = _run([BREACH], {})
    worse = AlertCandidate('breached:AMD', 'breached', Severity.CRITICAL, 'AMD fell further', 'AMD')
    result = _run([worse], _records(first), NOW + timedelta(minutes=5))
    assert result.send == [worse]


def test_a_problem_that_disappears_is_resolved_and_a_recurrence_is_new_again() -> None:
    first = _run([BREACH], {})
    gone = _run([], _records(first), NOW + timedelta(minutes=5))
    assert [record.dedupe_key for record in gone.resolved] == ['breached:AMD']
    back = _run([BREACH], _records(gone), NOW + timedelta(minutes=10))
    assert back.send == [BREACH]


def test_alerts_of_other_jobs_are_not_resolved() -> None:
    other = AlertRecord(
        account='5WT00001',
        dedupe_key='reauth',
        kind='reauthorize',
        severity='critical',
        message='m',
        first_seen=NOW,
        last_seen=NOW,
        last_sent=NOW,
        times_sent=1,
    )
    result = _run([], {'reauth': other})
    assert result.resolved == []
