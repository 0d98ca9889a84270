"""The tastyware SDK's ``PaperSession`` against the paper broker: keys, paper accounts, cash, account endpoints.

Uses the paper broker's own pytest plugin (``tastyware_paper_session`` and friends, from the ``pytest11`` entry
point), exactly as an SDK user's test suite would.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from paperbroker.server import PaperBroker

with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    from tastytrade import Account, AlertStreamer, Session
    from tastytrade.order import (
        InstrumentType,
        Leg,
        LimitOrder,
        OCOOrder,
        OrderAction,
        OrderStatus,
        OrderTimeInForce,
        StopOrder,
    )
    from tastytrade.paper import PaperSession
    from tastytrade.utils import TastytradeError

pytestmark = [pytest.mark.integration, pytest.mark.anyio, pytest.mark.filterwarnings('ignore::DeprecationWarning')]
USER_AGENT = 'tastyguard-tests/1.0'


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


@pytest.fixture
def paper_http(tastyware_paper_broker: PaperBroker) -> Iterator[httpx.Client]:
    """Raw HTTP to the paper API with the broker's key."""
    headers = {'X-Api-Key': tastyware_paper_broker.tastyware_api_key, 'User-Agent': USER_AGENT}
    with httpx.Client(base_url=tastyware_paper_broker.tastyware_paper_url, headers=headers, timeout=10) as client:
        yield client


def aapl(quantity: int = 10, action: OrderAction = OrderAction.BUY_TO_OPEN) -> Leg:
    return Leg(instrument_type=InstrumentType.EQUITY, symbol='AAPL', action=action, quantity=quantity)


# --- accounts and cash ---------------------------------------------------------------------------------------------
async def test_create_account_opens_a_funded_paper_account(tastyware_paper_session: PaperSession) -> None:
    paper = tastyware_paper_session

    account = await paper.create_account('Swing', margin_or_cash='Cash', initial_deposit=25_000)

    assert (account.account_number, account.nickname, account.margin_or_cash) == ('TW000001', 'Swing', 'Cash')
    assert [a.account_number for a in await Account.get(paper)] == ['TW000001']
    assert (await account.get_balances(paper)).cash_balance == Decimal(25_000)
    [funding] = await account.get_history(paper)
    assert (funding.transaction_type, funding.value) == ('Money Movement', Decimal(25_000))


async def test_deposit_moves_cash_in_and_a_negative_deposit_takes_it_out(
    tastyware_paper_session: PaperSession,
) -> None:
    paper = tastyware_paper_session
    account = await paper.create_account('Cash', initial_deposit=1_000)

    await paper.deposit(account, Decimal(40))
    assert (await account.get_balances(paper)).cash_balance == Decimal(1_040)
    await paper.deposit(account, Decimal('-240.50'))

    balances = await account.get_balances(paper)
    assert (balances.cash_balance, balances.net_liquidating_value) == (Decimal('799.50'), Decimal('799.50'))
    history = await account.get_history(paper, sort='Asc')
    assert [(t.transaction_sub_type, t.value) for t in history] == [
        ('Deposit', Decimal(1_000)),
        ('Deposit', Decimal(40)),
        ('Withdrawal', Decimal('-240.50')),
    ]


async def test_a_withdrawal_larger_than_the_cash_is_refused_and_moves_nothing(
    tastyware_paper_session: PaperSession,
) -> None:
    paper = tastyware_paper_session
    account = await paper.create_account('Small', initial_deposit=100)

    with pytest.raises(TastytradeError, match=r'insufficient_funds: Cannot withdraw 100\.01: account TW000001 has 100'):
        await paper.deposit(account, Decimal('-100.01'))

    assert (await account.get_balances(paper)).cash_balance == Decimal(100)
    assert len(await account.get_history(paper)) == 1


async def test_a_deposit_into_a_margin_debit_is_accepted(tastyware_paper_session: PaperSession) -> None:
    """Found by the stateful test: a deposit was refused as a withdrawal once the cash was negative."""
    paper = tastyware_paper_session
    account = await paper.create_account('Debit', margin_or_cash='Margin', initial_deposit=1_000)
    await account.place_order(paper, LimitOrder(price=Decimal('-190.24'), legs=[aapl(10)]), dry_run=False)
    debit = (await account.get_balances(paper)).cash_balance
    assert debit < 0

    await paper.deposit(account, Decimal('0.01'))

    assert (await account.get_balances(paper)).cash_balance == debit + Decimal('0.01')


async def test_create_account_names_every_bad_field(paper_http: httpx.Client) -> None:
    response = paper_http.post('/accounts', json={'account_name': ' ', 'margin_or_cash': 'IRA', 'initial_deposit': -5})

    assert response.status_code == 422
    errors = response.json()['error']['errors']
    assert [e['domain'] for e in errors] == ['account_name', 'margin_or_cash', 'initial_deposit']


async def test_temporary_account_is_gone_after_the_block(
    tastyware_paper_session: PaperSession, tastyware_paper_broker: PaperBroker
) -> None:
    async with tastyware_paper_session.temporary_account() as account:
        assert account.account_number in {
            a['account']['account-number'] for a in tastyware_paper_broker.admin.state()['accounts']
        }

    numbers = {a['account']['account-number'] for a in tastyware_paper_broker.admin.state()['accounts']}
    assert account.account_number not in numbers
    assert await Account.get(tastyware_paper_session) == []


# --- authentication and isolation ----------------------------------------------------------------------------------
async def test_an_invalid_api_key_is_the_paper_apis_401_not_a_crash(tastyware_paper_broker: PaperBroker) -> None:
    with pytest.raises(TastytradeError, match=r'^invalid_api_key: Invalid API key: check X-Api-Key'):
        await Account.get(PaperSession('not-a-key'))

    response = httpx.get(
        f'{tastyware_paper_broker.tastyware_paper_url}/customers/me/accounts', headers={'User-Agent': USER_AGENT}
    )
    assert (response.status_code, response.json()['error']['code']) == (401, 'missing_api_key')


async def test_the_alert_streamer_refuses_an_invalid_key_at_the_upgrade(tastyware_paper_broker: PaperBroker) -> None:
    from httpx2.websockets import WebSocketUpgradeError

    with pytest.raises(WebSocketUpgradeError) as refused:
        async with AlertStreamer(PaperSession('not-a-key')):
            pass
    assert refused.value.response.status_code == 401


async def test_a_key_sees_only_its_own_accounts(
    tastyware_paper_session: PaperSession, tastyware_paper_broker: PaperBroker, tastyware_session: Session
) -> None:
    mine = await tastyware_paper_session.create_account('Mine')
    other = PaperSession(tastyware_paper_broker.admin.tastyware.create_api_key())

    assert await Account.get(other) == []
    with pytest.raises(TastytradeError, match='not_permitted'):
        await mine.get_balances(other)
    with pytest.raises(TastytradeError, match='not_permitted'):
        await other.delete_account(mine)
    assert 'TW000001' not in [a.account_number for a in await Account.get(tastyware_session)]


async def test_a_key_issued_for_the_scenario_user_trades_the_demo_accounts(tastyware_paper_broker: PaperBroker) -> None:
    paper = PaperSession(tastyware_paper_broker.admin.tastyware.create_api_key(owner='me'))

    accounts = await Account.get(paper)

    assert [a.account_number for a in accounts] == ['5WT00001', '5WT00002']
    positions = {p.symbol: p.quantity for p in await accounts[0].get_positions(paper)}
    assert positions['AAPL'] == 100


async def test_a_reset_keeps_the_brokers_key_and_forgets_paper_accounts(
    tastyware_paper_session: PaperSession, tastyware_paper_broker: PaperBroker
) -> None:
    await tastyware_paper_session.create_account('Before the reset')
    extra = tastyware_paper_broker.admin.tastyware.create_api_key()

    tastyware_paper_broker.reset('demo')

    assert await Account.get(tastyware_paper_session) == []
    with pytest.raises(TastytradeError, match='invalid_api_key'):
        await Account.get(PaperSession(extra))


async def test_market_data_is_not_served_by_the_paper_api(paper_http: httpx.Client) -> None:
    response = paper_http.get('/market-data/by-type', params={'equity': 'AAPL'})

    assert response.status_code == 404
    assert 'serves account endpoints only' in response.json()['error']['message']


# --- the account endpoints of the SDK's Account ------------------------------------------------------------------
async def test_account_reads_of_the_sdk_work_with_a_paper_session(tastyware_paper_session: PaperSession) -> None:
    paper = tastyware_paper_session
    account = await paper.create_account('Reads')
    await account.place_order(paper, LimitOrder(price=Decimal('-190.24'), legs=[aapl(10)]), dry_run=False)

    assert await paper.validate()
    assert (await Account.get(paper, account.account_number)).account_number == account.account_number
    assert (await account.get_trading_status(paper)).account_number == account.account_number
    [position] = await account.get_positions(paper, include_marks=True)
    assert (position.symbol, position.quantity, position.mark_price) == ('AAPL', 10, Decimal('190.22'))
    [snapshot] = await account.get_balance_snapshots(paper)
    assert snapshot.cash_balance == (await account.get_balances(paper)).cash_balance
    trade = next(t for t in await account.get_history(paper) if t.transaction_type == 'Trade')
    assert (await account.get_transaction(paper, trade.id)).symbol == 'AAPL'
    assert (await account.get_total_fees(paper)).total_fees == Decimal('-0.008')
    [point] = await account.get_net_liquidating_value_history(paper, time_back='1d')
    assert point.close == (await account.get_balances(paper)).net_liquidating_value
    margin = await account.get_margin_requirements(paper)
    assert margin.maintenance_requirement == Decimal('-475.55')  # 25 % of 10 AAPL at the 190.22 mark
    assert [o.status for o in await account.get_order_history(paper)] == [OrderStatus.FILLED]
    assert [o.status for o in await account.get_live_orders(paper)] == [OrderStatus.FILLED]


async def test_dry_run_places_nothing_and_reports_the_buying_power_effect(
    tastyware_paper_session: PaperSession,
) -> None:
    paper = tastyware_paper_session
    account = await paper.create_account('Dry', initial_deposit=50_000)
    order = LimitOrder(price=Decimal('-190.00'), legs=[aapl(10)])

    preview = await account.place_order(paper, order, dry_run=True)

    assert preview.order.status == OrderStatus.RECEIVED
    assert preview.buying_power_effect.change_in_buying_power < 0
    assert (await account.get_order_buying_power_effect(paper, order)).change_in_buying_power < 0
    assert await account.get_live_orders(paper) == []
    assert (await account.get_balances(paper)).cash_balance == Decimal(50_000)


async def test_orders_are_replaced_and_cancelled_through_the_paper_session(
    tastyware_paper_session: PaperSession,
) -> None:
    paper = tastyware_paper_session
    account = await paper.create_account('Edits')
    placed = await account.place_order(paper, LimitOrder(price=Decimal('-150.00'), legs=[aapl(5)]), dry_run=False)

    replacement = await account.replace_order(paper, placed.order.id, LimitOrder(price=Decimal('-151.00'), legs=[]))
    await account.delete_order(paper, replacement.id)

    assert (await account.get_order(paper, placed.order.id)).status == OrderStatus.CANCELLED
    cancelled = await account.get_order(paper, replacement.id)
    assert (cancelled.status, cancelled.price) == (OrderStatus.CANCELLED, Decimal('-151.00'))


async def test_complex_orders_work_when_the_restrictions_are_off(tastyware_paper_session: PaperSession) -> None:
    paper = tastyware_paper_session
    account = await paper.create_account('Bracket')
    await account.place_order(paper, LimitOrder(price=Decimal('-190.24'), legs=[aapl(10)]), dry_run=False)
    sell = aapl(10, OrderAction.SELL_TO_CLOSE)
    oco = OCOOrder(
        take_profit=LimitOrder(time_in_force=OrderTimeInForce.GTC, price=Decimal('220.00'), legs=[sell]),
        stop_loss=StopOrder(time_in_force=OrderTimeInForce.GTC, stop_trigger=Decimal('170.00'), legs=[sell]),
    )

    placed = await account.place_complex_order(paper, oco, dry_run=False)

    [live] = await account.get_live_complex_orders(paper)
    assert live.id == placed.complex_order.id
    await account.delete_complex_order(paper, placed.complex_order.id)
    group = await account.get_complex_order(paper, placed.complex_order.id)
    assert {o.status for o in group.orders} == {OrderStatus.CANCELLED}
    assert [g.id for g in await account.get_complex_order_history(paper)] == [placed.complex_order.id]
