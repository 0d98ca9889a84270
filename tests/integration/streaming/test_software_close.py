"""The software stop's closing limit on a futures option (``on_software_trigger: close_limit``), against the
paper broker: priced on the future's option tick table, sent again after an attempt ended without closing the
position, and never more than the working closing orders leave uncovered.

Each test acts on the crossing as the streamer's job thread does (``act_on_software_stop``) and asserts on the
broker's own state: its positions, its orders and its request log.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from paperbroker.scenarios import FUTURE_OPTION
from paperbroker.server import PaperBroker
from tastyguard.jobs.invocation import JobName
from tastyguard.jobs.results import ActionResult
from tests.integration.chaos import invariants as inv
from tests.integration.jobs.conftest import Harness, make_harness

pytestmark = [pytest.mark.integration, pytest.mark.paper_scenario('empty')]

A = '5WT00001'
D = Decimal
ACCOUNTS = [{'account_number': A, 'nickname': 'Individual'}]
POLICY = {'instrument_types': {'future_option': {'on_software_trigger': 'close_limit', 'software_collar': '5%'}}}


@pytest.fixture
def harness(paper_broker: PaperBroker, aws: None) -> Iterator[Harness]:
    yield make_harness(paper_broker, accounts=ACCOUNTS, policy=POLICY)


def _short_put(harness: Harness, quantity: int = 1, take_profit: int = 0) -> None:
    """A short ES put sold at 45.00 (software stop at 90.00: credit multiple 2), with the person's take-profit for
    ``take_profit`` contracts (Buy to Close Limit @ 20.00) if any, and one scheduled run."""
    admin = harness.broker.admin
    admin.add_position(A, FUTURE_OPTION, -quantity, '45.00', bid='40.00', ask='41.00', last='40.50')
    if take_profit:
        leg = {'instrument-type': 'Future Option', 'symbol': FUTURE_OPTION, 'quantity': take_profit,
               'action': 'Buy to Close'}  # fmt: skip
        order = {'order-type': 'Limit', 'time-in-force': 'GTC', 'price': '20.00', 'price-effect': 'Debit',
                 'legs': [leg]}  # fmt: skip
        admin.add_order(A, order, kind='human')
    harness.run(JobName.ENSURE_STOPS, account=A, tick=harness.ctx.clock())


def _cross(harness: Harness, ask: str) -> list[ActionResult]:
    """The ask reaches ``ask``, through the level: act on it as the streamer's job thread does."""
    from tastyguard.streaming.price_actions import act_on_software_stop
    from tastyguard.streaming.watching import watch_account

    harness.broker.admin.set_quote(FUTURE_OPTION, bid=str(D(ask) - 1), ask=ask, last=ask)
    [watched] = [w for w in watch_account(harness.ctx, A)[0] if w.symbol == FUTURE_OPTION]
    assert watched.software_level == D('90.0')
    return act_on_software_stop(harness.ctx, watched, watched.software_level, D(ask))


def _sent(harness: Harness) -> list[dict[str, Any]]:
    return [r['body'] for r in harness.broker.admin.requests(method='POST') if r['path'].endswith('/orders')]


def _closing(harness: Harness) -> Decimal:
    """The broker's working closing quantity on the short (what may still fill)."""
    return inv.closing_quantity(harness.working(A), FUTURE_OPTION, False)


def _texts(harness: Harness) -> list[str]:
    notifier: Any = harness.ctx.notifier
    return [line for notice in notifier.sent for section in notice.sections for line in section.lines]


# -- the price: the future's option tick table ----------------------------------------------------------------


def test_a_software_close_limit_is_priced_on_the_futures_option_tick_table(harness: Harness) -> None:
    # Given a short ES put whose software stop is at 90.00 (ES options trade in 0.25 from 20.00 to 100.00)
    _short_put(harness)

    # When the ask reaches 93.00: 5% through the market is 97.65, off the tick table
    rows = _cross(harness, '93.00')

    # Then the closing limit goes out at 97.75 (rounded away from the market), fills, and the short is closed
    [body] = _sent(harness)
    assert D(str(body['price'])) == D('97.75'), body
    [order] = harness.orders(A)
    assert order['status'] == 'Filled', order
    assert harness.quantity(FUTURE_OPTION) == 0
    assert [row.result for row in rows] == ['placed']


def test_without_a_tick_table_nothing_is_sent_and_the_trader_is_told(harness: Harness) -> None:
    # Given a short ES put, and a broker that cannot answer for the future's instrument data (its option tick table)
    harness.broker.admin.fault('status', method='GET', path=r'/instruments/futures', status=400, count=100)
    _short_put(harness)

    # When the ask reaches the software stop
    rows = _cross(harness, '93.00')

    # Then no order is sent at a price the venue could reject, and a critical alert says what to do
    assert rows == [] and _sent(harness) == []
    assert harness.quantity(FUTURE_OPTION) == -1
    [text] = [t for t in _texts(harness) if 'no tick table' in t]
    assert FUTURE_OPTION in text and 'close it by hand' in text


# -- after an attempt ended without closing the position --------------------------------------------------------


def test_a_close_the_broker_rejects_is_reported_and_sent_again_on_the_next_crossing(harness: Harness) -> None:
    # Given a short ES put, and a venue that rejects the first closing limit after accepting it
    _short_put(harness)
    harness.broker.admin.set_fill_behavior('reject')
    first = _cross(harness, '93.00')
    assert [o['status'] for o in harness.orders(A)] == ['Rejected']
    assert [row.result for row in first] == ['rejected']  # not reported as placed
    harness.broker.admin.set_fill_behavior('immediate')

    # When the market keeps running and crosses the level again
    second = _cross(harness, '120.00')

    # Then a new closing limit goes out under a new identifier, fills, and the short is closed
    identifiers = [body['external-identifier'] for body in _sent(harness)]
    assert len(identifiers) == 2 and len(set(identifiers)) == 2, identifiers
    assert [row.result for row in second] == ['placed']
    assert harness.quantity(FUTURE_OPTION) == 0


def test_a_working_close_is_never_doubled_by_the_next_crossing(harness: Harness) -> None:
    # Given a short ES put whose closing limit rests unfilled
    _short_put(harness)
    harness.broker.admin.set_fill_behavior('never')
    _cross(harness, '93.00')

    # When the ask crosses the level again
    rows = _cross(harness, '95.00')

    # Then nothing more is sent: one live closing order for one contract, and the trader hears it is working
    assert rows == [] and len(_sent(harness)) == 1
    assert _closing(harness) == 1
    assert any("already taken by tastyguard's own closing limit" in t for t in _texts(harness)), _texts(harness)


# -- the person's working closing orders ------------------------------------------------------------------------


def test_a_software_close_never_doubles_a_persons_take_profit(harness: Harness) -> None:
    # Given a short 1 ES put with the person's take-profit for 1 working (Buy to Close 1 Limit @ 20.00)
    _short_put(harness, take_profit=1)
    harness.broker.admin.set_fill_behavior('never')

    # When the software stop is reached
    rows = _cross(harness, '100.00')

    # Then tastyguard sends nothing (the position is already fully used), and says so, naming the take-profit
    assert rows == [] and _sent(harness) == []
    assert _closing(harness) == 1
    [text] = [t for t in _texts(harness) if 'already taken by working closing orders' in t]
    assert 'Buy to Close 1 Limit @ 20' in text

    # And when the market comes back to the take-profit, it closes the short and opens nothing
    harness.broker.admin.set_fill_behavior('immediate')
    harness.broker.admin.set_quote(FUTURE_OPTION, bid='18.00', ask='19.00', last='19.00')
    assert harness.quantity(FUTURE_OPTION) == 0


def test_a_software_close_carries_only_what_the_persons_orders_leave_uncovered(harness: Harness) -> None:
    # Given a short 3 ES puts with the person's take-profit for 1 working
    _short_put(harness, quantity=3, take_profit=1)
    harness.broker.admin.set_fill_behavior('never')

    # When the software stop is reached
    _cross(harness, '100.00')

    # Then the closing limit is for the 2 left uncovered: the closing quantity is the position, never more
    [body] = _sent(harness)
    assert body['legs'][0]['quantity'] in (2, '2'), body
    assert _closing(harness) == 3 == -harness.quantity(FUTURE_OPTION)


def test_a_partly_filled_close_is_not_doubled_by_the_next_crossing(harness: Harness) -> None:
    # Given a short 4 ES puts whose closing limit filled 2 and rests for the other 2
    _short_put(harness, quantity=4)
    harness.broker.admin.set_fill_behavior('partial')
    _cross(harness, '93.00')
    assert harness.quantity(FUTURE_OPTION) == -2 and _closing(harness) == 2
    harness.broker.admin.set_fill_behavior('never')

    # When the ask crosses the level again
    rows = _cross(harness, '95.00')

    # Then nothing more is sent: what rests of our limit still covers the remaining position
    assert rows == [] and len(_sent(harness)) == 1
    assert _closing(harness) <= -harness.quantity(FUTURE_OPTION)


def test_a_close_cancelled_after_it_rested_re_arms_the_stop_for_the_next_crossing(harness: Harness) -> None:
    from tastyguard.streaming.follow import _carry
    from tastyguard.streaming.price_actions import act_on_software_stop
    from tastyguard.streaming.watching import watch_account

    # Given a short ES put whose software stop fired and whose closing limit rests unfilled
    _short_put(harness)
    harness.broker.admin.set_fill_behavior('never')
    [fired] = watch_account(harness.ctx, A)[0]
    fired.software_fired = True  # as the follower marks it when the quote crosses the level
    harness.broker.admin.set_quote(FUTURE_OPTION, bid='92.00', ask='93.00', last='93.00')
    act_on_software_stop(harness.ctx, fired, D('90.0'), D('93.00'))
    [resting] = harness.working(A)
    [kept] = watch_account(harness.ctx, A)[0]
    _carry(fired, kept)
    assert kept.software_fired  # while our closing limit works, the crossing is not acted on again

    # When the closing limit is cancelled (by a person, or it expired) and the watch is rebuilt
    harness.ctx.broker.cancel_order(A, int(resting['id']))
    [rebuilt] = watch_account(harness.ctx, A)[0]
    _carry(kept, rebuilt)

    # Then the stop is armed again, and the next crossing sends a new closing limit under a new identifier
    assert not rebuilt.software_fired
    harness.broker.admin.set_fill_behavior('immediate')
    harness.broker.admin.set_quote(FUTURE_OPTION, bid='94.00', ask='95.00', last='95.00')
    act_on_software_stop(harness.ctx, rebuilt, D('90.0'), D('95.00'))
    identifiers = [body['external-identifier'] for body in _sent(harness)]
    assert len(set(identifiers)) == 2, identifiers
    assert harness.quantity(FUTURE_OPTION) == 0
