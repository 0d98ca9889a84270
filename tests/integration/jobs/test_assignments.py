"""Early assignment between expirations: reconcile notices first, the event is told once with the protection."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from paperbroker.instruments import occ_symbol
from paperbroker.scenario_expiration import expiration_symbols
from paperbroker.server import PaperBroker
from tastyguard.jobs.invocation import JobName
from tests.integration.jobs.conftest import Harness, broker_clock, make_harness

pytestmark = pytest.mark.integration

ACCOUNT = '5WT00001'


@pytest.fixture
def harness(paper_broker: PaperBroker, aws: None) -> Harness:
    return make_harness(paper_broker, 'live', clock=broker_clock(paper_broker), accounts=[{'account_number': ACCOUNT}])


def _run(harness: Harness, job: JobName) -> None:
    harness.run(job, tick=harness.ctx.clock())


def _lines(harness: Harness) -> list[str]:
    return [line for notice in harness.notifier.sent for section in notice.sections for line in section.lines]


def _ours(harness: Harness) -> dict[str, dict[str, Any]]:
    working = harness.working(ACCOUNT)
    return {o['legs'][0]['symbol']: o for o in working if str(o.get('external-identifier', '')).startswith('tg-')}


@pytest.mark.paper_scenario('expiration')
def test_an_early_assignment_seen_first_by_reconcile_is_told_once_with_the_new_stop(harness: Harness) -> None:
    put = expiration_symbols(harness.ctx.clock())['assigned_short_put']
    _run(harness, JobName.ENSURE_STOPS)
    stop_id = _ours(harness)[put]['id']
    harness.notifier.sent.clear()

    harness.broker.admin.assign(ACCOUNT, put)  # the broker also cancels our Buy to Close stop on the put
    _run(harness, JobName.RECONCILE_ORDERS)

    assert _ours(harness)['SPY']['legs'][0]['quantity'] == 300 and put not in _ours(harness)
    told = [line for line in _lines(harness) if 'was assigned' in line]
    assert len(told) == 1 and 'bought 300 SPY at 570.00' in told[0] and f'#{stop_id}' in told[0]
    assert not [line for line in _lines(harness) if 'the broker cancelled' in line]  # folded into the event


@pytest.mark.paper_scenario('empty')
def test_covered_stock_called_away_loses_our_stop_on_the_same_run(harness: Harness) -> None:
    admin = harness.broker.admin
    admin.add_position(ACCOUNT, 'AAPL', 100, '150.00', bid='190.20', ask='190.24', last='190.22')
    call = occ_symbol('AAPL', harness.broker.broker.clock.today() + timedelta(days=30), 'C', Decimal(180))
    admin.add_position(ACCOUNT, call, -1, '3.00', bid='11.00', ask='11.20')
    _run(harness, JobName.ENSURE_STOPS)
    assert 'AAPL' in _ours(harness)

    admin.assign(ACCOUNT, call)
    _run(harness, JobName.ENSURE_STOPS)

    assert _ours(harness) == {}  # the transaction proves the position gone: no second read needed
    told = [line for line in _lines(harness) if 'was assigned' in line]
    assert len(told) == 1 and 'sold 100 AAPL at 180.00' in told[0] and 'cancel AAPL' in told[0]


@pytest.mark.paper_scenario('empty')
def test_delivered_shares_without_a_basis_still_get_their_stop_when_the_announcing_run_could_not_place_it(
    harness: Harness,
) -> None:
    # Given short 3 SPY 570 puts under our stop, assigned overnight; the broker shows the 300 SPY without a basis
    admin = harness.broker.admin
    admin.set_quote('SPY', bid='565.00', ask='565.02', last='565.01')
    put = occ_symbol('SPY', harness.broker.broker.clock.today() + timedelta(days=30), 'P', Decimal(570))
    admin.add_position(ACCOUNT, put, -3, '4.10', bid='6.20', ask='6.30')
    _run(harness, JobName.ENSURE_STOPS)
    admin.set_market_open(False)
    admin.assign(ACCOUNT, put)
    harness.broker.broker.core.state.positions[(ACCOUNT, 'SPY')].average_open_price = Decimal(0)
    # When the run that announces the assignment is blocked by the kill switch, and the next one is not
    switch = harness.ctx.stores.kill_switch
    switch.set(engaged=True, reason='maintenance', changed_by='test', now=harness.ctx.clock())
    _run(harness, JobName.ENSURE_STOPS)
    assert 'SPY' not in _ours(harness) and sum('was assigned' in line for line in _lines(harness)) == 1
    switch.set(engaged=False, reason='over', changed_by='test', now=harness.ctx.clock())
    _run(harness, JobName.ENSURE_STOPS)
    # Then that run still measures the stop from the strike (570): the 300 SPY are not left without one
    stop = _ours(harness)['SPY']
    assert (stop['legs'][0]['action'], stop['legs'][0]['quantity']) == ('Sell to Close', 300)
    assert Decimal(stop['stop-trigger']) < 570
