"""The official tastyware ``tastytrade`` SDK (13.x) works against the paper broker unchanged but for base URLs."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from decimal import Decimal

import anyio
import pytest

from paperbroker.server import PaperBroker

with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    from tastytrade import Account, AlertStreamer, DXLinkStreamer, Session
    from tastytrade.dxfeed import Quote
    from tastytrade.instruments import Equity, Future, FutureOption, FutureProduct, NestedOptionChain, Option
    from tastytrade.market_data import get_market_data_by_type
    from tastytrade.order import (
        InstrumentType,
        Leg,
        LimitOrder,
        NewOrder,
        OCOOrder,
        OrderAction,
        OrderStatus,
        OrderTimeInForce,
        OrderType,
        PlacedOrder,
        StopOrder,
    )
    from tastytrade.utils import TastytradeError

# The SDK itself posts raw bytes with ``data=``, which httpx2 deprecates.
pytestmark = [pytest.mark.integration, pytest.mark.anyio, pytest.mark.filterwarnings('ignore::DeprecationWarning')]


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


@pytest.fixture
async def session(paper_broker: PaperBroker) -> AsyncIterator[Session]:
    session = Session(paper_broker.client_secret, paper_broker.refresh_token, is_test=True)
    session._client.base_url = paper_broker.api_url
    async with session:
        yield session


@pytest.fixture
async def account(session: Session) -> Account:
    return await Account.get(session, '5WT00001')


def _aapl_stop(quantity: int = 100, trigger: str = '170.00') -> StopOrder:
    leg = Leg(instrument_type=InstrumentType.EQUITY, symbol='AAPL', action=OrderAction.SELL_TO_CLOSE, quantity=quantity)
    return StopOrder(time_in_force=OrderTimeInForce.GTC, stop_trigger=Decimal(trigger), legs=[leg])


async def test_accounts_positions_and_balances(session: Session) -> None:
    accounts = await Account.get(session)

    assert [a.account_number for a in accounts] == ['5WT00001', '5WT00002']
    positions = await accounts[0].get_positions(session, include_marks=True)
    tsla = next(p for p in positions if p.symbol == 'TSLA')
    assert (tsla.quantity, tsla.quantity_direction, tsla.average_open_price) == (30, 'Short', Decimal('250'))
    balances = await accounts[0].get_balances(session)
    assert balances.cash_balance == Decimal(250000)
    assert (await session.get_customer()).external_id == 'U0000012345'
    assert (await accounts[0].get_trading_status(session)).account_number == '5WT00001'


async def test_place_a_stop_dry_run_then_for_real_then_cancel(session: Session, account: Account) -> None:
    dry = await account.place_order(session, _aapl_stop(), dry_run=True)
    assert dry.order.status == OrderStatus.RECEIVED
    assert dry.buying_power_effect.current_buying_power > 0

    placed = await account.place_order(session, _aapl_stop(), dry_run=False)

    assert placed.order.stop_trigger == Decimal('170.00')
    live = await account.get_live_orders(session)
    assert any(o.id == placed.order.id and o.status == OrderStatus.LIVE for o in live)
    await account.delete_order(session, placed.order.id)
    assert (await account.get_order(session, placed.order.id)).status == OrderStatus.CANCELLED


async def test_deprecated_new_order_builder_still_works(session: Session, account: Account) -> None:
    leg = Leg(instrument_type=InstrumentType.EQUITY, symbol='KO', action=OrderAction.SELL_TO_CLOSE, quantity=300)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        order = NewOrder(
            time_in_force=OrderTimeInForce.GTC, order_type=OrderType.STOP, stop_trigger=Decimal('55'), legs=[leg]
        )

    placed = await account.place_order(session, order, dry_run=False)

    assert placed.order.legs[0].symbol == 'KO'


async def test_replace_resizes_a_stop_and_returns_the_new_order(session: Session, account: Account) -> None:
    # NVDA: 200 shares, the user's own stop (100002) covers 100.
    replacement = await account.replace_order(session, 100002, _aapl_stop(trigger='119.00'))

    assert replacement.replaces_order_id == 100002
    assert replacement.legs[0].symbol == 'NVDA'  # the SDK sends no legs: they are kept
    assert (await account.get_order(session, 100002)).status == OrderStatus.CANCELLED


async def test_oco_dry_run_and_placement(session: Session, account: Account) -> None:
    sell = Leg(instrument_type=InstrumentType.EQUITY, symbol='SPY', action=OrderAction.SELL_TO_CLOSE, quantity=20)
    oco = OCOOrder(
        take_profit=LimitOrder(time_in_force=OrderTimeInForce.GTC, price=Decimal('620'), legs=[sell]),
        stop_loss=StopOrder(time_in_force=OrderTimeInForce.GTC, stop_trigger=Decimal('540'), legs=[sell]),
    )

    dry = await account.place_complex_order(session, oco, dry_run=True)
    placed = await account.place_complex_order(session, oco, dry_run=False)

    assert [o.status for o in dry.complex_order.orders] == [OrderStatus.CONTINGENT, OrderStatus.CONTINGENT]
    assert placed.complex_order.take_profit.price == Decimal('620')
    assert placed.complex_order.stop_loss.stop_trigger == Decimal('540')
    live = await account.get_live_complex_orders(session)
    assert [c.id for c in live] == [placed.complex_order.id]
    await account.delete_complex_order(session, placed.complex_order.id)


async def test_api_errors_surface_as_sdk_errors(session: Session, account: Account) -> None:
    await account.delete_order(session, 100006)

    with pytest.raises(TastytradeError, match='cannot_update_order'):
        await account.delete_order(session, 100006)


async def test_order_history_paginates(session: Session, account: Account) -> None:
    everything = await account.get_order_history(session, per_page=2, page_offset=None)

    assert sorted(o.id for o in everything) == [100001, 100002, 100003, 100004, 100005, 100006]


async def test_instruments_and_quotes(session: Session) -> None:
    aapl = await Equity.get(session, 'AAPL')
    option = await Option.get(session, 'AAPL  261218C00200000')
    future = await Future.get(session, '/ESZ6')
    future_option = await FutureOption.get(session, './ESZ6 ESZ6  261218P5800')
    product = await FutureProduct.get(session, 'ES')
    chain = await NestedOptionChain.get(session, 'AAPL')
    quotes = await get_market_data_by_type(session, equities=['AAPL'], options=['AAPL  261218C00200000'])

    assert aapl.option_tick_sizes and aapl.option_tick_sizes[0].threshold == Decimal('3.0')
    assert option.streamer_symbol == '.AAPL261218C200'
    assert (future.tick_size, future.streamer_symbol) == (Decimal('0.25'), '/ESZ26:XCME')
    assert future_option.streamer_symbol == './ESZ26P5800:XCME'
    assert product.code == 'ES'
    assert chain[0].expirations[0].strikes[0].call == 'AAPL  261218C00200000'
    assert [(q.symbol, q.bid) for q in quotes] == [
        ('AAPL', Decimal('190.2')),
        ('AAPL  261218C00200000', Decimal('7.1')),
    ]


async def test_transactions_history(session: Session, account: Account) -> None:
    history = await account.get_history(session)

    assert [t.transaction_type for t in history] == ['Money Movement']
    assert history[0].net_value == Decimal(250000)


async def test_alert_streamer_receives_order_events(
    paper_broker: PaperBroker, session: Session, account: Account
) -> None:
    streamer = AlertStreamer(session)
    streamer.base_url = paper_broker.account_streamer_url
    seen: list[OrderStatus] = []
    async with streamer:
        await streamer.subscribe_accounts([account])
        placed = await account.place_order(session, _aapl_stop(), dry_run=False)
        await account.delete_order(session, placed.order.id)
        with anyio.fail_after(5):
            async for order in streamer.listen(PlacedOrder):
                if order.id == placed.order.id:
                    seen.append(order.status)
                if order.status == OrderStatus.CANCELLED:
                    break

    assert seen == ['Received', 'Routed', 'Live', 'Cancel Requested', 'Cancelled']


async def test_dxlink_streamer_receives_quotes(paper_broker: PaperBroker, session: Session) -> None:
    async with DXLinkStreamer(session) as streamer:
        await streamer.subscribe(Quote, ['AAPL'])
        with anyio.fail_after(5):
            snapshot = await streamer.get_event(Quote)
            await anyio.to_thread.run_sync(lambda: paper_broker.admin.set_quote('AAPL', bid='188.00', ask='188.04'))
            update = await streamer.get_event(Quote)

    assert (snapshot.event_symbol, snapshot.bid_price, snapshot.ask_price) == (
        'AAPL',
        Decimal('190.2'),
        Decimal('190.24'),
    )
    assert (update.bid_price, update.ask_price) == (Decimal('188.0'), Decimal('188.04'))
