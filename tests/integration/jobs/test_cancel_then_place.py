"""A cancel and the place that takes over the quantity it frees: the new stop never goes out before the old one is
gone, and the circuit breaker never trips between the two.

Two flows cancel one of our stops and place another for the same quantity: a long call with our single-leg stop
that becomes a vertical (a ``stop_limit`` spread policy protects the structure with one multi-leg stop, planned
under the underlying's name), and a split (decision 41). tastytrade answers a cancel with ``Cancel Requested``
and a fill can still win until the cancel is confirmed (the paper broker's ``cancel-delay``). The outcomes are
asserted on the broker's own state: the working closing quantity on a leg never exceeds the position.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from paperbroker.server import PaperBroker
from tastyguard.jobs.invocation import JobName
from tests.integration.chaos import invariants as inv
from tests.integration.jobs.conftest import Harness, broker_clock, make_harness

pytestmark = [pytest.mark.integration, pytest.mark.paper_scenario('empty')]

A = '5WT00001'
D = Decimal
ACCOUNTS = [{'account_number': A, 'nickname': 'Individual'}]
SPREAD_STOP_LIMIT = {'instrument_types': {'spread': {'kind': 'stop_limit'}}}
LONG_CALL = 'AAPL  261218C00200000'
SHORT_CALL = 'AAPL  261218C00210000'


@pytest.fixture
def spreads(paper_broker: PaperBroker, aws: None) -> Iterator[Harness]:
    yield make_harness(paper_broker, accounts=ACCOUNTS, policy=SPREAD_STOP_LIMIT)


def _closing(harness: Harness, symbol: str, long: bool) -> Decimal:
    """The broker's working closing quantity on ``symbol`` (what may still fill), as the chaos invariants count it."""
    return inv.closing_quantity(harness.working(A), symbol, long)


def _ours(harness: Harness, symbol: str) -> list[dict[str, Any]]:
    return [
        o for o in harness.working(A)
        if any(leg['symbol'] == symbol for leg in o['legs'])
        and str(o.get('external-identifier') or '').startswith('tg-')
    ]  # fmt: skip


def _run(harness: Harness) -> list[tuple[str, str | None, str]]:
    """One ensure-stops run; its writes as (kind, symbol, result)."""
    [result] = harness.run(JobName.ENSURE_STOPS, account=A, tick=harness.ctx.clock())
    return [(a.kind, a.symbol, a.result) for a in result.actions if a.kind in ('place', 'cancel', 'replace')]


def _virtual_sleep(harness: Harness, then: Callable[[], None] | None = None) -> list[float]:
    """tastyguard's waits move the broker's virtual clock instead of the wall clock (``then`` runs after the first
    one); returns the waits."""
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        harness.broker.admin.advance_clock(seconds)
        if then is not None and len(waits) == 1:
            then()

    harness.ctx.sleep = sleep
    return waits


def _protected_long_call_becomes_a_vertical(harness: Harness) -> dict[str, Any]:
    admin = harness.broker.admin
    admin.add_position(A, LONG_CALL, 2, '6.40', bid='7.10', ask='7.20', instrument_type='Equity Option')
    _run(harness)
    [single] = _ours(harness, LONG_CALL)
    assert len(single['legs']) == 1 and single['legs'][0]['action'] == 'Sell to Close'
    # The person sells the 210 calls against it: a call vertical, which the stop_limit spread policy protects as a
    # whole (the single-leg stop on the long leg has to go: it would break the structure)
    admin.add_position(A, SHORT_CALL, -2, '3.00', bid='2.90', ask='3.00', instrument_type='Equity Option')
    return single


def _structure_stops(harness: Harness) -> list[dict[str, Any]]:
    return [o for o in _ours(harness, LONG_CALL) if len(o['legs']) == 2]


# -- a cancel that did not go through holds back the structure stop --------------------------------------------


@pytest.mark.parametrize('status', [500, 422], ids=['ambiguous', 'refused'])
def test_a_structure_stop_waits_for_the_cancel_of_the_single_leg_stop(spreads: Harness, status: int) -> None:
    # Given a long call with our single-leg stop that became a vertical, and a cancel the broker does not take
    harness = spreads
    single = _protected_long_call_becomes_a_vertical(harness)
    harness.broker.admin.fault('status', method='DELETE', path=rf'/orders/{single["id"]}$', status=status, count=1)

    # When the run replaces the single-leg stop with a structure stop
    rows = _run(harness)

    # Then the structure stop (planned under the underlying's name) waits for the next run: the long call keeps
    # exactly its single-leg stop
    assert [o['id'] for o in _ours(harness, LONG_CALL)] == [single['id']]
    assert _closing(harness, LONG_CALL, long=True) == harness.quantity(LONG_CALL) == 2
    assert rows[0][:2] == ('cancel', LONG_CALL) and rows[0][2] in ('ambiguous', 'not_cancelled')
    assert rows[1] == ('place', 'AAPL', 'deferred')

    # And the next run, with the broker answering again, moves the protection to the structure
    _run(harness)
    [structure] = _structure_stops(harness)
    assert _ours(harness, LONG_CALL) == [structure]
    assert _closing(harness, LONG_CALL, long=True) == 2 and _closing(harness, SHORT_CALL, long=False) == 2


# -- a cancel that is only requested ----------------------------------------------------------------------------


def test_a_cancel_that_is_only_requested_does_not_free_the_quantity_for_a_new_stop(spreads: Harness) -> None:
    # Given the vertical, and a broker that confirms cancels only after 30 s
    harness = spreads
    single = _protected_long_call_becomes_a_vertical(harness)
    harness.broker.admin.set_fill_behavior('immediate', cancel_delay=30)
    waits = _virtual_sleep(harness)

    # When the run cancels the single-leg stop and the broker answers Cancel Requested
    rows = _run(harness)

    # Then tastyguard waits a bounded moment, and the structure stop waits for the next run: the long call is never
    # covered twice while the old stop can still fill
    assert [(o['id'], o['status']) for o in _ours(harness, LONG_CALL)] == [(single['id'], 'Cancel Requested')]
    assert _closing(harness, LONG_CALL, long=True) <= harness.quantity(LONG_CALL)
    assert rows == [('cancel', LONG_CALL, 'cancel_pending'), ('place', 'AAPL', 'deferred')]
    assert 0 < sum(waits) <= 2

    # And once the broker confirmed the cancel, the next run places the structure stop
    harness.broker.admin.advance_clock(30)
    _run(harness)
    [structure] = _structure_stops(harness)
    assert _ours(harness, LONG_CALL) == [structure]
    assert _closing(harness, LONG_CALL, long=True) == 2


def test_a_cancel_confirmed_within_the_wait_lets_the_structure_stop_go_at_once(spreads: Harness) -> None:
    # Given the vertical, and a broker that confirms cancels after half a second
    harness = spreads
    single = _protected_long_call_becomes_a_vertical(harness)
    harness.broker.admin.set_fill_behavior('immediate', cancel_delay=0.5)
    waits = _virtual_sleep(harness)

    # When the run cancels the single-leg stop
    rows = _run(harness)

    # Then it reads the order again until the cancel is confirmed, and places the structure stop in the same run
    [old] = [o for o in harness.orders(A) if o['id'] == single['id']]
    assert old['status'] == 'Cancelled'
    [structure] = _structure_stops(harness)
    assert _ours(harness, LONG_CALL) == [structure]
    assert _closing(harness, LONG_CALL, long=True) == harness.quantity(LONG_CALL) == 2
    assert rows == [('cancel', LONG_CALL, 'cancelled'), ('place', 'AAPL', 'placed')]
    assert sum(waits) <= 2


def test_a_stop_that_fills_while_its_cancel_is_pending_gets_no_structure_stop_on_top(spreads: Harness) -> None:
    # Given the vertical, a broker that confirms cancels only after 30 s, and a market that falls through the
    # single-leg stop while its cancel is pending (the fill wins)
    harness = spreads
    single = _protected_long_call_becomes_a_vertical(harness)
    harness.broker.admin.set_fill_behavior('immediate', cancel_delay=30)
    below = str(D(single['stop-trigger']) - 1)

    def market_falls() -> None:
        harness.broker.admin.set_quote(LONG_CALL, bid=below, ask=str(D(below) + D('0.10')), last=below)

    _virtual_sleep(harness, then=market_falls)

    # When the run cancels the single-leg stop
    rows = _run(harness)

    # Then the stop filled, and no structure stop is placed for a position that is no longer a vertical
    assert harness.quantity(LONG_CALL) == 0
    assert [o for o in harness.working(A) if len(o['legs']) > 1] == []
    assert _closing(harness, SHORT_CALL, long=False) == 0
    assert rows == [('cancel', LONG_CALL, 'filled'), ('place', 'AAPL', 'deferred')]


# -- the circuit breaker ----------------------------------------------------------------------------------------


def test_the_breaker_never_trips_between_the_cancel_of_a_leg_stop_and_the_structure_stop(
    paper_broker: PaperBroker, aws: None
) -> None:
    # Given the vertical, and a breaker with room for one more write in its window
    harness = make_harness(paper_broker, accounts=ACCOUNTS, policy=SPREAD_STOP_LIMIT, safety={'max_order_writes': 2})
    single = _protected_long_call_becomes_a_vertical(harness)  # one write so far: the single-leg stop
    harness.broker.admin.clear_requests()

    # When the run would cancel the single-leg stop and place the structure stop (two writes)
    rows = _run(harness)

    # Then the breaker refuses both before the cancel: the long call keeps its single-leg stop
    assert harness.writes() == []
    assert [o['id'] for o in _ours(harness, LONG_CALL)] == [single['id']]
    assert _closing(harness, LONG_CALL, long=True) == 2
    assert rows == [('cancel', LONG_CALL, 'blocked'), ('place', 'AAPL', 'blocked')]


# -- a split (decision 41) ----------------------------------------------------------------------------------------


@pytest.fixture
def splits(paper_broker: PaperBroker, aws: None) -> Iterator[Harness]:
    yield make_harness(paper_broker, clock=broker_clock(paper_broker), accounts=ACCOUNTS)


def test_a_split_places_the_new_stop_only_once_the_pre_split_stop_is_cancelled(splits: Harness) -> None:
    # Given 101 AAPL with our stop, a 2:1 split overnight that leaves the stop as it was (101 @ 135.00), and a
    # broker that confirms cancels only after 30 s
    harness = splits
    admin = harness.broker.admin
    admin.add_position(A, 'AAPL', 101, '150.00', bid='190.20', ask='190.24', last='190.22')
    _run(harness)
    [before] = _ours(harness, 'AAPL')
    admin.set_market_open(False)
    admin.split('AAPL', '2:1', orders='keep')
    admin.set_fill_behavior('immediate', cancel_delay=30)
    waits = _virtual_sleep(harness)

    # When the run after the split cancels the pre-split stop to derive it again from scratch
    rows = _run(harness)

    # Then the new stop waits for the cancel: the 202 shares are never under 101 + 202 closing shares
    assert [(o['id'], o['status']) for o in _ours(harness, 'AAPL')] == [(before['id'], 'Cancel Requested')]
    assert _closing(harness, 'AAPL', long=True) <= harness.quantity('AAPL') == 202
    assert rows == [('cancel', 'AAPL', 'cancel_pending'), ('place', 'AAPL', 'deferred')]
    assert 0 < sum(waits) <= 2

    # And once the cancel is confirmed, the next run places the stop for the new quantity
    admin.advance_clock(30)
    _run(harness)
    [stop] = _ours(harness, 'AAPL')
    assert (stop['legs'][0]['quantity'], stop['stop-trigger']) == (202, '67.5')  # 10% below the new 75.00
    assert _closing(harness, 'AAPL', long=True) == 202


def test_the_breaker_counts_only_writes_that_are_sent_when_a_pending_cancel_defers_the_structure_stop(
    paper_broker: PaperBroker, aws: None
) -> None:
    # Given the vertical (one write so far: the single-leg stop), a breaker with room for exactly the three writes
    # the hand-over needs (that stop, its cancel, the structure stop), and a broker that confirms cancels after 30 s
    harness = make_harness(paper_broker, accounts=ACCOUNTS, policy=SPREAD_STOP_LIMIT, safety={'max_order_writes': 3})
    _protected_long_call_becomes_a_vertical(harness)
    harness.broker.admin.set_fill_behavior('immediate', cancel_delay=30)
    _virtual_sleep(harness)

    # When the first run cancels the single-leg stop (Cancel Requested: the structure stop is deferred, not sent)
    assert _run(harness) == [('cancel', LONG_CALL, 'cancel_pending'), ('place', 'AAPL', 'deferred')]
    assert len(harness.writes()) == 2  # the single-leg stop, then its cancel: the structure stop was not sent

    # And once the cancel is confirmed, the next run places the structure stop: 3 writes in all, within the limit
    harness.broker.admin.advance_clock(30)
    rows = _run(harness)
    assert _closing(harness, LONG_CALL, long=True) == 2, f'the long call has no stop at all: {rows}'
    assert rows == [('place', 'AAPL', 'placed')]
    assert harness.ctx.stores.breaker.tripped(A) is None
    assert len(harness.writes()) == 3
    assert [o['id'] for o in _ours(harness, LONG_CALL)] == [s['id'] for s in _structure_stops(harness)] != []
    assert _closing(harness, LONG_CALL, long=True) == 2


def test_a_deferred_write_is_not_counted_by_the_breaker(paper_broker: PaperBroker, aws: None) -> None:
    # Given the vertical and a broker that confirms cancels after 30 s
    harness = make_harness(paper_broker, accounts=ACCOUNTS, policy=SPREAD_STOP_LIMIT)
    _protected_long_call_becomes_a_vertical(harness)
    harness.broker.admin.set_fill_behavior('immediate', cancel_delay=30)
    _virtual_sleep(harness)

    # When the run cancels the single-leg stop and defers the structure stop (planned under AAPL)
    assert _run(harness) == [('cancel', LONG_CALL, 'cancel_pending'), ('place', 'AAPL', 'deferred')]

    # Then the breaker counted only what reached the broker: nothing on AAPL, 2 on the account (place + cancel)
    breaker = harness.ctx.stores.breaker
    assert (breaker.writes_on(A), breaker.writes_on(A, 'AAPL')) == (2, 0)
