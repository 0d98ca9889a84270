"""ensure-stops under broker faults: lost responses, retries, concurrency, throttling, revoked grants, bad data."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from tastyguard.broker import RetryPolicy
from tastyguard.jobs.invocation import JobName
from tastyguard.jobs.results import AccountRunResult
from tastyguard.store.intents import IntentState
from tastyguard.store.lease import AccountLease
from tests.integration.jobs.conftest import Harness, make_client, make_harness

pytestmark = pytest.mark.integration

ORDERS_POST = r'^/accounts/5WT00001/orders$'


def _stops(harness: Harness, symbol: str) -> list[dict[str, Any]]:
    return [
        o
        for o in harness.working()
        if o['legs'][0]['symbol'] == symbol and str(o.get('external-identifier') or '').startswith('tg-')
    ]


def test_a_lost_response_then_a_lambda_retry_leaves_exactly_one_stop(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the broker accepts the first stop but the response never arrives, and the run dies right after
    harness.broker.admin.fault('accept_then_drop', method='POST', path=ORDERS_POST, count=1)

    def crash(*_: Any, **__: Any) -> Any:
        raise RuntimeError('Lambda timed out')

    monkeypatch.setattr(harness.ctx.broker, 'find_order_by_external_id', crash)
    tick = harness.ctx.clock().replace(microsecond=0)
    with pytest.raises(Exception, match='RuntimeError'):
        harness.run(JobName.ENSURE_STOPS, account='5WT00001', tick=tick)
    [ambiguous] = harness.ctx.stores.intents.unresolved('5WT00001')
    assert ambiguous.state is IntentState.AMBIGUOUS
    # When Lambda retries the same scheduled tick
    monkeypatch.undo()
    [retry] = harness.run(JobName.ENSURE_STOPS, account='5WT00001', tick=tick)
    # Then the order from the lost response is found, not sent again: exactly one stop for its symbol
    assert len(_stops(harness, ambiguous.symbol)) == 1
    assert retry.unprotected == 2  # AMD (breached) and the futures option (no broker stops)
    stored = harness.ctx.stores.intents.get('5WT00001', ambiguous.key)
    assert stored is not None and stored.state is IntentState.SENT


def test_a_lost_response_is_confirmed_by_lookup_within_the_same_run(harness: Harness) -> None:
    harness.broker.admin.fault('accept_then_drop', method='POST', path=ORDERS_POST, count=1)
    [result] = harness.run(JobName.ENSURE_STOPS, account='5WT00001')
    confirmed = [a for a in result.actions if a.detail and 'looking it up' in a.detail]
    assert len(confirmed) == 1
    assert len(_stops(harness, str(confirmed[0].symbol))) == 1
    assert result.errors == []


def _concurrently(harness: Harness, other: Harness) -> tuple[AccountRunResult, AccountRunResult]:
    """Start a slow run, then a second one on the same account while the first holds the lease."""
    harness.broker.admin.fault('delay', method='GET', path=r'/accounts/5WT00001/positions$', count=1, seconds=1.5)
    results: list[list[AccountRunResult]] = []
    first = threading.Thread(target=lambda: results.append(harness.run(JobName.ENSURE_STOPS, account='5WT00001')))
    first.start()
    for _ in range(200):  # wait until the first run holds the lease
        if other.ctx.stores.state.table.get_item(Key={'pk': 'ACCOUNT#5WT00001', 'sk': 'LEASE'}).get('Item'):
            break
        threading.Event().wait(0.02)
    [second] = other.run(JobName.ENSURE_STOPS, account='5WT00001')
    first.join()
    [[winner]] = results
    return winner, second


def test_a_second_run_waits_for_the_first_and_then_has_nothing_to_do(harness: Harness) -> None:
    winner, second = _concurrently(harness, make_harness(harness.broker))
    assert winner.status == 'ok'
    assert second.status == 'ok'
    assert [a for a in second.actions if a.kind in ('place', 'replace', 'cancel')] == []
    assert len(_stops(harness, 'AAPL')) == 1


def test_a_run_that_cannot_wait_is_skipped_without_writes_or_messages(harness: Harness) -> None:
    impatient = make_harness(harness.broker)
    impatient.ctx.lease_wait = timedelta(0)
    winner, second = _concurrently(harness, impatient)
    assert winner.status == 'ok'
    assert second.status == 'skipped'
    assert 'another run' in second.errors[0]
    assert impatient.notifier.sent == []
    assert len(_stops(harness, 'AAPL')) == 1


def test_a_429_storm_is_ridden_out_with_backoff(paper_broker: Any, aws: None) -> None:
    waits: list[float] = []
    client = make_client(
        paper_broker,
        retry=RetryPolicy(max_attempts=8, base_delay=0.5, max_delay=4.0, max_total_wait=60.0),
        sleep=waits.append,
    )
    harness = make_harness(paper_broker, client=client)
    paper_broker.admin.fault('status', method='GET', path=r'/accounts/5WT00001/orders/live$', count=4, status=429)
    paper_broker.admin.fault('status', method='GET', path=r'/market-data/by-type$', count=3, status=429, retry_after=2)
    [result] = harness.run(JobName.ENSURE_STOPS, account='5WT00001')
    assert result.status == 'ok'
    assert result.rate_limited == 7
    assert sum(1 for wait in waits if wait >= 2.0) >= 3  # Retry-After is a floor for those three retries
    assert len(_stops(harness, 'AAPL')) == 1


def test_a_429_storm_that_outlasts_the_retries_skips_the_cycle_without_writes(harness: Harness) -> None:
    harness.broker.admin.fault('status', method='GET', path=r'/accounts/5WT00001/orders/live$', count=-1, status=429)
    [result] = harness.run(JobName.ENSURE_STOPS, account='5WT00001')
    assert result.status == 'skipped'
    assert 'nothing was changed' in result.errors[0]
    assert harness.writes() == []


def test_a_revoked_grant_sends_one_reauthorize_message_and_stops_calling_the_token_endpoint(harness: Harness) -> None:
    harness.broker.admin.fault('revoke_token', scope='grant')
    [result] = harness.run(JobName.ENSURE_STOPS)  # the second account is not attempted
    assert result.status == 'failed'
    assert 'reauthorize' in result.errors[0]
    reauth = [n for n in harness.notifier.sent if n.kind == 'reauthorize']
    assert len(reauth) == 1
    assert 'new tastytrade grant' in reauth[0].title
    # The next runs do not call the token endpoint again and do not repeat the message
    harness.broker.admin.clear_requests()
    for _ in range(3):
        harness.run(JobName.ENSURE_STOPS)
    assert [r for r in harness.broker.admin.requests() if r['path'] == '/oauth/token'] == []
    assert len([n for n in harness.notifier.sent if n.kind == 'reauthorize']) == 1
    assert harness.writes() == []


def test_a_malformed_positions_payload_means_no_writes_and_a_clear_error(harness: Harness) -> None:
    harness.broker.admin.fault('malformed', method='GET', path=r'/accounts/5WT00001/positions$', count=-1)
    [result] = harness.run(JobName.ENSURE_STOPS, account='5WT00001')
    assert result.status == 'skipped'
    assert 'nothing was changed' in result.errors[0]
    assert 'JSON' in result.errors[0] or 'malformed' in result.errors[0].lower()
    assert harness.writes() == []
    [notice] = harness.notifier.sent
    assert 'Problems' in [section.title for section in notice.sections]


def test_the_kill_switch_blocks_writes_and_cancels_nothing(harness: Harness) -> None:
    harness.ctx.stores.kill_switch.set(engaged=True, reason='broker outage', changed_by='test', now=harness.ctx.clock())
    [result] = harness.run(JobName.ENSURE_STOPS, account='5WT00001')
    assert harness.writes() == []
    writes = [a for a in result.actions if a.kind in ('place', 'replace', 'cancel')]
    assert writes and {a.result for a in writes} == {'blocked'}
    assert any('kill switch' in note for note in result.notes)


def test_the_circuit_breaker_trips_and_blocks_the_rest(paper_broker: Any, aws: None) -> None:
    harness = make_harness(paper_broker, safety={'max_order_writes': 3, 'window_minutes': 15})
    [result] = harness.run(JobName.ENSURE_STOPS, account='5WT00001')
    assert len(harness.writes()) == 3
    assert [a.result for a in result.actions if a.kind in ('place', 'cancel')].count('blocked') >= 1
    assert harness.ctx.stores.breaker.tripped('5WT00001') is not None
    # stays tripped on the next run until a person resets it
    [again] = harness.run(JobName.ENSURE_STOPS, account='5WT00001')
    assert len(harness.writes()) == 3
    assert {a.result for a in again.actions if a.kind in ('place', 'cancel')} == {'blocked'}


def test_a_failing_broker_read_is_never_read_as_flat(harness: Harness) -> None:
    harness.broker.admin.fault('status', method='GET', path=r'/accounts/5WT00001/positions$', count=-1, status=503)
    [result] = harness.run(JobName.ENSURE_STOPS, account='5WT00001')
    assert result.status == 'skipped'
    # the stale INTC stop and every other order survive
    assert any(o['legs'][0]['symbol'] == 'INTC' for o in harness.working())
    assert harness.writes() == []


def test_errors_do_not_leak_out_of_other_accounts(harness: Harness) -> None:
    harness.broker.admin.fault('status', method='GET', path=r'/accounts/5WT00001/positions$', count=-1, status=503)
    main, roth = harness.run(JobName.ENSURE_STOPS)
    assert main.status == 'skipped'
    assert roth.status == 'ok'
    assert len(_stops(harness, 'VTI')) == 0  # VTI is in the other account
    assert any(o['legs'][0]['symbol'] == 'VTI' for o in harness.working('5WT00002'))


def test_a_held_lease_skips_the_account_without_writes(harness: Harness) -> None:
    AccountLease(harness.ctx.stores.state, '5WT00001', 'someone-else', timedelta(minutes=5)).acquire()
    waited: list[float] = []
    harness.ctx.sleep = waited.append
    [result] = harness.run(JobName.ENSURE_STOPS, account='5WT00001')
    assert result.status == 'skipped'
    assert sum(waited) == harness.ctx.lease_wait.total_seconds()  # it waited for the holder first
    assert harness.writes() == []
    assert harness.notifier.sent == []


def test_an_event_that_finds_the_account_busy_is_retried_later(harness: Harness) -> None:
    from tastyguard.jobs.invocation import JobInvocation
    from tastyguard.jobs.registry import run
    from tastyguard.jobs.runner import AccountBusyError

    AccountLease(harness.ctx.stores.state, '5WT00001', 'someone-else', timedelta(minutes=5)).acquire()
    harness.ctx.sleep = lambda _: None
    event = JobInvocation(job=JobName.ENSURE_STOPS, account='5WT00001', symbol='AAPL', event_id='fill-1')
    with pytest.raises(AccountBusyError):
        run(harness.ctx, event)
