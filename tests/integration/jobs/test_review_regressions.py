"""Regressions found in review: each test reproduces a scenario that once went wrong."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tastyguard.jobs.executor import resolve_intents
from tastyguard.jobs.invocation import JobName
from tastyguard.store.intents import Intent, IntentOperation, IntentState
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


def test_a_reopened_position_does_not_inherit_the_old_trailing_mark(paper_broker: Any, aws: None) -> None:
    trailing = make_harness(paper_broker, policy={'symbols': {'ORCL': {'basis': 'high_water'}}})
    # Given a trailing ORCL position whose mark reached 150, then closed (ensure-stops sees it first)
    paper_broker.admin.add_position(A, 'ORCL', 100, '100.00', bid='150.00', ask='150.05', last='150.00')
    trailing.run(JobName.ENSURE_STOPS, account=A)
    paper_broker.admin.remove_position(A, 'ORCL')
    trailing.run(JobName.ENSURE_STOPS, account=A)
    trailing.run(JobName.SYNC_POSITIONS, account=A)
    assert trailing.ctx.stores.high_water.get(A, 'ORCL') is None
    # When a new ORCL position opens with the market at 100
    paper_broker.admin.add_position(A, 'ORCL', 100, '100.00', bid='100.00', ask='100.05', last='100.00')
    [result] = trailing.run(JobName.ENSURE_STOPS, account=A)
    # Then its stop trails from the new position's price, 10% below 100, not from the old 150
    [place] = [a for a in result.actions if a.kind == 'place' and a.symbol == 'ORCL']
    assert place.result == 'placed'
    assert place.stop_trigger == Decimal('90.00')


def test_a_mark_from_an_earlier_position_is_replaced_even_without_seeing_the_close(harness: Harness) -> None:
    marks = harness.ctx.stores.high_water
    marks.raise_to(A, 'ORCL', long=True, price=Decimal(150), open_price=Decimal(100))
    # a close and reopen between two reads: same side, another open price
    assert marks.raise_to(A, 'ORCL', long=True, price=Decimal(80), open_price=Decimal(79)).price == Decimal(80)
    # the same position keeps ratcheting only upwards
    assert marks.raise_to(A, 'ORCL', long=True, price=Decimal(75), open_price=Decimal(79)).price == Decimal(80)


def _stop(quantity: int, trigger: str) -> dict[str, Any]:
    return {
        'order-type': 'Stop', 'time-in-force': 'GTC', 'stop-trigger': trigger,
        'legs': [{'instrument-type': 'Equity', 'symbol': 'ORCL', 'action': 'Sell to Close', 'quantity': quantity}],
    }  # fmt: skip


def test_a_cancel_that_did_not_go_through_holds_back_the_rest_of_the_symbol(harness: Harness) -> None:
    # Given two of our ORCL stops of 60 on a 100-share position (a duplicate, over-covering)
    harness.broker.admin.add_position(A, 'ORCL', 100, '100.00', bid='100.00', ask='100.05', last='100.00')
    harness.broker.admin.add_order(A, _stop(60, '95.00'), kind='tastyguard')
    second = harness.broker.admin.add_order(A, _stop(60, '90.00'), kind='tastyguard')
    # When cancelling the duplicate is not confirmed
    harness.broker.admin.fault('status', method='DELETE', path=f'/orders/{second["id"]}$', status=503, count=1)
    [result] = harness.run(JobName.ENSURE_STOPS, account=A)
    # Then nothing else is sent for ORCL this run, so working closing orders never exceed the position more
    orcl = [a for a in result.actions if a.symbol == 'ORCL' and a.kind in ('place', 'replace', 'cancel')]
    assert [a.result for a in orcl if a.kind == 'cancel'] == ['ambiguous']
    assert {a.result for a in orcl if a.kind != 'cancel'} <= {'deferred'}
    working = sum(
        int(o['legs'][0]['remaining-quantity']) for o in harness.working(A) if o['legs'][0]['symbol'] == 'ORCL'
    )
    assert working <= 120  # never more than before the run


def test_a_pointer_whose_intent_is_missing_resolves_after_the_grace(harness: Harness) -> None:
    old = (harness.ctx.clock() - harness.ctx.ambiguous_grace * 2).isoformat()
    harness.ctx.stores.state.table.put_item(
        Item={'pk': f'ACCOUNT#{A}', 'sk': 'OPENINTENT#tg-aaaaaaaaaaaaaaaaaaaaaaaaaa', 'created_at': old}
    )
    [first] = harness.run(JobName.ENSURE_STOPS, account=A)
    assert any('never reached the broker' in note for note in first.notes)
    assert list(harness.ctx.stores.state.query_prefix(f'ACCOUNT#{A}', 'OPENINTENT#')) == []


def test_an_earlier_write_from_a_new_york_evening_is_looked_up_from_that_new_york_day(harness: Harness) -> None:
    # Given a write at 20:30 New York on 3 December (already 4 December in UTC) whose outcome is still unknown
    evening = datetime(2026, 12, 4, 1, 30, tzinfo=UTC)
    harness.ctx.stores.intents.begin(
        Intent(
            account=A, key='tg-0123456789abcdef0123456789', operation=IntentOperation.PLACE, symbol='ORCL',
            state=IntentState.AMBIGUOUS, run_id='r', mode='live', environment='paper', created_at=evening,
            updated_at=evening,
        )
    )  # fmt: skip
    harness.broker.admin.clear_requests()
    # When the next run settles it
    resolve_intents(harness.ctx, A)
    # Then the broker's order search starts from the New York date the order was sent on
    [search] = harness.broker.admin.requests(method='GET', path=rf'/accounts/{A}/orders$')
    assert 'start-date=2026-12-03' in search['query']
