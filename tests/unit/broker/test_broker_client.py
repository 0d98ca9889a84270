"""The client's methods against a respx-mocked API: paths, params, bodies, parsing, pagination, caching."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

from tastyguard.broker import (
    API_VERSION,
    USER_AGENT,
    ComplexOrderType,
    Environment,
    EnvironmentName,
    InstrumentType,
    MalformedResponseError,
    OrderAction,
    OrderRejectedError,
    OrderStatus,
    PriceEffect,
    TastytradeClient,
    limit_order,
    oco_order,
    stop_order,
)
from tests.unit.broker.support import ACCESS_PREFIX, ACCOUNT, FakeTime, envelope, items, make_client, token_responder

pytestmark = pytest.mark.unit

ORDERS = f'/accounts/{ACCOUNT}/orders'


def order_json(order_id: int | None = 11, status: str = 'Live', **extra: Any) -> dict[str, Any]:
    return {
        **({'id': order_id} if order_id is not None else {}),
        'account-number': ACCOUNT,
        'status': status,
        'order-type': 'Stop',
        'time-in-force': 'GTC',
        'stop-trigger': '150.0',
        'updated-at': 1781292831405,
        'legs': [{'instrument-type': 'Equity', 'symbol': 'AAPL', 'action': 'Sell to Close', 'quantity': 10}],
        **extra,
    }


def a_stop(ident: str = 'tg-test-1') -> Any:
    return stop_order(
        symbol='AAPL',
        instrument_type=InstrumentType.EQUITY,
        action=OrderAction.SELL_TO_CLOSE,
        quantity=10,
        stop_trigger=Decimal('150.00'),
        external_identifier=ident,
    )


# -- headers and environments --------------------------------------------------------------------------


def test_every_api_request_carries_the_agent_json_headers_and_bearer(
    router: respx.Router, client: TastytradeClient
) -> None:
    router.get('/customers/me').respond(json=envelope({'id': 'me'}))
    client.customer()
    headers = router.calls.last.request.headers
    assert headers['user-agent'] == USER_AGENT == 'tastyguard/0.1.0'
    assert headers['accept'] == 'application/json' and headers['content-type'] == 'application/json'
    assert headers['authorization'] == f'Bearer {ACCESS_PREFIX}1'
    assert 'accept-version' not in headers  # sandbox: the header breaks order routes


def test_production_sends_accept_version(fake_time: FakeTime) -> None:
    router = respx.Router(base_url='https://api.tastyworks.com', assert_all_called=False)
    router.post('/oauth/token').mock(side_effect=token_responder())
    router.get('/customers/me').respond(json=envelope({'id': 'me'}))
    with make_client(router, fake_time, environment=Environment.production()) as tt:
        tt.customer()
    assert all(call.request.headers['accept-version'] == API_VERSION for call in router.calls)
    assert 'authorization' not in router.calls[0].request.headers  # the token request


def test_paper_environment_takes_any_url_and_no_accept_version(fake_time: FakeTime) -> None:
    env = Environment.paper('http://127.0.0.1:8123/', 'ws://127.0.0.1:8123/streamer')
    assert env.api_url == 'http://127.0.0.1:8123' and env.name is EnvironmentName.PAPER
    router = respx.Router(base_url=env.api_url, assert_all_called=False)
    router.post('/oauth/token').mock(side_effect=token_responder())
    router.get('/customers/me').respond(json=envelope({'id': 'me'}))
    with make_client(router, fake_time, environment=env) as tt:
        tt.customer()
    assert 'accept-version' not in router.calls.last.request.headers


def test_environments_are_explicit() -> None:
    assert Environment.named('sandbox') == Environment.sandbox()
    assert Environment.production().is_production and not Environment.sandbox().is_production
    with pytest.raises(ValueError, match='expected one of'):
        Environment.named('prod')
    with pytest.raises(ValueError, match='needs api_url'):
        Environment.named('paper')
    with pytest.raises(ValueError, match='fixed URLs'):
        Environment.named('production', api_url='https://evil.test')
    with pytest.raises(ValueError, match='https'):
        Environment(EnvironmentName.PRODUCTION, 'http://api.tastyworks.com', 'wss://streamer.tastyworks.com')
    with pytest.raises(ValueError, match='absolute'):
        Environment.paper('localhost:8000', 'ws://localhost:8000')


def test_account_numbers_are_validated_before_building_a_path(client: TastytradeClient) -> None:
    with pytest.raises(ValueError, match='account number'):
        client.positions('../customers/me')


# -- accounts, positions, balances ---------------------------------------------------------------------


def test_accounts_skip_closed_ones_unless_asked(router: respx.Router, client: TastytradeClient) -> None:
    router.get('/customers/me/accounts').respond(
        json=items(
            [
                {'account': {'account-number': ACCOUNT, 'is-closed': False}, 'authority-level': 'owner'},
                {'account': {'account-number': '5WT00009', 'is-closed': True}, 'authority-level': 'owner'},
            ]
        )
    )
    assert [a.account_number for a in client.accounts()] == [ACCOUNT]
    assert len(client.accounts(include_closed=True)) == 2


def test_positions_send_filters_and_parse(router: respx.Router, client: TastytradeClient) -> None:
    route = router.get(f'/accounts/{ACCOUNT}/positions').respond(
        json=items(
            [
                {
                    'account-number': ACCOUNT,
                    'symbol': 'AAPL',
                    'instrument-type': 'Equity',
                    'quantity': '10',
                    'quantity-direction': 'Long',
                    'average-open-price': '178.50',
                },
            ]
        )
    )
    positions = client.positions(ACCOUNT, underlying_symbols=['AAPL', 'MSFT'], include_marks=True)
    assert positions[0].signed_quantity == 10 and positions[0].average_open_price == Decimal('178.50')
    params = route.calls.last.request.url.params
    assert params.get_list('underlying-symbol[]') == ['AAPL', 'MSFT'] and params['include-marks'] == 'true'


def test_balances_read_one_currency(router: respx.Router, client: TastytradeClient) -> None:
    router.get(f'/accounts/{ACCOUNT}/balances/USD').respond(
        json=envelope({'account-number': ACCOUNT, 'currency': 'USD', 'net-liquidating-value': '100000.5'})
    )
    assert client.balances(ACCOUNT).net_liquidating_value == Decimal('100000.5')


def test_trading_status(router: respx.Router, client: TastytradeClient) -> None:
    router.get(f'/accounts/{ACCOUNT}/trading-status').respond(
        json=envelope({'account-number': ACCOUNT, 'is-closing-only': True})
    )
    assert client.trading_status(ACCOUNT).is_closing_only is True


# -- orders --------------------------------------------------------------------------------------------


def test_live_orders(router: respx.Router, client: TastytradeClient) -> None:
    router.get(f'{ORDERS}/live').respond(json=items([order_json(1), order_json(2, 'Filled')]))
    assert [o.status for o in client.live_orders(ACCOUNT)] == [OrderStatus.LIVE, OrderStatus.FILLED]


def test_search_orders_reads_every_page(router: respx.Router, client: TastytradeClient) -> None:
    def page(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params['page-offset'])
        rows = [order_json(offset * 10 + i) for i in range(2 if offset < 2 else 1)]
        return httpx.Response(200, json=items(rows, pagination={'page-offset': offset, 'total-pages': 3}))

    route = router.get(ORDERS).mock(side_effect=page)
    found = client.search_orders(ACCOUNT, status=[OrderStatus.LIVE, 'Received'], start_date=date(2026, 11, 20))
    assert [o.id for o in found] == [0, 1, 10, 11, 20]
    params = route.calls.last.request.url.params
    assert params.get_list('status[]') == ['Live', 'Received'] and params['start-date'] == '2026-11-20'
    assert params['per-page'] == '100' and route.call_count == 3


def test_search_orders_never_returns_a_partial_result(router: respx.Router, client: TastytradeClient) -> None:
    router.get(ORDERS).respond(json=items([order_json(1)], pagination={'total-pages': 99}))
    with pytest.raises(MalformedResponseError, match='more than 2 pages'):
        client.search_orders(ACCOUNT, max_pages=2)


def test_get_order(router: respx.Router, client: TastytradeClient) -> None:
    router.get(f'{ORDERS}/11').respond(json=envelope(order_json(11)))
    assert client.get_order(ACCOUNT, 11).stop_trigger == Decimal('150.0')


def test_place_order_sends_the_wire_body_and_parses_the_result(router: respx.Router, client: TastytradeClient) -> None:
    route = router.post(ORDERS).respond(
        201, json=envelope({'order': order_json(77, 'Routed', **{'external-identifier': 'tg-test-1'}), 'warnings': []})
    )
    placed = client.place_order(ACCOUNT, a_stop())
    assert placed.order.id == 77 and placed.order.external_identifier == 'tg-test-1'
    assert json.loads(route.calls.last.request.content) == a_stop().to_wire()


def test_dry_run_reports_warnings_and_rejections(router: respx.Router, client: TastytradeClient) -> None:
    router.post(f'{ORDERS}/dry-run').mock(
        side_effect=[
            httpx.Response(
                200,
                json=envelope(
                    {
                        'order': order_json(None, 'Received', **{'updated-at': 0}),
                        'warnings': [{'code': 'closing_with_no_position', 'message': 'will open'}],
                    }
                ),
            ),
            httpx.Response(
                422,
                json={
                    'error': {
                        'code': 'preflight_check_failure',
                        'message': 'One or more preflight checks failed',
                        'errors': [{'code': 'cant_buy_for_credit', 'message': 'no'}],
                    }
                },
            ),
        ]
    )
    dry = client.dry_run_order(ACCOUNT, a_stop())
    assert dry.order.id is None and dry.warning_codes == ('closing_with_no_position',)
    with pytest.raises(OrderRejectedError) as caught:
        client.dry_run_order(ACCOUNT, a_stop())
    assert 'cant_buy_for_credit' in caught.value.codes


def test_replace_order_puts_the_full_body_and_returns_the_new_order(
    router: respx.Router, client: TastytradeClient
) -> None:
    route = router.put(f'{ORDERS}/11').respond(json=envelope(order_json(12, 'Contingent', **{'replaces-order-id': 11})))
    new = client.replace_order(ACCOUNT, 11, a_stop('tg-test-2'))
    assert new.id == 12 and new.replaces_order_id == 11
    body = json.loads(route.calls.last.request.content)
    assert body['legs'] and body['external-identifier'] == 'tg-test-2'


def test_replace_order_tolerates_a_wrapped_answer(router: respx.Router, client: TastytradeClient) -> None:
    router.put(f'{ORDERS}/11').respond(json=envelope({'order': order_json(12, 'Contingent')}))
    assert client.replace_order(ACCOUNT, 11, a_stop()).id == 12


def test_edit_order_patches_only_the_changed_fields(router: respx.Router, client: TastytradeClient) -> None:
    route = router.patch(f'{ORDERS}/11').respond(json=envelope(order_json(13)))
    client.edit_order(ACCOUNT, 11, stop_trigger=Decimal('149.50'))
    assert json.loads(route.calls.last.request.content) == {'stop-trigger': '149.50'}


def test_cancel_order(router: respx.Router, client: TastytradeClient) -> None:
    router.delete(f'{ORDERS}/11').mock(
        side_effect=[
            httpx.Response(200, json=envelope(order_json(11, 'Cancel Requested'))),
            httpx.Response(422, json={'error': {'code': 'cannot_update_order', 'message': 'could not be cancelled'}}),
        ]
    )
    assert client.cancel_order(ACCOUNT, 11).status is OrderStatus.CANCEL_REQUESTED
    with pytest.raises(OrderRejectedError, match='cannot_update_order'):
        client.cancel_order(ACCOUNT, 11)


def test_find_order_by_external_id_looks_in_live_orders_first(router: respx.Router, client: TastytradeClient) -> None:
    # Order 2 is a replacement of order 1 that inherited its identifier (a person's edit): the write created 1
    router.get(f'{ORDERS}/live').respond(
        json=items(
            [
                order_json(1, 'Cancelled', **{'external-identifier': 'tg-x', 'updated-at': 10}),
                order_json(2, 'Live', **{'external-identifier': 'tg-x', 'updated-at': 20}),
                order_json(3, 'Live', **{'external-identifier': 'tg-other'}),
            ]
        )
    )
    search = router.get(ORDERS).respond(json=items([]))
    found = client.find_order_by_external_id(ACCOUNT, 'tg-x')
    assert found is not None and found.id == 1
    assert search.call_count == 0


def test_find_order_by_external_id_then_searches_from_today_in_new_york(
    router: respx.Router, client: TastytradeClient
) -> None:
    router.get(f'{ORDERS}/live').respond(json=items([]))
    search = router.get(ORDERS).respond(json=items([order_json(5, 'Filled', **{'external-identifier': 'tg-y'})]))
    found = client.find_order_by_external_id(ACCOUNT, 'tg-y')
    assert found is not None and found.id == 5
    assert search.calls.last.request.url.params['start-date'] == '2026-11-20'
    assert client.find_order_by_external_id(ACCOUNT, 'tg-missing', since=date(2026, 11, 1)) is None
    assert search.calls.last.request.url.params['start-date'] == '2026-11-01'


# -- complex orders ------------------------------------------------------------------------------------


def an_oco() -> Any:
    take = limit_order(
        symbol='AAPL',
        instrument_type=InstrumentType.EQUITY,
        action=OrderAction.SELL_TO_CLOSE,
        quantity=10,
        limit_price=Decimal('200.00'),
        external_identifier='tg-tp-1',
    )
    return oco_order(take_profit=take, stop_loss=a_stop('tg-sl-1'))


def complex_json(complex_id: int | None = 9) -> dict[str, Any]:
    children = [
        order_json(None, 'Contingent', **{'order-type': 'Limit', 'price': '200.0', 'price-effect': 'Credit'}),
        order_json(None, 'Contingent'),
    ]
    return {**({'id': complex_id} if complex_id else {}), 'account-number': ACCOUNT, 'type': 'OCO', 'orders': children}


def test_complex_orders_place_dry_run_list_and_cancel(router: respx.Router, client: TastytradeClient) -> None:
    base = f'/accounts/{ACCOUNT}/complex-orders'
    place = router.post(base).respond(201, json=envelope({'complex-order': complex_json(9)}))
    router.post(f'{base}/dry-run').respond(json=envelope({'complex-order': complex_json(None), 'warnings': []}))
    router.get(f'{base}/live').respond(json=items([complex_json(9)]))
    router.delete(f'{base}/9').respond(json=envelope(complex_json(9)))
    assert client.place_complex_order(ACCOUNT, an_oco()).complex_order.id == 9
    assert json.loads(place.calls.last.request.content)['type'] == 'OCO'
    assert client.dry_run_complex_order(ACCOUNT, an_oco()).complex_order.id is None
    assert client.live_complex_orders(ACCOUNT)[0].type is ComplexOrderType.OCO
    assert client.cancel_complex_order(ACCOUNT, 9).id == 9


# -- instruments, quotes, quote token ------------------------------------------------------------------

EQUITY = {
    'symbol': 'AAPL',
    'instrument-type': 'Equity',
    'tick-sizes': [{'threshold': '1.0', 'value': '0.0001'}, {'value': '0.01'}],
    'option-tick-sizes': [{'threshold': '3.0', 'value': '0.01'}, {'value': '0.05'}],
}


def test_instruments_are_cached_for_their_ttl(
    router: respx.Router, client: TastytradeClient, fake_time: FakeTime
) -> None:
    route = router.get('/instruments/equities/AAPL').respond(json=envelope(EQUITY))
    assert client.equity('AAPL') is client.equity('AAPL')
    assert route.call_count == 1
    fake_time.advance(client.instrument_cache_ttl + 1)
    client.equity('AAPL')
    assert route.call_count == 2
    client.clear_instrument_cache()
    client.equity('AAPL')
    assert route.call_count == 3


def test_symbols_are_encoded_in_paths(router: respx.Router, client: TastytradeClient) -> None:
    router.get(path__startswith='/instruments/equity-options/').respond(
        json=envelope({'symbol': 'AAPL  261218C00200000', 'underlying-symbol': 'AAPL', 'option-type': 'C'})
    )
    router.get(path__startswith='/instruments/futures/').respond(
        json=envelope({'symbol': '/ESZ6', 'tick-size': '0.25'})
    )
    router.get(path__startswith='/instruments/future-options/').respond(
        json=envelope({'symbol': './ESZ6 E1AZ6 261218P6300'})
    )
    client.equity_option('AAPL  261218C00200000')
    assert router.calls.last.request.url.raw_path == b'/instruments/equity-options/AAPL%20%20261218C00200000'
    assert client.future('/ESZ6').price_ticks()[0].value == Decimal('0.25')
    assert router.calls.last.request.url.raw_path == b'/instruments/futures/ESZ6'
    client.future_option('./ESZ6 E1AZ6 261218P6300')
    assert router.calls.last.request.url.raw_path == b'/instruments/future-options/.%2FESZ6%20E1AZ6%20261218P6300'


def test_equity_option_tick_schedule_comes_from_the_underlying(router: respx.Router, client: TastytradeClient) -> None:
    router.get('/instruments/equities/AAPL').respond(json=envelope(EQUITY))
    router.get(path__startswith='/instruments/equity-options/').respond(
        json=envelope({'symbol': 'AAPL  261218C00200000', 'underlying-symbol': 'AAPL'})
    )
    schedule = client.tick_schedule(InstrumentType.EQUITY_OPTION, 'AAPL  261218C00200000')
    assert [t.value for t in schedule] == [Decimal('0.01'), Decimal('0.05')]
    assert [t.value for t in client.tick_schedule('Equity', 'AAPL')] == [Decimal('0.0001'), Decimal('0.01')]


def test_quotes_are_batched_at_one_hundred_symbols(router: respx.Router, client: TastytradeClient) -> None:
    def quotes(request: httpx.Request) -> httpx.Response:
        rows = [{'symbol': s, 'instrument-type': 'Equity', 'mark': '1.0'} for _, s in request.url.params.multi_items()]
        return httpx.Response(200, json=items(rows))

    route = router.get('/market-data/by-type').mock(side_effect=quotes)
    equities = [f'S{i:03d}' for i in range(130)]
    result = client.quotes({InstrumentType.EQUITY: [*equities, 'S000'], InstrumentType.FUTURE: ['/ESZ6']})
    assert len(result) == 131 and route.call_count == 2
    first, second = (call.request.url.params for call in route.calls)
    assert len(first.multi_items()) == 100 and len(second.multi_items()) == 31
    assert second.get_list('future') == ['/ESZ6']
    with pytest.raises(ValueError, match='no REST quotes'):
        client.quotes({InstrumentType.BOND: ['X']})


def test_quote_token(router: respx.Router, client: TastytradeClient) -> None:
    router.get('/api-quote-tokens').respond(
        json=envelope({'token': 'dx-secret-token-1', 'dxlink-url': 'wss://dx.test/realtime', 'level': 'api'})
    )
    token = client.quote_token()
    assert token.dxlink_url == 'wss://dx.test/realtime' and 'dx-secret-token-1' not in repr(token)


def test_access_token_is_available_for_the_streamer(client: TastytradeClient) -> None:
    assert client.access_token().authorization == f'Bearer {ACCESS_PREFIX}1'


def test_schema_mismatch_names_the_model_and_field(router: respx.Router, client: TastytradeClient) -> None:
    router.get(f'{ORDERS}/11').respond(json=envelope({'id': 11}))
    with pytest.raises(MalformedResponseError, match=r'does not fit Order: account-number: Field required'):
        client.get_order(ACCOUNT, 11)


def test_price_effects_survive_the_round_trip(router: respx.Router, client: TastytradeClient) -> None:
    router.get(f'{ORDERS}/11').respond(
        json=envelope(order_json(11, **{'order-type': 'Limit', 'price': '2.5', 'price-effect': 'Debit'}))
    )
    order = client.get_order(ACCOUNT, 11)
    assert order.price_effect is PriceEffect.DEBIT and order.signed_price == Decimal('-2.5')
