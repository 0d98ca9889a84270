"""The paper API's fill control (``behavior``), the orders-only streamer, and deleting accounts with live orders.

No test sleeps: delays and schedules run on the broker's virtual clock, moved with ``admin.advance_clock``, and the
wall-clock part is stopped (``paper_clock_stopped``) so "not yet" holds exactly, however loaded the machine is.
"""

from __future__ import annotations

import json
import warnings
from datetime import timedelta
from decimal import Decimal
from typing import Any

import anyio
import httpx
import pytest
from websockets.sync.client import connect

from paperbroker.clock import parse_datetime
from paperbroker.server import PaperBroker

with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    from tastytrade import Account, AlertStreamer
    from tastytrade.order import (
        FillBehavior,
        InstrumentType,
        Leg,
        LimitOrder,
        MarketOrder,
        OrderAction,
        OrderStatus,
        OrderTimeInForce,
        PlacedOrder,
    )
    from tastytrade.paper import PaperSession
    from tastytrade.utils import TastytradeError

pytestmark = [
    pytest.mark.integration,
    pytest.mark.anyio,
    pytest.mark.paper_clock_stopped,
    pytest.mark.filterwarnings('ignore::DeprecationWarning'),
]
USER_AGENT = 'tastyguard-tests/1.0'
AAPL_ASK = Decimal('190.24')


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


@pytest.fixture
async def account(tastyware_paper_session: PaperSession) -> Account:
    return await tastyware_paper_session.create_account('Fills', initial_deposit=100_000)


def buy_aapl(quantity: int = 10, **fill: Any) -> MarketOrder:
    leg = Leg(instrument_type=InstrumentType.EQUITY, symbol='AAPL', action=OrderAction.BUY_TO_OPEN, quantity=quantity)
    return MarketOrder(legs=[leg], **fill)


async def order_of(paper: PaperSession, account: Account, order_id: int) -> PlacedOrder:
    return await account.get_order(paper, order_id)


def filled(order: PlacedOrder) -> Decimal:
    return sum((f.quantity for leg in order.legs for f in leg.fills or []), Decimal(0))


# --- every behaviour ---------------------------------------------------------------------------------------------
async def test_immediate_fills_at_once_at_the_ask(tastyware_paper_session: PaperSession, account: Account) -> None:
    placed = await account.place_order(
        tastyware_paper_session, buy_aapl(behavior=FillBehavior.IMMEDIATE), dry_run=False
    )

    order = await order_of(tastyware_paper_session, account, placed.order.id)
    assert (order.status, filled(order), order.legs[0].fills[0].fill_price) == (OrderStatus.FILLED, 10, AAPL_ASK)
    [position] = await account.get_positions(tastyware_paper_session)
    assert (position.quantity, position.average_open_price) == (10, AAPL_ASK)


@pytest.mark.parametrize('delay', [30, timedelta(seconds=30)], ids=['seconds', 'timedelta'])
async def test_delayed_fills_only_once_its_delay_has_passed(
    tastyware_paper_session: PaperSession, tastyware_paper_broker: PaperBroker, account: Account, delay: object
) -> None:
    placed = await account.place_order(
        tastyware_paper_session, buy_aapl(behavior=FillBehavior.DELAYED, delay=delay), dry_run=False
    )

    tastyware_paper_broker.admin.advance_clock(29)
    assert (await order_of(tastyware_paper_session, account, placed.order.id)).status == OrderStatus.LIVE
    tastyware_paper_broker.admin.advance_clock(1)
    assert (await order_of(tastyware_paper_session, account, placed.order.id)).status == OrderStatus.FILLED


async def test_scheduled_fills_at_its_schedule(
    tastyware_paper_session: PaperSession, tastyware_paper_broker: PaperBroker, account: Account
) -> None:
    at = parse_datetime(tastyware_paper_broker.admin.clock()['now']) + timedelta(hours=2)
    placed = await account.place_order(
        tastyware_paper_session, buy_aapl(behavior=FillBehavior.SCHEDULED, schedule=at), dry_run=False
    )

    tastyware_paper_broker.admin.advance_clock(2 * 3600 - 5)
    assert (await order_of(tastyware_paper_session, account, placed.order.id)).status == OrderStatus.LIVE
    tastyware_paper_broker.admin.advance_clock(5)
    order = await order_of(tastyware_paper_session, account, placed.order.id)
    assert order.status == OrderStatus.FILLED
    assert order.legs[0].fills[0].filled_at >= at


async def test_never_stays_working_for_good(
    tastyware_paper_session: PaperSession, tastyware_paper_broker: PaperBroker, account: Account
) -> None:
    placed = await account.place_order(tastyware_paper_session, buy_aapl(behavior=FillBehavior.NEVER), dry_run=False)

    tastyware_paper_broker.admin.advance_clock(3 * 24 * 3600)

    order = await order_of(tastyware_paper_session, account, placed.order.id)
    assert (order.status, filled(order)) == (OrderStatus.LIVE, 0)
    assert await account.get_positions(tastyware_paper_session) == []


async def test_reject_rejects_and_moves_nothing(tastyware_paper_session: PaperSession, account: Account) -> None:
    placed = await account.place_order(tastyware_paper_session, buy_aapl(behavior=FillBehavior.REJECT), dry_run=False)

    order = await order_of(tastyware_paper_session, account, placed.order.id)
    assert order.status == OrderStatus.REJECTED
    assert order.reject_reason
    assert (await account.get_balances(tastyware_paper_session)).cash_balance == Decimal(100_000)


async def test_partial_fills_half_now_and_the_rest_a_second_later(
    tastyware_paper_session: PaperSession, tastyware_paper_broker: PaperBroker, account: Account
) -> None:
    placed = await account.place_order(
        tastyware_paper_session, buy_aapl(10, behavior=FillBehavior.PARTIAL), dry_run=False
    )

    first = await order_of(tastyware_paper_session, account, placed.order.id)
    assert (first.status, filled(first), first.legs[0].remaining_quantity) == (OrderStatus.LIVE, 5, 5)
    tastyware_paper_broker.admin.advance_clock(1)
    done = await order_of(tastyware_paper_session, account, placed.order.id)
    assert (done.status, filled(done), len(done.legs[0].fills or [])) == (OrderStatus.FILLED, 10, 2)


def test_an_order_without_behavior_fills_after_a_random_delay_of_up_to_ten_seconds(
    tastyware_paper_broker: PaperBroker,
) -> None:
    """What raw-HTTP and JS clients get (the SDK always sends a ``behavior``)."""
    broker = tastyware_paper_broker
    broker.admin.tastyware.configure(seed=2024)
    headers = {'X-Api-Key': broker.tastyware_api_key, 'User-Agent': USER_AGENT}
    with httpx.Client(base_url=broker.tastyware_paper_url, headers=headers, timeout=10) as paper:
        number = paper.post('/accounts', json={'account_name': 'raw', 'initial_deposit': 100_000}).json()['data'][
            'account-number'
        ]
        body = {
            'time-in-force': 'Day',
            'order-type': 'Market',
            'legs': [{'instrument-type': 'Equity', 'symbol': 'AAPL', 'quantity': 1, 'action': 'Buy to Open'}],
        }
        ids = [paper.post(f'/accounts/{number}/orders', json=body).json()['data']['order']['id'] for _ in range(12)]
        live_after: list[int] = []
        for _ in range(10):  # one virtual second at a time
            statuses = [paper.get(f'/accounts/{number}/orders/{i}').json()['data']['status'] for i in ids]
            live_after.append(statuses.count('Live'))
            broker.admin.advance_clock(1)
        statuses = [paper.get(f'/accounts/{number}/orders/{i}').json()['data']['status'] for i in ids]
    assert statuses == ['Filled'] * 12  # nothing waits longer than 10 s
    assert live_after[0] > 0  # not immediate
    assert live_after == sorted(live_after, reverse=True)
    assert len(set(live_after)) > 2  # spread over the ten seconds, not one fixed delay


# --- the orders-only streamer ----------------------------------------------------------------------------------------
async def test_the_alert_streamer_of_a_paper_session_sees_the_orders_lifecycle(
    tastyware_paper_session: PaperSession, tastyware_paper_broker: PaperBroker, account: Account
) -> None:
    async with AlertStreamer(tastyware_paper_session) as streamer:
        await streamer.subscribe_accounts([account])
        placed = await account.place_order(
            tastyware_paper_session, buy_aapl(behavior=FillBehavior.DELAYED, delay=5), dry_run=False
        )
        tastyware_paper_broker.admin.advance_clock(5)
        seen: list[tuple[int, OrderStatus]] = []
        with anyio.fail_after(10):
            async for order in streamer.listen(PlacedOrder):
                seen.append((order.id, order.status))
                if order.status == OrderStatus.FILLED:
                    break
    assert seen == [(placed.order.id, s) for s in ('Received', 'Routed', 'Live', 'Filled')]


def test_the_notifications_websocket_sends_orders_only(tastyware_paper_broker: PaperBroker) -> None:
    broker = tastyware_paper_broker
    key = broker.tastyware_api_key
    headers = {'X-Api-Key': key, 'User-Agent': USER_AGENT}
    number = httpx.post(f'{broker.tastyware_paper_url}/accounts', headers=headers, json={'account_name': 'ws'}).json()[
        'data'
    ]['account-number']
    with connect(broker.tastyware_paper_streamer_url, additional_headers={'X-Api-Key': key}, open_timeout=5) as ws:
        ws.send(json.dumps({'action': 'connect', 'value': [number], 'auth-token': 'Bearer ignored', 'request-id': 1}))
        assert json.loads(ws.recv(timeout=5))['status'] == 'ok'
        body = {
            'time-in-force': 'Day',
            'order-type': 'Market',
            'behavior': 'immediate',
            'legs': [{'instrument-type': 'Equity', 'symbol': 'AAPL', 'quantity': 3, 'action': 'Buy to Open'}],
        }
        httpx.post(f'{broker.tastyware_paper_url}/accounts/{number}/orders', headers=headers, json=body)
        kinds, status = [], None
        while status != 'Filled':
            message = json.loads(ws.recv(timeout=5))
            kinds.append(message['type'])
            status = message['data']['status']
    assert set(kinds) == {'Order'}  # no CurrentPosition / AccountBalance, unlike the plain account streamer
    assert broker.admin.positions(number)[0]['quantity'] == '3'


def test_the_notifications_websocket_refuses_accounts_of_another_key(tastyware_paper_broker: PaperBroker) -> None:
    broker = tastyware_paper_broker
    other = broker.admin.tastyware.create_api_key()
    with connect(broker.tastyware_paper_streamer_url, additional_headers={'X-Api-Key': other}, open_timeout=5) as ws:
        ws.send(json.dumps({'action': 'connect', 'value': ['5WT00001'], 'request-id': 7}))
        reply = json.loads(ws.recv(timeout=5))
    assert (reply['status'], reply['message'], reply['request-id']) == ('error', 'not-permitted', 7)


# --- time in force is a formality ------------------------------------------------------------------------------------
async def test_a_day_order_of_a_paper_account_does_not_expire(
    tastyware_paper_session: PaperSession, tastyware_paper_broker: PaperBroker, account: Account
) -> None:
    order = LimitOrder(time_in_force=OrderTimeInForce.DAY, price=Decimal('-150.00'), legs=buy_aapl().legs)
    placed = await account.place_order(tastyware_paper_session, order, dry_run=False)

    tastyware_paper_broker.admin.advance_clock(3 * 24 * 3600)

    assert (await order_of(tastyware_paper_session, account, placed.order.id)).status == OrderStatus.LIVE


# --- deleting an account that still has orders ----------------------------------------------------------------------
async def test_deleting_an_account_with_live_orders_cancels_them_then_removes_everything(
    tastyware_paper_session: PaperSession, tastyware_paper_broker: PaperBroker, account: Account
) -> None:
    paper, broker = tastyware_paper_session, tastyware_paper_broker
    await account.place_order(paper, buy_aapl(4, behavior=FillBehavior.IMMEDIATE), dry_run=False)
    resting = await account.place_order(paper, buy_aapl(behavior=FillBehavior.NEVER), dry_run=False)
    delayed = await account.place_order(paper, buy_aapl(behavior=FillBehavior.DELAYED, delay=5), dry_run=False)
    halfway = await account.place_order(paper, buy_aapl(10, behavior=FillBehavior.PARTIAL), dry_run=False)
    async with AlertStreamer(paper) as streamer:
        await streamer.subscribe_accounts([account])

        await paper.delete_account(account)

        cancelled: set[int] = set()
        with anyio.fail_after(10):
            async for order in streamer.listen(PlacedOrder):
                assert order.status == OrderStatus.CANCELLED
                cancelled.add(order.id)
                if len(cancelled) == 3:
                    break
    assert cancelled == {resting.order.id, delayed.order.id, halfway.order.id}
    broker.admin.advance_clock(60)  # the delayed fill and the partial remainder come due: nothing happens
    assert await Account.get(paper) == []
    with pytest.raises(TastytradeError, match='record_not_found'):
        await account.get_live_orders(paper)
    state = broker.admin.state()
    assert account.account_number not in {a['account']['account-number'] for a in state['accounts']}
    assert broker.admin.requests(path=f'/tastyware/accounts/{account.account_number}/orders/live')[-1]['status'] == 404
