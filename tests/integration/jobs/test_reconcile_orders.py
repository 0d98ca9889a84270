"""reconcile-orders against the paper broker: what changed at the broker since the last run, classified."""

from __future__ import annotations

from typing import Any

import pytest

from tastyguard.broker import InstrumentType, OrderAction, stop_order
from tastyguard.jobs.invocation import JobName
from tests.integration.jobs.conftest import Harness, make_client, make_harness

pytestmark = pytest.mark.integration


def _events(harness: Harness) -> list[str]:
    return [line for notice in harness.notifier.sent for section in notice.sections for line in section.lines]


def _our_stop(harness: Harness, symbol: str) -> dict[str, Any]:
    [order] = [
        o for o in harness.working()
        if o['legs'][0]['symbol'] == symbol and str(o.get('external-identifier') or '').startswith('tg-')
    ]  # fmt: skip
    return order


def test_a_filled_stop_is_reported_once(harness: Harness) -> None:
    harness.run(JobName.ENSURE_STOPS, account='5WT00001')
    harness.broker.admin.set_quote('AAPL', bid='150.00', ask='150.05', last='150.02')
    harness.run(JobName.RECONCILE_ORDERS, account='5WT00001')
    fills = [line for line in _events(harness) if line.startswith('filled')]
    assert len(fills) == 1
    assert 'AAPL' in fills[0] and '160.65' in fills[0]
    sent = len(harness.notifier.sent)
    harness.run(JobName.RECONCILE_ORDERS, account='5WT00001')
    assert len(harness.notifier.sent) == sent  # nothing new, nothing repeated


def test_a_partial_fill_is_reported(harness: Harness) -> None:
    harness.broker.admin.set_fill_behavior('partial')
    harness.run(JobName.ENSURE_STOPS, account='5WT00001')
    harness.broker.admin.set_quote('KO', bid='53.00', ask='53.02', last='53.01')
    harness.run(JobName.RECONCILE_ORDERS, account='5WT00001')
    assert any(line.startswith('partially filled (150 so far)') for line in _events(harness)), _events(harness)


def test_a_person_cancelling_our_stop_is_respected_and_said_once(harness: Harness) -> None:
    harness.run(JobName.ENSURE_STOPS, account='5WT00001')
    stop = _our_stop(harness, 'AAPL')
    # When the person cancels it in their own app (same user, no tastyguard intent)
    make_client(harness.broker).cancel_order('5WT00001', stop['id'])
    harness.run(JobName.RECONCILE_ORDERS, account='5WT00001')
    assert any(line.startswith('a person cancelled') and 'AAPL' in line for line in _events(harness))
    # Then ensure-stops does not put it back (on_human_cancel: respect) and says why
    harness.broker.admin.clear_requests()
    [result] = harness.run(JobName.ENSURE_STOPS, account='5WT00001')
    assert not [a for a in result.actions if a.kind == 'place' and a.symbol == 'AAPL']
    assert any(a.kind == 'alert' and a.symbol == 'AAPL' for a in result.actions)
    assert harness.writes() == []


def test_a_person_cancel_is_forgotten_once_the_position_changes(harness: Harness) -> None:
    harness.run(JobName.ENSURE_STOPS, account='5WT00001')
    make_client(harness.broker).cancel_order('5WT00001', _our_stop(harness, 'AAPL')['id'])
    harness.run(JobName.RECONCILE_ORDERS, account='5WT00001')
    harness.broker.admin.add_position('5WT00001', 'AAPL', 150, '180.00')  # the person bought more
    [result] = harness.run(JobName.ENSURE_STOPS, account='5WT00001')
    [place] = [a for a in result.actions if a.kind == 'place' and a.symbol == 'AAPL']
    assert place.quantity == 250  # 100 + 150 bought: all of it is new, unprotected exposure


def test_our_order_rejected_at_the_venue_is_reported_and_protection_re_planned(harness: Harness) -> None:
    # Given one of tastyguard's orders reaches the venue off the tick (the broker's preflight lets it pass)
    client = make_client(harness.broker)
    order = stop_order(
        symbol='AAPL', instrument_type=InstrumentType.EQUITY, action=OrderAction.SELL_TO_CLOSE, quantity=100,
        stop_trigger='150.003', external_identifier='tg-off-tick',
    )  # fmt: skip
    client.place_order('5WT00001', order)
    # When reconcile-orders runs
    [result] = harness.run(JobName.RECONCILE_ORDERS, account='5WT00001')
    # Then the rejection is reported and AAPL is protected again at once
    assert any(line.startswith('the broker rejected') for line in _events(harness)), _events(harness)
    assert result.status == 'ok'
    assert any(a.kind == 'place' and a.symbol == 'AAPL' and a.result == 'placed' for a in result.actions)


def test_a_stop_limit_that_triggered_but_did_not_fill_is_critical(paper_broker: Any, aws: None) -> None:
    harness = make_harness(paper_broker, policy={'kind': 'stop_limit', 'limit_offset': '0.5%'})
    harness.run(JobName.ENSURE_STOPS, account='5WT00001')
    assert _our_stop(harness, 'AAPL')['order-type'] == 'Stop Limit'
    # The market gaps through both the trigger and the limit
    paper_broker.admin.set_quote('AAPL', bid='150.00', ask='150.05', last='150.02')
    [result] = harness.run(JobName.RECONCILE_ORDERS, account='5WT00001')
    critical = [n for n in harness.notifier.sent if n.severity.value == 'critical']
    assert any('triggered but not filled' in line for n in critical for s in n.sections for line in s.lines)
    assert result.status == 'ok'
