"""ensure-stops on the demo scenario, end to end: the orders the broker ends up holding."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tastyguard.jobs.invocation import JobName
from tests.integration.jobs.conftest import Harness, make_harness

pytestmark = pytest.mark.integration


def _stops(orders: list[dict[str, Any]], symbol: str) -> list[dict[str, Any]]:
    return [o for o in orders if o['legs'][0]['symbol'] == symbol and o['order-type'] in ('Stop', 'Stop Limit')]


def _ours(orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in orders if str(o.get('external-identifier') or '').startswith('tg-')]


def test_live_run_protects_every_protectable_position(harness: Harness) -> None:
    # Given the demo account, untouched
    human_before = {
        o['id']: o for o in harness.working() if not str(o.get('external-identifier') or '').startswith('tg-')
    }
    # When ensure-stops runs in live mode
    [main, roth] = harness.run(JobName.ENSURE_STOPS)
    # Then the broker holds exactly one closing stop per protectable position, to its quantity
    working = harness.working()
    expect = {
        'AAPL': ('Sell to Close', 100),
        'TSLA': ('Buy to Close', 30),
        'KO': ('Sell to Close', 300),
        '/ESZ6': ('Sell to Close', 1),
        'AAPL  261218C00200000': ('Sell to Close', 2),
        'SPY   261218P00520000': ('Buy to Close', 3),
        'SPY': ('Sell to Close', 20),
        'NVDA': ('Sell to Close', 100),  # the person's stop covers the other 100
    }
    for symbol, (action, quantity) in expect.items():
        [ours] = _stops(_ours(working), symbol)
        assert ours['legs'][0]['action'] == action, symbol
        assert ours['legs'][0]['quantity'] == quantity, symbol
        assert ours['advanced-instructions']['strict-position-effect-validation'] is True
        assert ours['source'].startswith('tastyguard/')
    # the stale INTC stop and the duplicate SPY stop are gone
    assert not _stops(working, 'INTC')
    assert len(_stops(working, 'SPY')) == 1
    # the person's orders are untouched
    human_after = {o['id']: o for o in working if not str(o.get('external-identifier') or '').startswith('tg-')}
    assert human_after.keys() == human_before.keys()
    for order_id, before in human_before.items():
        assert human_after[order_id]['status'] == before['status']
        assert human_after[order_id].get('stop-trigger') == before.get('stop-trigger')
    # the breached AMD gets no order but an alert; the futures option an alert
    assert not _stops(working, 'AMD')
    alerts = {(a.kind, a.symbol) for a in main.actions} | {(a.kind, a.symbol) for a in roth.actions}
    assert ('alert', 'AMD') in alerts
    assert any(kind == 'alert' and symbol and symbol.startswith('./ESZ6') for kind, symbol in alerts)
    # the second account is protected too
    [vti] = _stops(_ours(harness.working('5WT00002')), 'VTI')
    assert vti['legs'][0]['quantity'] == 40
    # and the result says so
    assert main.mode == 'live'
    assert main.errors == []
    assert roth.unprotected == 0


def test_stops_are_ten_percent_below_entry_and_on_the_tick(harness: Harness) -> None:
    harness.run(JobName.ENSURE_STOPS, account='5WT00001')
    working = _ours(harness.working())
    [aapl] = _stops(working, 'AAPL')
    assert Decimal(aapl['stop-trigger']) == Decimal('160.65')  # 178.50 × 0.9, already on the 0.01 tick
    [future] = _stops(working, '/ESZ6')
    assert Decimal(future['stop-trigger']) == Decimal('5400.00')
    [short_put] = _stops(working, 'SPY   261218P00520000')
    assert Decimal(short_put['stop-trigger']) == Decimal('8.20')  # twice the 4.10 credit
    [tsla] = _stops(working, 'TSLA')
    assert Decimal(tsla['stop-trigger']) == Decimal('275.00')


def test_a_second_run_changes_nothing(harness: Harness) -> None:
    harness.run(JobName.ENSURE_STOPS)
    harness.broker.admin.clear_requests()
    [main, roth] = harness.run(JobName.ENSURE_STOPS)
    assert harness.writes() == []
    assert [a for a in main.actions + roth.actions if a.kind in ('place', 'replace', 'cancel')] == []


def test_shadow_mode_submits_nothing_and_reports_the_same_plan(paper_broker: Any, aws: None) -> None:
    shadow = make_harness(paper_broker, mode='shadow')
    [main, _] = shadow.run(JobName.ENSURE_STOPS)
    assert shadow.writes() == []
    dry_runs = [r for r in paper_broker.admin.requests() if r['path'].endswith('/orders/dry-run')]
    planned = [a for a in main.actions if a.kind == 'place']
    assert len(dry_runs) >= len(planned) > 0
    assert all(a.result == 'dry_run_ok' for a in planned), [(a.symbol, a.result, a.detail) for a in planned]
    cancels = [a for a in main.actions if a.kind == 'cancel']
    assert {a.result for a in cancels} == {'would_cancel'}
    # Then live mode does what shadow said
    paper_broker.admin.clear_requests()
    live = make_harness(paper_broker, mode='live')
    [live_main, _] = live.run(JobName.ENSURE_STOPS)
    shadow_plan = sorted((a.kind, a.symbol, a.quantity, a.stop_trigger) for a in main.actions if a.kind != 'report')
    live_plan = sorted((a.kind, a.symbol, a.quantity, a.stop_trigger) for a in live_main.actions if a.kind != 'report')
    assert shadow_plan == live_plan


def test_observe_mode_neither_dry_runs_nor_submits(paper_broker: Any, aws: None) -> None:
    observe = make_harness(paper_broker, mode='observe')
    [main, _] = observe.run(JobName.ENSURE_STOPS)
    assert [r for r in paper_broker.admin.requests() if '/orders' in r['path'] and r['method'] != 'GET'] == []
    assert {a.result for a in main.actions if a.kind == 'place'} == {'planned'}
