"""The real paper API's limits, emulated when asked: 5 requests/second per key (429) and its restrictions."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from paperbroker.server import PaperBroker
from paperbroker.tastyware.state import TastywareSettings

with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    from tastytrade import Account
    from tastytrade.order import InstrumentType, Leg, LimitOrder, OCOOrder, OrderAction, StopOrder
    from tastytrade.paper import PaperSession
    from tastytrade.utils import TastytradeError

# The limiter counts requests per second of broker time: with the wall clock stopped, "within one second" holds
# however slowly this machine answers.
pytestmark = [
    pytest.mark.integration,
    pytest.mark.paper_clock_stopped,
    pytest.mark.filterwarnings('ignore::DeprecationWarning'),
]
USER_AGENT = 'tastyguard-tests/1.0'


@pytest.fixture
def paper_http(tastyware_paper_broker: PaperBroker) -> Iterator[httpx.Client]:
    headers = {'X-Api-Key': tastyware_paper_broker.tastyware_api_key, 'User-Agent': USER_AGENT}
    with httpx.Client(base_url=tastyware_paper_broker.tastyware_paper_url, headers=headers, timeout=10) as client:
        yield client


def test_there_is_no_rate_limit_by_default(paper_http: httpx.Client) -> None:
    statuses = {paper_http.get('/customers/me/accounts').status_code for _ in range(20)}

    assert statuses == {200}


def test_the_sixth_request_in_a_second_is_a_429_with_retry_after(
    tastyware_paper_broker: PaperBroker, paper_http: httpx.Client
) -> None:
    tastyware_paper_broker.admin.tastyware.configure(rate_limit=5)

    responses = [paper_http.get('/customers/me/accounts') for _ in range(6)]

    assert [r.status_code for r in responses] == [200] * 5 + [429]
    refused = responses[-1]
    assert refused.headers['retry-after'] == '1'
    assert refused.json()['error']['code'] == 'too_many_requests'
    tastyware_paper_broker.admin.advance_clock(1)
    assert paper_http.get('/customers/me/accounts').status_code == 200


def test_the_limit_is_per_key(tastyware_paper_broker: PaperBroker, paper_http: httpx.Client) -> None:
    tastyware_paper_broker.admin.tastyware.configure(rate_limit=2)
    other = tastyware_paper_broker.admin.tastyware.create_api_key()
    assert [paper_http.get('/customers/me/accounts').status_code for _ in range(3)] == [200, 200, 429]

    response = paper_http.get('/customers/me/accounts', headers={'X-Api-Key': other})

    assert response.status_code == 200


@pytest.mark.anyio
async def test_the_sdk_sees_the_429_as_a_tastytrade_error(tastyware_paper_broker: PaperBroker) -> None:
    tastyware_paper_broker.admin.tastyware.configure(rate_limit=1)
    paper = PaperSession(tastyware_paper_broker.tastyware_api_key)
    await Account.get(paper)

    with pytest.raises(TastytradeError, match='too_many_requests: Rate limit exceeded'):
        await Account.get(paper)


def test_a_limited_broker_can_be_started_with_the_limits_on() -> None:
    with PaperBroker('empty', tastyware=TastywareSettings(rate_limit=5, restrictions=True)) as broker:
        broker.broker.clock.stop()
        headers = {'X-Api-Key': broker.tastyware_api_key, 'User-Agent': USER_AGENT}
        statuses = [
            httpx.get(f'{broker.tastyware_paper_url}/customers/me', headers=headers).status_code for _ in range(6)
        ]
        assert statuses[-1] == 429
        assert broker.admin.tastyware.settings()['restrictions'] is True


@pytest.fixture
def restricted(tastyware_paper_broker: PaperBroker) -> PaperBroker:
    tastyware_paper_broker.admin.tastyware.configure(restrictions=True)
    return tastyware_paper_broker


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


@pytest.mark.anyio
@pytest.mark.parametrize(
    ('kind', 'symbol'),
    [(InstrumentType.FUTURE, '/ESZ6'), (InstrumentType.FUTURE_OPTION, './ESZ6 ESZ6  261218P5800')],
    ids=['future', 'future-option'],
)
async def test_restrictions_refuse_futures_and_futures_options(
    restricted: PaperBroker, tastyware_paper_session: PaperSession, kind: InstrumentType, symbol: str
) -> None:
    account = await tastyware_paper_session.create_account('Restricted')
    leg = Leg(instrument_type=kind, symbol=symbol, action=OrderAction.BUY_TO_OPEN, quantity=1)

    with pytest.raises(TastytradeError, match='unsupported_instrument_type: The paper API trades equities'):
        await account.place_order(tastyware_paper_session, LimitOrder(price=Decimal('-1'), legs=[leg]), dry_run=False)

    assert restricted.admin.orders(account.account_number) == []


@pytest.mark.anyio
async def test_restrictions_refuse_complex_orders(
    restricted: PaperBroker, tastyware_paper_session: PaperSession
) -> None:
    account = await tastyware_paper_session.create_account('Restricted')
    sell = Leg(instrument_type=InstrumentType.EQUITY, symbol='AAPL', action=OrderAction.SELL_TO_CLOSE, quantity=1)
    oco = OCOOrder(
        take_profit=LimitOrder(price=Decimal('220'), legs=[sell]),
        stop_loss=StopOrder(stop_trigger=Decimal('170'), legs=[sell]),
    )

    with pytest.raises(TastytradeError, match='complex_orders_not_supported'):
        await account.place_complex_order(tastyware_paper_session, oco, dry_run=True)


@pytest.mark.anyio
async def test_restrictions_still_trade_equities_and_index_options(
    restricted: PaperBroker, tastyware_paper_session: PaperSession
) -> None:
    account = await tastyware_paper_session.create_account('Restricted')
    restricted.admin.set_quote('SPX   261218C07000000', bid='10.00', ask='10.50')
    legs = [
        Leg(instrument_type=InstrumentType.EQUITY, symbol='AAPL', action=OrderAction.BUY_TO_OPEN, quantity=1),
        Leg(
            instrument_type=InstrumentType.EQUITY_OPTION,
            symbol='SPX   261218C07000000',
            action=OrderAction.BUY_TO_OPEN,
            quantity=1,
        ),
    ]
    for leg in legs:
        price = Decimal('-191') if leg.symbol == 'AAPL' else Decimal('-10.50')
        await account.place_order(tastyware_paper_session, LimitOrder(price=price, legs=[leg]), dry_run=False)

    positions = {p['symbol'] for p in restricted.admin.positions(account.account_number)}
    assert positions == {'AAPL', 'SPX   261218C07000000'}


@pytest.mark.anyio
async def test_without_restrictions_futures_trade_as_on_the_plain_api(
    tastyware_paper_session: PaperSession, tastyware_paper_broker: PaperBroker
) -> None:
    account = await tastyware_paper_session.create_account('Futures')
    leg = Leg(instrument_type=InstrumentType.FUTURE, symbol='/ESZ6', action=OrderAction.BUY, quantity=1)

    await account.place_order(tastyware_paper_session, LimitOrder(price=Decimal('-6050.25'), legs=[leg]), dry_run=False)

    assert tastyware_paper_broker.admin.positions(account.account_number)[0]['symbol'] == '/ESZ6'
