"""Trailing moves wait instead of tripping the circuit breaker: per position (``trail_max_moves``) and per
account (half of ``safety.max_order_writes``), while a new stop for an unprotected position is still placed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from paperbroker.server import PaperBroker
from tastyguard.jobs.invocation import JobName
from tests.integration.jobs.conftest import Harness, broker_clock, make_harness

pytestmark = [pytest.mark.integration, pytest.mark.paper_scenario('empty')]
A = '5WT00001'


@pytest.fixture
def harness(paper_broker: PaperBroker, aws: None) -> Harness:
    return make_harness(
        paper_broker,
        clock=broker_clock(paper_broker),
        accounts=[{'account_number': A}],
        policy={'basis': 'high_water', 'distance': '5%', 'trail_max_moves': 3},
        safety={'max_order_writes': 20, 'max_writes_per_symbol': 6},
    )


def _trigger(harness: Harness, symbol: str) -> Decimal:
    (order,) = [o for o in harness.working(A) if o['legs'][0]['symbol'] == symbol]
    return Decimal(order['stop-trigger'])


def _results(harness: Harness, symbol: str) -> list[Any]:
    (result,) = harness.run(JobName.ENSURE_STOPS)
    return [a for a in result.actions if a.symbol == symbol]


def test_a_trailing_stop_moves_at_most_trail_max_moves_per_window_and_then_waits(harness: Harness) -> None:
    admin = harness.broker.admin
    admin.add_position(A, 'AAPL', 100, '100.00', bid='100.00', ask='100.05', last='100.00')
    harness.run(JobName.ENSURE_STOPS)  # the first stop counts as the position's first write of the window
    for bid in ('110.00', '120.00'):
        admin.set_quote('AAPL', bid=bid, ask=str(Decimal(bid) + Decimal('0.05')))
        harness.run(JobName.ENSURE_STOPS)
    assert _trigger(harness, 'AAPL') == Decimal('114')
    admin.set_quote('AAPL', bid='130.00', ask='130.05')

    (row,) = _results(harness, 'AAPL')

    assert row.result == 'deferred' and 'trail_max_moves 3' in str(row.detail)
    assert _trigger(harness, 'AAPL') == Decimal('114')
    assert harness.ctx.stores.breaker.tripped(A) is None
    assert 'next window' in str(row.detail)
    mark = harness.ctx.stores.high_water.get(A, 'AAPL')
    assert mark is not None and mark.price == Decimal('130')  # the mark moved: kept for the next window


def test_trailing_moves_wait_at_half_the_account_budget_and_a_new_position_still_gets_its_stop(
    harness: Harness,
) -> None:
    admin = harness.broker.admin
    admin.add_position(A, 'AAPL', 100, '100.00', bid='100.00', ask='100.05', last='100.00')
    harness.run(JobName.ENSURE_STOPS)
    for _ in range(9):  # other writes this window: 10 of the account's 20 are used
        harness.ctx.stores.breaker.record_write(A)
    admin.set_quote('AAPL', bid='110.00', ask='110.05')
    admin.add_position(A, 'KO', 100, '60.00', bid='60.00', ask='60.02', last='60.00')

    (result,) = harness.run(JobName.ENSURE_STOPS)

    rows = {a.symbol: a for a in result.actions}
    assert rows['AAPL'].result == 'deferred' and 'half' in str(rows['AAPL'].detail)
    assert rows['KO'].result == 'placed'
    assert _trigger(harness, 'AAPL') == Decimal('95')
    assert harness.ctx.stores.breaker.tripped(A) is None
