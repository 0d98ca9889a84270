"""The tastyware paper-API docs' own unit-test example (seed 000), run against the paper broker.

The example below is copied unchanged except for its placeholders and the base URL: the SDK's
``PAPER_URL`` / ``PAPER_STREAMER_URL`` (and the plain session's ``CERT_URL``) point at this module's broker,
``PaperSession(...)`` gets the docs' ``"MY-API-KEY"`` (the key this broker is started with) and ``date(...)`` is an
SPX expiration this broker lists. The tests after it assert what the example does at the boundaries a user sees:
the order's states on the ``AlertStreamer`` and at the broker, a delayed fill, and the account gone afterwards.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import anyio
import pytest

from paperbroker.instruments import occ_symbol, third_friday
from paperbroker.pytest_plugin import patch_sdk
from paperbroker.server import PaperBroker

with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    from tastytrade import Account, AlertStreamer, Session
    from tastytrade.instruments import OptionType, get_option_chain
    from tastytrade.order import (
        FillBehavior,
        InstrumentType,
        Leg,
        NewOrder,
        OrderAction,
        OrderStatus,
        OrderTimeInForce,
        OrderType,
        PlacedOrder,
    )
    from tastytrade.paper import PaperSession


def _expiration() -> date:
    """A monthly SPX expiration about two months out (the docs' 2026-04-17 has passed)."""
    ahead = datetime.now(UTC).date() + timedelta(days=60)
    return third_friday(ahead.year, ahead.month)


EXPIRATION = _expiration()
SPX_7000_CALL = occ_symbol('SPX', EXPIRATION, 'C', Decimal(7000))


@pytest.fixture(scope='module')
def anyio_backend() -> str:
    return 'asyncio'


@pytest.fixture(scope='module')
def broker() -> Iterator[PaperBroker]:
    """This module's broker: the demo market plus an SPX chain, and the docs' API key."""
    with PaperBroker('demo', tastyware_api_key='MY-API-KEY') as broker:
        quotes = [{'symbol': 'SPX', 'bid': '6950.00', 'ask': '6951.00'}]
        for strike, bid, ask in (('6900', '38.50', '39.00'), ('7000', '2.95', '3.00'), ('7100', '0.50', '0.55')):
            symbol = occ_symbol('SPX', EXPIRATION, 'C', Decimal(strike))
            quotes.append({'symbol': symbol, 'bid': bid, 'ask': ask})
        broker.admin.set_quotes(quotes)
        broker.broker.clock.stop()  # broker time moves only when a test advances it
        yield broker


@pytest.fixture(scope='module', autouse=True)
def sdk_points_at_the_broker(broker: PaperBroker) -> Iterator[None]:
    """The one change to the example: the SDK's base URLs (module constants) point at the broker."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        patch_sdk(monkeypatch, broker)
        yield
    # and the example's temporary account was cleaned up when its fixture ended
    left = [a['account']['account-number'] for a in broker.admin.state()['accounts']]
    assert [n for n in left if n.startswith('TW')] == []


@pytest.fixture
async def session(broker: PaperBroker) -> AsyncIterator[Session]:
    """The example's plain session (for the option chain), on the broker's OAuth user."""
    session = Session(broker.client_secret, broker.refresh_token, is_test=True)
    async with session:
        yield session


# fmt: off
# ---- seed 000, "Writing unit tests" (placeholders filled in, nothing else changed) -----------------------------
pytestmark = pytest.mark.anyio

@pytest.fixture(scope="module")
async def paper():
    yield PaperSession("MY-API-KEY")

@pytest.fixture(scope="module")
async def account(paper: PaperSession):
    async with paper.temporary_account() as acc:
        yield acc

async def test_place_and_cancel_order(
    account: Account, paper: PaperSession, session: Session
):
    chain = (await get_option_chain(session, "SPX"))[EXPIRATION]
    option = next(
        c
        for c in chain
        if c.option_type == OptionType.CALL and round(c.strike_price) == 7000
    )
    order = NewOrder(
        time_in_force=OrderTimeInForce.DAY,
        order_type=OrderType.LIMIT,
        legs=[option.build_leg(1, OrderAction.BUY_TO_OPEN)],
        price=-Decimal("3"),
        behavior=FillBehavior.DELAYED,
        delay=5,
    )
    res = await account.place_order(paper, order, dry_run=False)
    await account.delete_order(paper, res.order.id)
# ---- end of seed 000 ------------------------------------------------------------------------------------------
# fmt: on

pytestmark = [pytest.mark.integration, pytest.mark.anyio, pytest.mark.filterwarnings('ignore::DeprecationWarning')]


async def _statuses(streamer: AlertStreamer, until: OrderStatus) -> list[OrderStatus]:
    """Order statuses the streamer delivers, up to and including ``until`` (10 s at most)."""
    seen: list[OrderStatus] = []
    with anyio.fail_after(10):
        async for order in streamer.listen(PlacedOrder):
            seen.append(order.status)
            if order.status == until:
                return seen
    return seen


async def test_the_example_order_goes_live_then_is_cancelled(
    account: Account, paper: PaperSession, session: Session, broker: PaperBroker
) -> None:
    async with AlertStreamer(paper) as streamer:
        await streamer.subscribe_accounts([account])

        await test_place_and_cancel_order(account, paper, session)

        assert await _statuses(streamer, OrderStatus.CANCELLED) == [
            OrderStatus.RECEIVED,
            OrderStatus.ROUTED,
            OrderStatus.LIVE,
            OrderStatus.CANCEL_REQUESTED,
            OrderStatus.CANCELLED,
        ]
    newest = broker.admin.orders(account.account_number)[0]
    assert (newest['status'], newest['legs'][0]['symbol'], newest['time-in-force']) == (
        'Cancelled',
        SPX_7000_CALL,
        'Day',
    )
    assert broker.admin.positions(account.account_number) == []


async def test_a_delayed_fill_reaches_the_alert_streamer_after_its_delay(
    account: Account, paper: PaperSession, broker: PaperBroker
) -> None:
    assert await account.get_positions(paper) == []  # the example's order never filled
    leg = Leg(
        instrument_type=InstrumentType.EQUITY_OPTION, symbol=SPX_7000_CALL, quantity=1, action=OrderAction.BUY_TO_OPEN
    )
    order = NewOrder(
        time_in_force=OrderTimeInForce.DAY,
        order_type=OrderType.LIMIT,
        legs=[leg],
        price=-Decimal('3'),
        behavior=FillBehavior.DELAYED,
        delay=5,
    )
    async with AlertStreamer(paper) as streamer:
        await streamer.subscribe_accounts([account])
        placed = await account.place_order(paper, order, dry_run=False)
        assert await _statuses(streamer, OrderStatus.LIVE) == [
            OrderStatus.RECEIVED,
            OrderStatus.ROUTED,
            OrderStatus.LIVE,
        ]

        broker.admin.advance_clock(4)
        assert (await account.get_order(paper, placed.order.id)).status == OrderStatus.LIVE
        broker.admin.advance_clock(1)

        assert await _statuses(streamer, OrderStatus.FILLED) == [OrderStatus.FILLED]
    filled = await account.get_order(paper, placed.order.id)
    assert filled.average_fill_price() == Decimal('3')
    [position] = await account.get_positions(paper)
    assert (position.symbol, position.quantity, position.average_open_price) == (SPX_7000_CALL, 1, Decimal('3'))
