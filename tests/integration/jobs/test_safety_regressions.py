"""The five ways tastyguard lost or harmed a position (issue 11), each reproduced against the paper broker.

Every test drives a person through the broker's REST API (:mod:`tests.integration.person`) and live
``ensure_stops`` runs, and asserts on what the broker ends up holding and on its request log.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from paperbroker.server import PaperBroker
from tastyguard.jobs.invocation import JobName
from tastyguard.jobs.results import AccountRunResult, ActionResult
from tests.integration.jobs.conftest import Harness, make_harness
from tests.integration.person import Person, remaining, take_profit

pytestmark = [pytest.mark.integration, pytest.mark.paper_scenario('empty')]

A = '5WT00001'
ACCOUNTS = [{'account_number': A, 'nickname': 'Individual'}]
TAKE_PROFIT = {'order-type': 'Limit', 'time-in-force': 'GTC', 'price': '190.00', 'price-effect': 'Credit'}
D = Decimal


def _harness(broker: PaperBroker, policy: dict[str, Any]) -> Harness:
    return make_harness(broker, accounts=ACCOUNTS, policy=policy)


@pytest.fixture
def person(paper_broker: PaperBroker, aws: None) -> Iterator[Person]:
    harness = _harness(paper_broker, {})
    someone = Person(paper_broker, harness.ctx.broker, A)  # type: ignore[arg-type]
    yield someone
    someone.close()


def _ours(harness: Harness, symbol: str) -> list[dict[str, Any]]:
    return [
        o for o in harness.working(A)
        if o['legs'][0]['symbol'] == symbol and str(o.get('external-identifier') or '').startswith('tg-')
    ]  # fmt: skip


def _closing(harness: Harness, symbol: str, action: str = 'Sell to Close') -> Decimal:
    return sum(
        (
            remaining(o)
            for o in harness.working(A)
            if o['legs'][0]['symbol'] == symbol and o['legs'][0]['action'] == action
        ),
        D(0),
    )


def _run(harness: Harness) -> AccountRunResult:
    [result] = harness.run(JobName.ENSURE_STOPS, account=A)
    return result


def _writes_to(harness: Harness, order_id: int | str) -> list[dict[str, Any]]:
    return [w for w in harness.writes() if w['path'].rstrip('/').endswith(f'/orders/{order_id}')]


def _alerts(result: AccountRunResult, kind: str) -> list[ActionResult]:
    return [a for a in result.actions if a.kind == 'alert' and a.alert == kind]


# -- 1. a zero bid ---------------------------------------------------------------------------------------------


def test_a_zero_bid_is_a_breach_never_a_stop_that_sells_at_zero(paper_broker: PaperBroker, aws: None) -> None:
    # Given a long 5 KO put bought at 0.40, quoted bid 0.00 / ask 0.05 / last 0.30
    symbol = 'KO    261218P00060000'
    harness = _harness(paper_broker, {'kind': 'stop', 'basis': 'entry', 'when_breached': 'alert'})
    paper_broker.admin.add_position(A, symbol, 5, '0.40', bid='0.00', ask='0.05', last='0.30')
    # When tastyguard runs live
    result = _run(harness)
    # Then no order is sent (a sell stop at 0.20 would trigger on arrival and sell at 0.00) ...
    assert harness.writes() == []
    assert harness.quantity(symbol) == 5
    # ... and the breach is one critical alert that names the bid it is judged against
    [breach] = _alerts(result, 'breached')
    assert breach.severity == 'critical'
    assert 'through the bid 0' in breach.reason and 'nobody is bidding' in breach.reason


def test_a_short_without_an_ask_gets_a_stop_above_every_price_it_could_trigger_on(
    paper_broker: PaperBroker, aws: None
) -> None:
    # Given a short 100 XYZ with no offer: bid 9.90, no ask, last 10.60 (the broker then triggers on the last)
    harness = _harness(paper_broker, {'kind': 'stop', 'basis': 'mark', 'distance': '5%'})
    paper_broker.admin.add_position(A, 'XYZ', -100, '10.00', bid='9.90', last='10.60')
    paper_broker.admin.set_quote('XYZ', bid='9.90', ask=None, last='10.60')
    _run(harness)
    # Then the buy stop sits above the last trade and nothing filled on arrival
    [stop] = _ours(harness, 'XYZ')
    assert D(stop['stop-trigger']) > D('10.60')
    assert harness.quantity('XYZ') == -100


# -- 2. a person edits tastyguard's stop -----------------------------------------------------------------------


def test_a_persons_edit_of_our_stop_makes_it_theirs_and_the_advice_is_right(
    paper_broker: PaperBroker, person: Person
) -> None:
    # Given tastyguard's stop on AMD (basis mark, on_human_cancel: replace)
    harness = _harness(paper_broker, {'kind': 'stop', 'basis': 'mark', 'on_human_cancel': 'replace'})
    paper_broker.admin.add_position(A, 'AMD', 100, '150.00', bid='160.00', ask='160.05', last='160.00')
    _run(harness)
    [ours] = _ours(harness, 'AMD')
    # When the person turns it into a take-profit limit (the replacement keeps the tg- identifier)
    edited = person.edit(ours['id'], TAKE_PROFIT)
    assert str(edited['external-identifier']).startswith('tg-')
    first, second = _run(harness), _run(harness)
    # Then tastyguard never writes to the person's order, and says why it cannot add a stop (not "pending")
    assert _writes_to(harness, edited['id']) == []
    for result in (first, second):
        assert not _alerts(result, 'blocked_by_pending_orders')
        [blocked] = _alerts(result, 'blocked_by_human_orders')
        assert 'OCO' in blocked.reason
    assert _closing(harness, 'AMD') == 100


def test_with_a_persons_oco_on_top_the_over_coverage_is_theirs_and_reported(
    paper_broker: PaperBroker, person: Person
) -> None:
    harness = _harness(paper_broker, {'kind': 'stop', 'basis': 'mark', 'on_human_cancel': 'replace'})
    paper_broker.admin.add_position(A, 'AMD', 100, '150.00', bid='160.00', ask='160.05', last='160.00')
    _run(harness)
    [ours] = _ours(harness, 'AMD')
    edited = person.edit(ours['id'], TAKE_PROFIT)
    person.complex(
        {
            'type': 'OCO',
            'orders': [
                take_profit('AMD', 32, '195.00'),
                {**take_profit('AMD', 32, '0'), 'order-type': 'Stop', 'stop-trigger': '140.00', 'price': None},
            ],
        }
    )
    harness.broker.admin.clear_requests()
    result = _run(harness)
    # Then nothing is sent, the person's 132 is reported as theirs, and nothing claims to be "waiting"
    assert harness.writes() == []
    assert _alerts(result, 'human_over_coverage')
    assert not _alerts(result, 'blocked_by_pending_orders')
    assert _writes_to(harness, edited['id']) == []


def test_what_a_persons_edit_leaves_uncovered_is_protected(paper_broker: PaperBroker, person: Person) -> None:
    # Given tastyguard's stop for 100 AMD, which the person edits into a take-profit for 40
    harness = _harness(paper_broker, {'kind': 'stop', 'basis': 'mark', 'on_human_cancel': 'replace'})
    paper_broker.admin.add_position(A, 'AMD', 100, '150.00', bid='160.00', ask='160.05', last='160.00')
    _run(harness)
    [ours] = _ours(harness, 'AMD')
    leg = {'instrument-type': 'Equity', 'symbol': 'AMD', 'action': 'Sell to Close', 'quantity': '40'}
    edited = person.edit(ours['id'], {**take_profit('AMD', 40, '190.00'), 'legs': [leg]})
    # When tastyguard runs
    _run(harness)
    # Then the other 60 get a stop of tastyguard's own, and the person's 40 stay untouched
    stops = [o for o in _ours(harness, 'AMD') if o['order-type'] == 'Stop']
    assert [remaining(o) for o in stops] == [D(60)]
    assert _writes_to(harness, edited['id']) == []
    assert _closing(harness, 'AMD') == 100


def test_a_blocked_position_does_not_stay_silent_for_a_second_run(paper_broker: PaperBroker, person: Person) -> None:
    # Given our stop for 100 ORCL, and a resize to 50 (the person sold 50) that the broker never completes
    harness = _harness(paper_broker, {'kind': 'stop'})
    paper_broker.admin.add_position(A, 'ORCL', 100, '100.00', bid='100.00', ask='100.05', last='100.00')
    _run(harness)
    paper_broker.admin.set_fill_behavior('immediate', replace_delay=36000)
    person.trade('ORCL', 50, 'Sell to Close')
    _run(harness)  # sends the replace, which stays "Replace Requested"
    first = _run(harness)
    [pending] = _alerts(first, 'blocked_by_pending_orders')
    assert pending.severity == 'info'
    harness.notifier.sent.clear()
    # When it is still so at the next run
    _run(harness)
    # Then it reaches a person as a warning that says since when
    lines = [line for n in harness.notifier.sent for s in n.sections for line in s.lines]
    assert any(line.startswith('[warning]') and 'unchanged since' in line for line in lines), lines


# -- 3. a triggered, unfilled stop limit -----------------------------------------------------------------------


def test_a_triggered_unfilled_stop_limit_never_over_covers_after_a_trim(
    paper_broker: PaperBroker, person: Person
) -> None:
    # Given 100 AAPL with tastyguard's Stop Limit (basis mark)
    harness = _harness(paper_broker, {'kind': 'stop_limit', 'basis': 'mark'})
    paper_broker.admin.add_position(A, 'AAPL', 100, '170.00', bid='180.00', ask='180.05', last='180.00')
    _run(harness)
    [stop] = _ours(harness, 'AAPL')
    limit = D(stop['price'])
    # When the market gaps below the limit (the stop triggers, the limit rests) and the person sells 70
    paper_broker.admin.set_quote('AAPL', bid=str(limit - 5), ask=str(limit - D('4.95')), last=str(limit - 5))
    person.trade('AAPL', 70, 'Sell to Close')
    assert harness.quantity('AAPL') == 30
    result = _run(harness)
    _run(harness)
    # Then tastyguard's closing quantity never exceeds the 30 shares, its stop protects below the market ...
    assert _closing(harness, 'AAPL') <= 30
    [now] = _ours(harness, 'AAPL')
    assert remaining(now) == 30
    assert D(now['stop-trigger']) < limit - 5
    # ... and the person hears that the stop limit did not fill
    [told] = _alerts(result, 'stop_triggering')
    assert 'has not filled' in told.reason


def test_a_triggered_stop_limit_under_when_breached_alert_is_resized_and_critical(
    paper_broker: PaperBroker, person: Person
) -> None:
    harness = _harness(paper_broker, {'kind': 'stop_limit', 'basis': 'entry', 'when_breached': 'alert'})
    paper_broker.admin.add_position(A, 'AAPL', 100, '170.00', bid='180.00', ask='180.05', last='180.00')
    _run(harness)
    [stop] = _ours(harness, 'AAPL')
    limit = D(stop['price'])
    paper_broker.admin.set_quote('AAPL', bid=str(limit - 5), ask=str(limit - D('4.95')), last=str(limit - 5))
    person.trade('AAPL', 70, 'Sell to Close')
    result = _run(harness)
    # The entry-based stop is through the market: the order keeps its prices, shrinks to 30, and it is critical
    [now] = _ours(harness, 'AAPL')
    assert (remaining(now), D(now['price'])) == (D(30), limit)
    [told] = _alerts(result, 'stop_triggering')
    assert told.severity == 'critical' and 'market exit' in told.reason
    assert not _alerts(result, 'breached')


# -- 4. a person's waiting OTO child ---------------------------------------------------------------------------


def test_a_waiting_oto_child_does_not_shrink_our_stop(paper_broker: PaperBroker, person: Person) -> None:
    # Given 300 KO with tastyguard's stop for 300, and the market closed
    harness = _harness(paper_broker, {})
    paper_broker.admin.add_position(A, 'KO', 300, '60.00', bid='62.00', ask='62.02', last='62.01')
    _run(harness)
    [stop] = _ours(harness, 'KO')
    paper_broker.admin.set_market_open(False)
    # When the person places an OTO: buy 100 @ 50 (not filled), then a stop for those 100
    entry = {**take_profit('KO', 100, '50.00', action='Buy to Open'), 'time-in-force': 'Day'}
    child = {**take_profit('KO', 100, '0'), 'order-type': 'Stop', 'stop-trigger': '45.00', 'price': None}
    person.complex({'type': 'OTO', 'trigger-order': entry, 'orders': [child]})
    harness.broker.admin.clear_requests()
    result = _run(harness)
    # Then our stop for 300 stays as it is, and no advice about OCOs is given
    assert harness.writes() == []
    [still] = _ours(harness, 'KO')
    assert (still['id'], remaining(still)) == (stop['id'], D(300))
    assert not _alerts(result, 'blocked_by_human_orders')


# -- 5. a position closed and reopened between two runs -----------------------------------------------------


def test_a_reopened_position_never_inherits_the_old_trailing_mark(paper_broker: PaperBroker, person: Person) -> None:
    # Given ORCL long 100 trailing up to a high-water mark of 150 (stop 135)
    harness = _harness(paper_broker, {'kind': 'stop', 'basis': 'high_water', 'distance': '10%'})
    paper_broker.admin.add_position(A, 'ORCL', 100, '100.00', bid='150.00', ask='150.05', last='150.00')
    _run(harness)
    [stop] = _ours(harness, 'ORCL')
    assert D(stop['stop-trigger']) == D('135.00')
    # When the stop fills on a drop, and a new position is opened at 120.05 before the next run
    paper_broker.admin.set_quote('ORCL', bid='130.00', ask='130.05', last='130.00')
    assert harness.quantity('ORCL') == 0
    paper_broker.admin.set_quote('ORCL', bid='120.00', ask='120.05', last='120.00')
    person.trade('ORCL', 100, 'Buy to Open')
    result = _run(harness)
    # Then the new position is protected from its own price, not the old mark
    [new] = _ours(harness, 'ORCL')
    assert D(new['stop-trigger']) < D('120.00')
    assert D(new['stop-trigger']) >= D('108.00')
    assert not _alerts(result, 'breached')
