"""Safety messages reach a person: the kill switch and the circuit breaker are separate alerts, each breaker
trip is announced once, and a failed write's outcome is part of its alert's identity."""

from __future__ import annotations

from typing import Any, cast

import pytest

from tastyguard.config.models import Mode
from tastyguard.jobs.ensure_stops import _write_alerts
from tastyguard.jobs.gate import WriteGate
from tastyguard.jobs.invocation import JobName
from tastyguard.jobs.results import ActionResult
from tastyguard.notify.notice import Notice, Severity
from tastyguard.notify.render import email_body

from .conftest import Harness, make_harness

pytestmark = pytest.mark.integration

ACCOUNT = '5WT00001'


def _mentions(notices: list[Notice], text: str) -> list[Notice]:
    return [notice for notice in notices if text in email_body(notice)]


def _breaker_messages(harness: Harness) -> list[Notice]:
    return _mentions(harness.notifier.sent, 'circuit breaker tripped')


def _engage_then_release_kill_switch(harness: Harness) -> None:
    switch = harness.ctx.stores.kill_switch
    switch.set(engaged=True, reason='broker outage', changed_by='test', now=harness.ctx.clock())
    harness.run(JobName.ENSURE_STOPS, account=ACCOUNT)
    switch.set(engaged=False, reason='over', changed_by='test', now=harness.ctx.clock())


def test_a_tripped_breaker_is_announced_after_a_kill_switch_message(paper_broker: Any, aws: None) -> None:
    # Given a live run blocked by the kill switch (that message was sent), then the switch released
    first = make_harness(paper_broker)
    _engage_then_release_kill_switch(first)
    assert _mentions(first.notifier.sent, 'the kill switch is engaged')
    # When a run with `safety.max_order_writes: 1` trips the breaker (same state table)
    tight = make_harness(paper_broker, safety={'max_order_writes': 1})
    [result] = tight.run(JobName.ENSURE_STOPS, account=ACCOUNT)
    # Then the breaker blocked writes, and a critical message says so
    assert 'blocked' in {a.result for a in result.actions}
    [message] = _breaker_messages(tight)
    assert message.severity is Severity.CRITICAL


def test_a_run_still_blocked_by_the_same_trip_does_not_repeat_it(paper_broker: Any, aws: None) -> None:
    harness = make_harness(paper_broker, safety={'max_order_writes': 1})
    harness.run(JobName.ENSURE_STOPS, account=ACCOUNT)
    harness.run(JobName.ENSURE_STOPS, account=ACCOUNT)
    assert len(_breaker_messages(harness)) == 1


def test_every_new_trip_reaches_a_person_even_right_after_a_reset(paper_broker: Any, aws: None) -> None:
    # Given a trip that was announced, then reset by a person
    harness = make_harness(paper_broker, safety={'max_order_writes': 1, 'window_minutes': 5})
    harness.run(JobName.ENSURE_STOPS, account=ACCOUNT)
    harness.ctx.stores.breaker.reset(ACCOUNT)
    # When the next run trips it again (the runaway continues)
    harness.run(JobName.ENSURE_STOPS, account=ACCOUNT)
    # Then that trip is announced too
    assert len(_breaker_messages(harness)) == 2


def test_the_kill_switch_and_the_breaker_have_their_own_alert_records(paper_broker: Any, aws: None) -> None:
    first = make_harness(paper_broker)
    _engage_then_release_kill_switch(first)
    tight = make_harness(paper_broker, safety={'max_order_writes': 1})
    tight.run(JobName.ENSURE_STOPS, account=ACCOUNT)
    records = tight.ctx.stores.alerts.all(ACCOUNT)
    blocked = {key for key, record in records.items() if record.kind == 'writes_blocked'}
    assert any(':kill_switch' in key for key in blocked)
    assert any(':breaker:' in key for key in blocked)
    # the released kill switch's alert was resolved by the run that no longer saw it
    [kill] = [records[key] for key in blocked if ':kill_switch' in key]
    assert not kill.open


def test_a_blocked_run_reports_its_alerts_in_the_result(paper_broker: Any, aws: None) -> None:
    harness = make_harness(paper_broker, safety={'max_order_writes': 1})
    [result] = harness.run(JobName.ENSURE_STOPS, account=ACCOUNT)
    assert result.critical
    assert any(a.kind == 'writes_blocked' and a.severity == 'critical' for a in result.alerts)


def test_a_rejected_and_an_unconfirmed_write_of_one_stop_are_two_alerts() -> None:
    # An unconfirmed write (it may be at the broker) is a different problem from a rejection: neither may
    # hide the other behind one alert record.
    gate = WriteGate(cast(Any, None), ACCOUNT, Mode.OBSERVE)
    rows = [
        ActionResult(kind='place', symbol='AAPL', reason='no stop', result='rejected', detail='margin'),
        ActionResult(kind='place', symbol='AAPL', reason='no stop', result='ambiguous', detail='timeout'),
    ]
    alerts = list(_write_alerts(ACCOUNT, rows, gate))
    assert len({alert.dedupe_key for alert in alerts}) == 2
    assert all('ambiguous' not in alert.message for alert in alerts)  # the outcome in words: "unconfirmed"


def test_an_account_the_broker_does_not_know_is_one_critical_configuration_message(
    paper_broker: Any, aws: None
) -> None:
    # Given a configured account number the broker has never heard of
    harness = make_harness(paper_broker, accounts=[{'account_number': '5WT99999'}])
    # When two runs happen
    [first] = harness.run(JobName.ENSURE_STOPS)
    [second] = harness.run(JobName.ENSURE_STOPS)
    # Then each run fails as a configuration error (not "the broker is unavailable, next run retries") ...
    for result in (first, second):
        assert result.status == 'failed'
        assert 'does not know account 5WT99999' in result.errors[0] and 'accounts[].account_number' in result.errors[0]
    # ... and a person hears about it once, as critical
    told = _mentions(harness.notifier.sent, 'does not know account 5WT99999')
    assert len(told) == 1 and told[0].severity is Severity.CRITICAL
