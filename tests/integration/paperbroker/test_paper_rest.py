"""The REST surface of the paper broker: auth, envelopes, status codes, accounts, positions, instruments, quotes."""

from __future__ import annotations

import httpx
import pytest

from paperbroker.server import PaperBroker

pytestmark = pytest.mark.integration


def test_token_endpoint_answers_at_the_top_level_not_in_data(paper_broker: PaperBroker) -> None:
    grant = {
        'grant_type': 'refresh_token',
        'client_secret': paper_broker.client_secret,
        'refresh_token': paper_broker.refresh_token,
        'scope': 'read trade',
    }

    response = httpx.post(f'{paper_broker.api_url}/oauth/token', json=grant, headers={'User-Agent': 'x/1'})

    assert response.status_code == 200
    assert set(response.json()) == {'access_token', 'token_type', 'expires_in'}
    assert response.json()['expires_in'] == 900


@pytest.mark.parametrize(
    ('change', 'status', 'code'),
    [
        ({'client_secret': 'wrong'}, 401, 'invalid_client'),
        ({'refresh_token': 'wrong'}, 400, 'invalid_grant'),
        ({'refresh_token': None}, 400, 'invalid_request'),
    ],
)
def test_token_endpoint_errors_are_oauth_style(paper_broker: PaperBroker, change: dict, status: int, code: str) -> None:
    grant = {
        'grant_type': 'refresh_token',
        'client_secret': paper_broker.client_secret,
        'refresh_token': paper_broker.refresh_token,
        **change,
    }

    response = httpx.post(f'{paper_broker.api_url}/oauth/token', json=grant, headers={'User-Agent': 'x/1'})

    assert response.status_code == status
    assert response.json()['error_code'] == code
    assert 'error_description' in response.json()


def test_malformed_token_request_is_invalid_request(paper_broker: PaperBroker) -> None:
    response = httpx.post(f'{paper_broker.api_url}/oauth/token', content=b'{not json', headers={'User-Agent': 'x/1'})

    assert (response.status_code, response.json()['error_code']) == (400, 'invalid_request')


def test_missing_user_agent_gets_nginx_html_401(paper_broker: PaperBroker) -> None:
    with httpx.Client(base_url=paper_broker.api_url) as client:
        client.headers.pop('User-Agent')
        response = client.get('/customers/me')

    assert response.status_code == 401
    assert response.headers['content-type'].startswith('text/html')
    assert '401 Authorization Required' in response.text


def test_missing_or_bad_token_is_401_with_the_error_envelope(paper_broker: PaperBroker) -> None:
    with httpx.Client(base_url=paper_broker.api_url, headers={'User-Agent': 'x/1'}) as client:
        missing = client.get('/customers/me')
        bad = client.get('/customers/me', headers={'Authorization': 'Bearer nope'})

    for response in (missing, bad):
        assert response.status_code == 401
        assert response.json()['error']['code'] == 'unauthorized'


def test_access_token_expires_after_fifteen_virtual_minutes(paper_broker: PaperBroker, api: httpx.Client) -> None:
    assert api.get('/customers/me').status_code == 200

    paper_broker.admin.advance_clock(900)

    response = api.get('/customers/me')
    assert response.status_code == 401
    assert response.json() == {'error': {'code': 'unauthorized', 'message': 'Token has expired'}}


def test_accept_version_header_is_accepted_and_ignored(api: httpx.Client) -> None:
    assert api.get('/customers/me', headers={'Accept-Version': '20251101'}).status_code == 200


def test_accounts_list_wraps_each_account_with_its_authority_level(api: httpx.Client) -> None:
    body = api.get('/customers/me/accounts').json()

    assert body['context'] == '/customers/me/accounts'
    items = body['data']['items']
    assert [(i['account']['account-number'], i['authority-level']) for i in items] == [
        ('5WT00001', 'owner'),
        ('5WT00002', 'owner'),
    ]
    assert items[1]['account']['margin-or-cash'] == 'Cash'


def test_someone_elses_account_is_403_and_an_unknown_one_404(paper_broker: PaperBroker, api: httpx.Client) -> None:
    paper_broker.admin.add_account(account_number='5WT09999', owner='other')

    assert api.get('/accounts/5WT09999/positions').status_code == 403
    assert api.get('/accounts/5WT09999/positions').json()['error']['code'] == 'not_permitted'
    assert api.get('/accounts/5XX00000/positions').status_code == 404


def test_positions_use_string_quantities_with_a_direction(api: httpx.Client) -> None:
    items = api.get('/accounts/5WT00001/positions').json()['data']['items']
    by_symbol = {p['symbol']: p for p in items}

    assert by_symbol['TSLA']['quantity'] == '30'
    assert by_symbol['TSLA']['quantity-direction'] == 'Short'
    assert by_symbol['AAPL']['average-open-price'] == '178.5'
    assert 'mark' not in by_symbol['AAPL']
    assert by_symbol['/ESZ6']['multiplier'] == 50


def test_positions_filters_and_marks(api: httpx.Client) -> None:
    response = api.get('/accounts/5WT00001/positions', params={'underlying-symbol[]': ['SPY'], 'include-marks': 'true'})

    items = response.json()['data']['items']
    assert sorted(p['symbol'] for p in items) == ['SPY', 'SPY   261218P00520000']
    assert all('mark' in p and 'mark-price' in p for p in items)


def test_balances_carry_every_required_field_as_strings(api: httpx.Client) -> None:
    data = api.get('/accounts/5WT00001/balances/USD').json()['data']

    assert data['cash-balance'] == '250000.0'
    assert data['currency'] == 'USD'
    assert all(isinstance(v, str | bool) for v in data.values())


def test_equity_instrument_has_tick_tables(api: httpx.Client) -> None:
    aapl = api.get('/instruments/equities/AAPL').json()['data']
    spy = api.get('/instruments/equities/SPY').json()['data']

    assert aapl['tick-sizes'] == [{'threshold': '1.0', 'value': '0.0001'}, {'value': '0.01'}]
    assert aapl['option-tick-sizes'] == [{'threshold': '3.0', 'value': '0.01'}, {'value': '0.05'}]
    assert spy['option-tick-sizes'] == [{'value': '0.01'}]


def test_option_and_future_lookups_accept_encoded_symbols(api: httpx.Client) -> None:
    option = api.get('/instruments/equity-options/AAPL%20%20261218C00200000').json()['data']
    future = api.get('/instruments/futures/ESZ6').json()['data']
    future_option = api.get('/instruments/future-options/.%2FESZ6%20ESZ6%20%20261218P5800').json()['data']

    assert option['streamer-symbol'] == '.AAPL261218C200'
    assert (future['symbol'], future['tick-size'], future['streamer-symbol']) == ('/ESZ6', '0.25', '/ESZ26:XCME')
    assert future_option['streamer-symbol'] == './ESZ26P5800:XCME'


def test_unknown_instrument_is_404(api: httpx.Client) -> None:
    response = api.get('/instruments/equities/NOPE')

    assert response.status_code == 404
    assert response.json()['error']['code'] == 'record_not_found'


def test_market_data_by_type_accepts_plain_and_bracketed_params(api: httpx.Client) -> None:
    plain = api.get('/market-data/by-type', params={'equity': ['AAPL', 'SPY']}).json()['data']['items']
    brackets = api.get('/market-data/by-type', params={'equity[]': 'AAPL', 'future': '/ESZ6'}).json()['data']['items']

    assert [i['symbol'] for i in plain] == ['AAPL', 'SPY']
    assert [i['symbol'] for i in brackets] == ['AAPL', '/ESZ6']
    assert plain[0]['bid'] == '190.2'


def test_market_data_refuses_more_than_100_symbols(api: httpx.Client) -> None:
    response = api.get('/market-data/by-type', params={'equity': [f'S{i}' for i in range(101)]})

    assert response.status_code == 422
    assert response.json()['error']['code'] == 'validation_error'


def test_quote_token_points_at_this_servers_dxlink(paper_broker: PaperBroker, api: httpx.Client) -> None:
    data = api.get('/api-quote-tokens').json()['data']

    assert data['dxlink-url'] == paper_broker.dxlink_url
    assert data['level'] == 'api'
    assert set(data) == {'token', 'dxlink-url', 'level', 'issued-at', 'expires-at'}


def test_unknown_route_is_404_with_the_error_envelope(api: httpx.Client) -> None:
    response = api.get('/no/such/thing')

    assert response.status_code == 404
    assert 'error' in response.json()


def test_transactions_record_deposits_and_trades(paper_broker: PaperBroker, api: httpx.Client) -> None:
    api.post(
        '/accounts/5WT00001/orders',
        json={
            'time-in-force': 'Day',
            'order-type': 'Market',
            'legs': [{'instrument-type': 'Equity', 'symbol': 'KO', 'quantity': 10, 'action': 'Buy to Open'}],
        },
    )

    body = api.get('/accounts/5WT00001/transactions').json()

    kinds = [t['transaction-type'] for t in body['data']['items']]
    assert kinds == ['Trade', 'Money Movement']
    assert body['pagination']['total-items'] == 2


def test_an_equity_option_expires_at_its_sessions_close_in_new_york(
    paper_broker: PaperBroker, api: httpx.Client
) -> None:
    symbol = 'AAPL%20%20261218C00200000'
    # A winter expiration stops trading at 16:00 EST, 21:00 UTC (as recorded: "2027-01-15T21:00:00.000+00:00")
    assert (
        api.get(f'/instruments/equity-options/{symbol}').json()['data']['expires-at'] == '2026-12-18T21:00:00.000+00:00'
    )
    # On an early close it stops trading at 13:00 New York, in the instrument and in a position on it alike
    paper_broker.admin.set_session(early_closes={'2026-12-18': '13:00'})
    option = api.get(f'/instruments/equity-options/{symbol}').json()['data']
    assert option['expires-at'] == option['stops-trading-at'] == '2026-12-18T18:00:00.000+00:00'
    paper_broker.admin.add_position('5WT00001', 'AAPL  261218C00200000', 1, '5.00')
    [held] = [
        p
        for p in api.get('/accounts/5WT00001/positions').json()['data']['items']
        if p['symbol'] == 'AAPL  261218C00200000'
    ]
    assert held['expires-at'] == '2026-12-18T18:00:00.000+00:00'
