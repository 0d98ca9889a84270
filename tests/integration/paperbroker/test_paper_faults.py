"""Every HTTP fault kind, seen from an httpx client: what the client gets and what the broker did."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from paperbroker.admin_client import AdminError
from paperbroker.server import PaperBroker

pytestmark = pytest.mark.integration
ORDERS = '/accounts/5WT00001/orders'


def test_status_429_with_retry_after(paper_broker: PaperBroker, api: httpx.Client) -> None:
    paper_broker.admin.fault('status', method='GET', path='/positions$', status=429, retry_after=3)

    limited = api.get('/accounts/5WT00001/positions')
    after = api.get('/accounts/5WT00001/positions')

    assert limited.status_code == 429
    assert limited.headers['retry-after'] == '3'
    assert limited.json()['error']['code'] == 'too_many_requests'
    assert after.status_code == 200


def test_status_429_without_retry_after_and_as_html(paper_broker: PaperBroker, api: httpx.Client) -> None:
    paper_broker.admin.fault('status', status=429)
    paper_broker.admin.fault('status', status=502, html=True)

    plain = api.get('/customers/me')
    html = api.get('/customers/me')

    assert plain.status_code == 429 and 'retry-after' not in plain.headers
    assert html.status_code == 502 and html.headers['content-type'].startswith('text/html')


def test_status_5xx_does_not_reach_the_api(paper_broker: PaperBroker, api: httpx.Client, stop: Any) -> None:
    paper_broker.admin.fault('status', method='POST', path='/orders$', status=500)

    response = api.post(ORDERS, json=stop('AAPL', 100, '170.00'))

    assert response.status_code == 500
    assert response.json()['error']['code'] == 'internal_server_error'
    assert len(paper_broker.admin.orders('5WT00001')) == 6


def test_count_minus_one_fires_until_cleared(paper_broker: PaperBroker, api: httpx.Client) -> None:
    paper_broker.admin.fault('status', status=503, count=-1)

    assert [api.get('/customers/me').status_code for _ in range(3)] == [503, 503, 503]
    paper_broker.admin.clear_faults()
    assert api.get('/customers/me').status_code == 200


def test_delay_holds_the_response(paper_broker: PaperBroker, api: httpx.Client) -> None:
    paper_broker.admin.fault('delay', path='/customers/me$', seconds=0.3)

    started = time.perf_counter()
    response = api.get('/customers/me')

    assert response.status_code == 200
    assert time.perf_counter() - started >= 0.3


def test_delay_after_processing_times_the_client_out_but_the_order_exists(
    paper_broker: PaperBroker, api: httpx.Client, stop: Any
) -> None:
    paper_broker.admin.fault('delay', method='POST', path='/orders$', seconds=0.5, phase='after')

    with pytest.raises(httpx.ReadTimeout):
        api.post(ORDERS, json=stop('AAPL', 100, '170.00', **{'external-identifier': 'tg-slow'}), timeout=0.1)

    ids = [o.get('external-identifier') for o in paper_broker.admin.orders('5WT00001')]
    assert 'tg-slow' in ids


def test_delay_before_still_processes_the_request_after_the_client_gave_up(
    paper_broker: PaperBroker, api: httpx.Client, stop: Any
) -> None:
    paper_broker.admin.fault('delay', method='POST', path='/orders$', seconds=0.3)

    with pytest.raises(httpx.ReadTimeout):
        api.post(ORDERS, json=stop('AAPL', 100, '170.00', **{'external-identifier': 'tg-late'}), timeout=0.05)

    time.sleep(0.5)  # the fault's own real delay
    ids = [o.get('external-identifier') for o in paper_broker.admin.orders('5WT00001')]
    assert 'tg-late' in ids


def test_html_401(paper_broker: PaperBroker, api: httpx.Client) -> None:
    paper_broker.admin.fault('html_401')

    response = api.get('/customers/me')

    assert response.status_code == 401
    assert '<center>nginx</center>' in response.text


def test_malformed_is_a_200_with_broken_json(paper_broker: PaperBroker, api: httpx.Client) -> None:
    paper_broker.admin.fault('malformed', path='/orders/live$')

    response = api.get(f'{ORDERS}/live')

    assert response.status_code == 200
    with pytest.raises(ValueError, match=r'\w'):
        response.json()


def test_accept_then_drop_places_the_order_but_the_client_gets_a_transport_error(
    paper_broker: PaperBroker, api: httpx.Client, stop: Any
) -> None:
    paper_broker.admin.fault('accept_then_drop', method='POST', path='/orders$')

    with pytest.raises(httpx.TransportError):
        api.post(ORDERS, json=stop('AAPL', 100, '170.00', **{'external-identifier': 'tg-lost'}))

    placed = [o for o in paper_broker.admin.orders('5WT00001') if o.get('external-identifier') == 'tg-lost']
    assert [o['status'] for o in placed] == ['Live']
    log = paper_broker.admin.requests(method='POST', path='/orders$')
    assert (log[-1]['status'], log[-1]['fault'], log[-1]['dropped']) == (201, 'accept_then_drop', True)
    assert api.get('/customers/me').status_code == 200  # the next request works


def test_revoke_access_tokens_keeps_the_grant(paper_broker: PaperBroker, api: httpx.Client, relogin: Any) -> None:
    paper_broker.admin.fault('revoke_token', scope='access')

    assert api.get('/customers/me').status_code == 401
    relogin()
    assert api.get('/customers/me').status_code == 200


def test_revoke_grant_makes_the_refresh_token_invalid_grant(paper_broker: PaperBroker, api: httpx.Client) -> None:
    paper_broker.admin.fault('revoke_token')

    assert api.get('/customers/me').status_code == 401
    grant = {
        'grant_type': 'refresh_token',
        'client_secret': paper_broker.client_secret,
        'refresh_token': paper_broker.refresh_token,
    }
    refused = api.post('/oauth/token', json=grant)
    assert (refused.status_code, refused.json()['error_code']) == (400, 'invalid_grant')


def test_faults_are_listed_and_bad_specs_refused(paper_broker: PaperBroker) -> None:
    paper_broker.admin.fault('status', status=429, count=2, path='/positions')

    assert [(f['kind'], f['remaining'], f['status']) for f in paper_broker.admin.faults()] == [('status', 2, 429)]
    with pytest.raises(AdminError, match='unknown fault kind'):
        paper_broker.admin.fault('gremlins')


def test_status_fault_can_refuse_a_websocket_upgrade(paper_broker: PaperBroker) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    paper_broker.admin.fault('status', method='WEBSOCKET', path='/dxlink', status=502)

    with pytest.raises(InvalidStatus) as caught:
        connect(paper_broker.dxlink_url, open_timeout=5)
    assert caught.value.response.status_code == 502
