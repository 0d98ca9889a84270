"""Regressions found in review: each test reproduces a scenario that once went wrong."""

from __future__ import annotations

from typing import Any

import pytest

from tastyguard.jobs.invocation import JobName
from tests.integration.jobs.conftest import Harness, make_harness

pytestmark = pytest.mark.integration

A = '5WT00001'


def _ours(harness: Harness, symbol: str) -> list[dict[str, Any]]:
    return [
        o for o in harness.working(A)
        if o['legs'][0]['symbol'] == symbol and str(o.get('external-identifier') or '').startswith('tg-')
    ]  # fmt: skip


def _lines(harness: Harness) -> list[str]:
    return [line for notice in harness.notifier.sent for section in notice.sections for line in section.lines]


def test_a_fill_is_reported_even_when_ensure_stops_sees_it_before_reconcile(harness: Harness) -> None:
    # Given our ORCL stop is working and known
    harness.broker.admin.add_position(A, 'ORCL', 100, '100.00', bid='100.00', ask='100.05', last='100.00')
    harness.run(JobName.ENSURE_STOPS, account=A)
    harness.run(JobName.RECONCILE_ORDERS, account=A)
    # When it fills and the five-minute ensure-stops run reads the orders first
    harness.broker.admin.set_quote('ORCL', bid='85.00', ask='85.05', last='85.00')
    harness.notifier.sent.clear()
    harness.run(JobName.ENSURE_STOPS, account=A)
    harness.run(JobName.RECONCILE_ORDERS, account=A)
    # Then the fill is reported exactly once
    fills = [line for line in _lines(harness) if line.startswith('filled') and 'ORCL' in line]
    assert len(fills) == 1, _lines(harness)


def test_a_person_cancel_after_a_refused_resize_is_still_the_persons(harness: Harness) -> None:
    # Given our ORCL stop, then a resize that the broker refuses
    harness.broker.admin.add_position(A, 'ORCL', 100, '100.00', bid='100.00', ask='100.05', last='100.00')
    harness.run(JobName.ENSURE_STOPS, account=A)
    [stop] = _ours(harness, 'ORCL')
    harness.broker.admin.add_position(A, 'ORCL', 50, '100.00')
    harness.broker.admin.fault('status', method='PUT', path='/orders/', status=422, count=1)
    [resize] = harness.run(JobName.ENSURE_STOPS, account=A)
    assert any(a.kind == 'replace' and a.result == 'rejected' for a in resize.actions)
    # When the person cancels our stop
    harness.ctx.broker.cancel_order(A, int(stop['id']))
    harness.run(JobName.RECONCILE_ORDERS, account=A)
    # Then it is reported as the person's cancel and respected: no new ORCL stop
    assert any(line.startswith('a person cancelled') and 'ORCL' in line for line in _lines(harness))
    [after] = harness.run(JobName.ENSURE_STOPS, account=A)
    assert not [a for a in after.actions if a.kind == 'place' and a.symbol == 'ORCL']
    assert not _ours(harness, 'ORCL')


def test_shadow_mode_does_not_repeat_itself_when_other_jobs_run_in_between(paper_broker: Any, aws: None) -> None:
    shadow = make_harness(paper_broker, mode='shadow')
    shadow.run(JobName.ENSURE_STOPS, account=A)
    assert any('would be sent' in n.title for n in shadow.notifier.sent)
    shadow.notifier.sent.clear()
    shadow.run(JobName.SYNC_POSITIONS, account=A)
    shadow.run(JobName.RECONCILE_ORDERS, account=A)
    shadow.run(JobName.ENSURE_STOPS, account=A)
    assert not [n for n in shadow.notifier.sent if 'would be sent' in n.title]


def test_a_skipped_run_resolves_nothing_and_the_next_run_repeats_nothing(harness: Harness) -> None:
    harness.run(JobName.ENSURE_STOPS, account=A)  # AMD breached and the futures option: open alerts
    harness.notifier.sent.clear()
    harness.broker.admin.fault('status', method='GET', path=r'/accounts/5WT00001/positions$', count=-1, status=503)
    [skipped] = harness.run(JobName.ENSURE_STOPS, account=A)
    assert skipped.status == 'skipped'
    assert not [s for n in harness.notifier.sent for s in n.sections if s.title == 'Resolved']
    harness.broker.admin.clear_faults()
    harness.notifier.sent.clear()
    harness.run(JobName.ENSURE_STOPS, account=A)
    assert not [line for line in _lines(harness) if 'AMD' in line]  # not re-announced as new


def test_the_kill_switch_is_announced_once_not_every_run(paper_broker: Any, aws: None) -> None:
    killed = make_harness(paper_broker, safety={'kill_switch': True})
    killed.run(JobName.ENSURE_STOPS, account=A)
    assert any('not sent' in line and 'kill switch' in line for line in _lines(killed))
    killed.notifier.sent.clear()
    for _ in range(3):
        killed.run(JobName.ENSURE_STOPS, account=A)
    assert killed.notifier.sent == []
