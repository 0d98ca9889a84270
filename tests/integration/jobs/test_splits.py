"""Splits end to end: whatever the broker does to working orders, tastyguard re-derives its stop from scratch.

The broker splits overnight (market closed); tastyguard's next run must leave exactly one stop of its own on the
position, for the new quantity, at the policy's price measured from the new average open price — never the old
stop resized at the pre-split price — and tell the person about their own orders that now look wrong.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from paperbroker.instruments import occ_symbol
from paperbroker.server import PaperBroker
from tastyguard.jobs.invocation import JobInvocation, JobName
from tastyguard.jobs.registry import run
from tests.integration.jobs.conftest import Harness, broker_clock, make_harness

pytestmark = [pytest.mark.integration, pytest.mark.paper_scenario('empty')]

ACCOUNT = '5WT00001'


@pytest.fixture
def harness(paper_broker: PaperBroker, aws: None) -> Harness:
    return make_harness(paper_broker, 'live', clock=broker_clock(paper_broker), accounts=[{'account_number': ACCOUNT}])


def _run(harness: Harness, job: JobName = JobName.ENSURE_STOPS) -> None:
    harness.run(job, tick=harness.ctx.clock())


def _ours(harness: Harness) -> list[dict[str, Any]]:
    return [o for o in harness.working(ACCOUNT) if str(o.get('external-identifier', '')).startswith('tg-')]


def _position(harness: Harness, symbol: str) -> dict[str, Any]:
    return next(p for p in harness.broker.admin.positions(ACCOUNT) if p['symbol'] == symbol)


def _messages(harness: Harness) -> list[str]:
    return [line for notice in harness.notifier.sent for section in notice.sections for line in section.lines]


def _protect_then_split(harness: Harness, ratio: str, orders: str) -> dict[str, Any]:
    admin = harness.broker.admin
    admin.add_position(ACCOUNT, 'AAPL', 101, '150.00', bid='190.20', ask='190.24', last='190.22')
    _run(harness)
    (before,) = _ours(harness)
    assert (before['stop-trigger'], before['legs'][0]['quantity']) == ('135.0', 101)
    admin.set_market_open(False)  # the corporate action happens overnight
    return admin.split('AAPL', ratio, orders=orders)


@pytest.mark.parametrize('orders', ['adjust', 'cancel', 'keep'])
def test_a_split_re_derives_our_stop_from_scratch_whatever_the_broker_did(harness: Harness, orders: str) -> None:
    split = _protect_then_split(harness, '3:2', orders)
    assert split['positions'][0]['new-quantity'] == '151'  # 151.5: the half share is paid in cash
    before = _ours(harness)
    harness.broker.admin.clear_requests()

    _run(harness)

    if orders == 'adjust':  # FINRA 5330 made it 151 @ 90.00, exactly the stop derived again: kept, no write
        assert harness.writes() == [] and [o['id'] for o in _ours(harness)] == [o['id'] for o in before]
        assert any(
            'exactly the stop derived again from scratch' in line and '; kept' in line for line in _messages(harness)
        )
    else:
        assert [w['method'] for w in harness.writes()] == (['POST'] if orders == 'cancel' else ['DELETE', 'POST'])

    (stop,) = _ours(harness)
    assert stop['legs'][0]['action'] == 'Sell to Close' and stop['legs'][0]['quantity'] == 151
    assert stop['stop-trigger'] == '90.0'  # 10% below the new average open price 100.00
    assert Decimal(_position(harness, 'AAPL')['average-open-price']) == Decimal(100)
    told = [line for line in _messages(harness) if 'AAPL 3:2 split' in line]
    assert len(told) == 1 and '101 → 151 shares' in told[0] and 'average open 150 → 100' in told[0]
    assert 'Sell to Close 151 Stop @ 90' in told[0]


def test_a_second_run_after_the_split_changes_nothing(harness: Harness) -> None:
    _protect_then_split(harness, '2:1', 'keep')
    _run(harness)
    harness.broker.admin.clear_requests()

    _run(harness)
    _run(harness, JobName.SYNC_POSITIONS)

    assert harness.writes() == []
    assert sum('AAPL 2:1 split' in line for line in _messages(harness)) == 1


def test_a_reverse_split_with_an_odd_lot_keeps_the_whole_shares_protected(harness: Harness) -> None:
    admin = harness.broker.admin
    admin.add_position(ACCOUNT, 'F', 105, '9.00', bid='10.50', ask='10.51', last='10.50')
    _run(harness)
    admin.set_market_open(False)

    admin.split('F', '1:10', orders='adjust')  # FINRA 5330: open orders are cancelled on a reverse split
    _run(harness)

    assert _position(harness, 'F')['quantity'] == '10'
    (stop,) = _ours(harness)
    assert (stop['legs'][0]['quantity'], stop['stop-trigger']) == (10, '81.0')  # 90.00 entry, 10% below
    assert any('F 1:10 reverse split: 105 → 10 shares' in line for line in _messages(harness))


def test_the_persons_pre_split_stop_is_reported_and_left_alone(harness: Harness) -> None:
    admin = harness.broker.admin
    admin.add_position(ACCOUNT, 'NVDA', 200, '120.00', bid='135.50', ask='135.55')
    person = {
        'time-in-force': 'GTC',
        'order-type': 'Stop',
        'stop-trigger': '118.00',
        'legs': [{'instrument-type': 'Equity', 'symbol': 'NVDA', 'quantity': 100, 'action': 'Sell to Close'}],
    }
    human = admin.add_order(ACCOUNT, person, kind='human')
    _run(harness)
    admin.set_market_open(False)

    admin.split('NVDA', '4:1', orders='keep')
    _run(harness)

    kept = next(o for o in harness.working(ACCOUNT) if o['id'] == human['id'])
    assert (kept['stop-trigger'], kept['legs'][0]['quantity']) == ('118.0', 100)  # never touched
    review = [line for line in _messages(harness) if f'#{human["id"]}' in line and 'looks wrong' in line]
    assert len(review) == 1
    assert 'would trigger at once' in review[0] and 'looks unadjusted (4:1 makes 118.00 about 29.50)' in review[0]


def test_a_reverse_split_that_leaves_less_than_a_share_cancels_our_stop_at_once(harness: Harness) -> None:
    """1 share, 4:1 (the broker adjusts our stop to 4 shares), then 1:10 before tastyguard ran: the position
    becomes cash in lieu, and a broker that keeps working orders keeps the adjusted Sell to Close 4, which no
    longer looks like what we sent and would open a short when it triggers. The vanished stock position is
    explained by the splits, so the stop is still known as ours and cancelled."""
    admin = harness.broker.admin
    admin.add_position(ACCOUNT, 'AAPL', 1, '15.24', bid='23.82', ask='23.83', last='23.82')
    _run(harness, JobName.SYNC_POSITIONS)
    _run(harness)
    assert len(_ours(harness)) == 1
    admin.set_market_open(False)
    admin.split('AAPL', '4:1', orders='adjust')
    result = admin.split('AAPL', '1:10', orders='keep')
    assert result['positions'][0]['new-quantity'] == '0'

    _run(harness, JobName.SYNC_POSITIONS)
    _run(harness)

    assert _ours(harness) == []


def test_the_breaker_refuses_a_replacement_before_its_cancel_never_between_cancel_and_place(harness: Harness) -> None:
    """Splits in quick succession at a broker that leaves working orders as they were: each re-derived stop is a
    cancel and a place. When the per-position write budget has room for only one of the two, neither is sent and
    the old stop stays (before, the cancel went through, the place tripped the breaker, and the position was left
    naked)."""
    admin = harness.broker.admin
    admin.add_position(ACCOUNT, 'AAPL', 1, '20.00', bid='20.00', ask='20.01', last='20.00')
    _run(harness)  # write 1
    for _ in range(2):  # writes 2-5
        admin.set_market_open(False)
        admin.split('AAPL', '2:1', orders='keep')
        _run(harness)
    admin.set_market_open(False)
    admin.split('AAPL', '2:1', orders='keep')
    extra = harness.ctx.config.safety.max_writes_per_symbol - 6
    for _ in range(extra):  # leave room for exactly one more write on AAPL
        harness.ctx.stores.breaker.record_write(ACCOUNT, 'AAPL')

    _run(harness)

    (stop,) = _ours(harness)
    assert (Decimal(stop['stop-trigger']), stop['legs'][0]['quantity']) == (Decimal('4.50'), 4)  # the one before
    assert harness.ctx.stores.breaker.tripped(ACCOUNT) is not None


def test_two_splits_before_a_run_re_derive_our_stop_from_the_compound_split(harness: Harness) -> None:
    """7:2 then 2:1 overnight, the broker adjusting our stop each time (18.00 → 5.14 → 2.57): the stop that
    fits is 10% below the new average open price 2.857143, that is 2.58, not the twice-adjusted 2.57."""
    admin = harness.broker.admin
    admin.add_position(ACCOUNT, 'AAPL', 1, '20.00', bid='20.00', ask='20.01', last='20.00')
    _run(harness, JobName.SYNC_POSITIONS)
    _run(harness)
    admin.set_market_open(False)
    admin.split('AAPL', '7:2', orders='adjust')
    admin.split('AAPL', '2:1', orders='adjust')

    _run(harness, JobName.SYNC_POSITIONS)
    _run(harness)

    (stop,) = _ours(harness)
    assert (stop['legs'][0]['quantity'], Decimal(stop['stop-trigger'])) == (6, Decimal('2.58'))


def test_a_short_gone_to_cash_in_lieu_then_split_again_leaves_no_stop_of_ours(harness: Harness) -> None:
    """Short 1 AAPL, a 1:2 reverse split (the broker keeps our Buy to Close 1) turns it into cash in lieu, then
    a 2:1 split adjusts the kept order to 2: the position is gone, so is our stop."""
    admin = harness.broker.admin
    admin.add_position(ACCOUNT, 'AAPL', -1, '20.00', bid='20.00', ask='20.01', last='20.00')
    _run(harness, JobName.SYNC_POSITIONS)
    _run(harness)
    assert len(_ours(harness)) == 1
    admin.set_market_open(False)
    admin.split('AAPL', '1:2', orders='keep')
    admin.split('AAPL', '2:1', orders='adjust')

    _run(harness, JobName.SYNC_POSITIONS)
    _run(harness)

    assert _ours(harness) == []


def _option(harness: Harness, kind: str, strike: str) -> str:
    expiration = harness.broker.broker.clock.today() + timedelta(days=30)
    return occ_symbol('AAPL', expiration, kind, Decimal(strike))


@pytest.mark.parametrize('orders', ['adjust', 'cancel', 'keep'])
def test_a_split_of_an_option_positions_underlying_is_told_as_a_split(harness: Harness, orders: str) -> None:
    # Given short 2 AAPL 180 puts under tastyguard's Buy to Close 2 stop (no AAPL shares held)
    admin = harness.broker.admin
    admin.set_quote('AAPL', bid='190.20', ask='190.24', last='190.22')
    old, new = _option(harness, 'P', '180'), _option(harness, 'P', '90')
    admin.add_position(ACCOUNT, old, -2, '3.00', bid='2.00', ask='2.10')
    _run(harness)
    assert [o['legs'][0]['symbol'] for o in _ours(harness)] == [old]
    harness.notifier.sent.clear()
    # When AAPL splits 2:1 overnight (OCC: short 4 AAPL 90 puts), whatever the broker does with the order
    admin.set_market_open(False)
    admin.split('AAPL', '2:1', orders=orders)
    _run(harness)
    # Then the new contracts carry our Buy to Close 4, and nothing of ours is left on the old one
    (stop,) = _ours(harness)
    assert stop['legs'][0]['symbol'] == new
    assert (stop['legs'][0]['action'], stop['legs'][0]['quantity']) == ('Buy to Close', 4)
    # And the person hears of a split of their puts, with what happened to the order on the old contract, not
    # of a trade that opened 4 puts and closed 2
    told = [line for line in _messages(harness) if 'AAPL 2:1 split' in line]
    assert len(told) == 1, _messages(harness)
    assert '180 put (short 2) → AAPL' in told[0] and '90 put (short 4)' in told[0], told[0]
    assert 'average open 3 → 1.5' in told[0] and 'Buy to Close 4 Stop' in told[0], told[0]
    if orders == 'keep':  # the broker left it: tastyguard cancels it
        assert f'cancel {old}' in told[0], told[0]
    else:
        assert 'on the old contract ended (Cancelled)' in told[0], told[0]
    assert not any('opened -4' in line or 'closed (was -2)' in line for line in _messages(harness))


def test_a_split_first_seen_by_a_fill_on_another_symbol_re_protects_the_split_stock(harness: Harness) -> None:
    # Given 100 AAPL under tastyguard's stop, and AAPL splits 2:1 overnight, the broker keeping the pre-split stop
    admin = harness.broker.admin
    admin.add_position(ACCOUNT, 'AAPL', 100, '150.00', bid='190.20', ask='190.24', last='190.22')
    admin.set_quote('NVDA', bid='120.00', ask='120.05', last='120.00')
    _run(harness)
    (before,) = _ours(harness)
    admin.set_market_open(False)
    admin.split('AAPL', '2:1', orders='keep')
    harness.notifier.sent.clear()
    # When a fill on NVDA makes the fast path's NVDA run the first one to look at the account
    admin.add_position(ACCOUNT, 'NVDA', 10, '120.00')
    run(harness.ctx, JobInvocation(job=JobName.ENSURE_STOPS, account=ACCOUNT, symbol='NVDA', event_id='fill-nvda'))
    # Then that run re-derives the AAPL stop too (the pre-split one sits far above the new market)
    stops = {o['legs'][0]['symbol']: o for o in _ours(harness)}
    assert set(stops) == {'AAPL', 'NVDA'} and stops['AAPL']['id'] != before['id']
    assert (stops['AAPL']['legs'][0]['quantity'], stops['AAPL']['stop-trigger']) == (200, '67.5')
    # And the split is told once, with that new stop, never as "no position left" for the 200 shares
    told = [line for line in _messages(harness) if 'AAPL 2:1 split' in line]
    assert len(told) == 1 and 'Sell to Close 200 Stop @ 67.5' in told[0], told
    assert 'no position left' not in told[0], told[0]
    # And the sweep after it has nothing left to do or tell about the split
    harness.broker.admin.clear_requests()
    _run(harness)
    assert harness.writes() == []
    assert sum('AAPL 2:1 split' in line for line in _messages(harness)) == 1
