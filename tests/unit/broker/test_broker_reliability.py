"""Retries, refreshes and the never-resend rule for order writes (respx, fake clock, no sleeping)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

from tastyguard.broker import (
    AmbiguousOrderError,
    AuthenticationError,
    BreakerTrip,
    BrokerConnectionError,
    BrokerTimeoutError,
    InstrumentType,
    MalformedResponseError,
    OrderAction,
    RateLimitedError,
    RateLimits,
    ReauthorizationRequired,
    ServerError,
    TastytradeClient,
    stop_order,
)
from tests.unit.broker.support import ACCESS_PREFIX, ACCOUNT, FakeTime, envelope, items, make_client

pytestmark = pytest.mark.unit

POSITIONS = f'/accounts/{ACCOUNT}/positions'
ORDERS = f'/accounts/{ACCOUNT}/orders'
OK_POSITIONS = httpx.Response(200, json=items([]))
ORDER = {
    'id': 77,
    'account-number': ACCOUNT,
    'status': 'Routed',
    'order-type': 'Stop',
    'external-identifier': 'tg-rel-1',
    'legs': [{'instrument-type': 'Equity', 'symbol': 'AAPL', 'action': 'Sell to Close', 'quantity': 10}],
}
PLACED = httpx.Response(201, json=envelope({'order': ORDER}))


def a_stop() -> Any:
    return stop_order(
        symbol='AAPL',
        instrument_type=InstrumentType.EQUITY,
        action=OrderAction.SELL_TO_CLOSE,
        quantity=10,
        stop_trigger=Decimal('150.00'),
        external_identifier='tg-rel-1',
    )


def unauthorized() -> httpx.Response:
    return httpx.Response(401, json={'error': {'code': 'unauthorized', 'message': 'Token is invalid or expired'}})


# -- 401 -----------------------------------------------------------------------------------------------


def test_a_401_refreshes_once_and_resends(router: respx.Router, client: TastytradeClient) -> None:
    route = router.get(POSITIONS).mock(side_effect=[unauthorized(), OK_POSITIONS])
    assert client.positions(ACCOUNT) == []
    assert [c.request.headers['authorization'] for c in route.calls] == [
        f'Bearer {ACCESS_PREFIX}1',
        f'Bearer {ACCESS_PREFIX}2',
    ]
    stats = client.stats.snapshot()
    assert stats['token_refreshes'] == 2 and stats['unauthorized_responses'] == 1 and stats['retries'] == 0


def test_a_second_401_is_an_authentication_error(router: respx.Router, client: TastytradeClient) -> None:
    route = router.get(POSITIONS).mock(side_effect=[unauthorized(), unauthorized(), OK_POSITIONS])
    with pytest.raises(AuthenticationError, match='Token is invalid'):
        client.positions(ACCOUNT)
    assert route.call_count == 2


def test_an_html_401_is_explained(router: respx.Router, client: TastytradeClient) -> None:
    html = httpx.Response(401, html='<html><title>401 Authorization Required</title><center>nginx</center></html>')
    router.get(POSITIONS).mock(side_effect=[html, html])
    with pytest.raises(AuthenticationError, match='User-Agent') as caught:
        client.positions(ACCOUNT)
    assert caught.value.status == 401


def test_a_401_on_an_order_write_is_resent_after_refreshing(router: respx.Router, client: TastytradeClient) -> None:
    route = router.post(ORDERS).mock(side_effect=[unauthorized(), PLACED])
    assert client.place_order(ACCOUNT, a_stop()).order.id == 77
    assert route.call_count == 2


def test_an_open_breaker_stops_api_calls(router: respx.Router, client: TastytradeClient, fake_time: FakeTime) -> None:
    client.token_cache.trip_breaker(BreakerTrip('invalid_grant: revoked', fake_time.now()))
    route = router.get(POSITIONS).mock(return_value=OK_POSITIONS)
    with pytest.raises(ReauthorizationRequired):
        client.positions(ACCOUNT)
    assert route.call_count == 0


def test_a_revoked_grant_mid_run_trips_the_breaker(router: respx.Router, client: TastytradeClient) -> None:
    router.get(POSITIONS).mock(side_effect=[OK_POSITIONS, unauthorized()])
    client.positions(ACCOUNT)
    router.routes['token'].mock(
        side_effect=None,
        return_value=httpx.Response(400, json={'error_code': 'invalid_grant', 'error_description': 'revoked'}),
    )
    with pytest.raises(ReauthorizationRequired):
        client.positions(ACCOUNT)
    assert client.token_cache.breaker() is not None


# -- 429 -----------------------------------------------------------------------------------------------


def test_429_with_retry_after_waits_that_long(
    router: respx.Router, client: TastytradeClient, fake_time: FakeTime
) -> None:
    limited = httpx.Response(429, headers={'Retry-After': '3'}, json={'error': {'code': 'too_many', 'message': 'slow'}})
    router.get(POSITIONS).mock(side_effect=[limited, OK_POSITIONS])
    assert client.positions(ACCOUNT) == []
    assert len(fake_time.sleeps) == 1 and 3 <= fake_time.sleeps[0] <= 3.3
    stats = client.stats.snapshot()
    assert stats['rate_limited_responses'] == 1 and stats['retries'] == 1


def test_a_429_storm_without_retry_after_backs_off_then_raises(
    router: respx.Router, client: TastytradeClient, fake_time: FakeTime
) -> None:
    route = router.get(POSITIONS).mock(return_value=httpx.Response(429, text='Too Many Requests'))
    with pytest.raises(RateLimitedError) as caught:
        client.positions(ACCOUNT)
    assert route.call_count == 4 and len(fake_time.sleeps) == 3
    assert all(0 <= s <= 0.25 * 2**i for i, s in enumerate(fake_time.sleeps))
    assert caught.value.status == 429 and caught.value.retry_after is None


def test_a_retry_after_longer_than_the_cap_raises_at_once(router: respx.Router, client: TastytradeClient) -> None:
    router.get(POSITIONS).mock(return_value=httpx.Response(429, headers={'Retry-After': '3600'}))
    with pytest.raises(RateLimitedError) as caught:
        client.positions(ACCOUNT)
    assert caught.value.retry_after == 3600


def test_a_429_on_an_order_write_is_safe_to_resend(router: respx.Router, client: TastytradeClient) -> None:
    route = router.post(ORDERS).mock(side_effect=[httpx.Response(429, headers={'Retry-After': '1'}), PLACED])
    assert client.place_order(ACCOUNT, a_stop()).order.id == 77
    assert route.call_count == 2


# -- 5xx, timeouts, dropped connections on reads -------------------------------------------------------


def test_a_read_is_retried_after_a_5xx(router: respx.Router, client: TastytradeClient) -> None:
    route = router.get(POSITIONS).mock(side_effect=[httpx.Response(503, text='busy'), OK_POSITIONS])
    assert client.positions(ACCOUNT) == []
    assert route.call_count == 2 and client.stats.server_errors == 1


def test_persistent_5xx_raises_a_server_error_with_the_api_code(router: respx.Router, client: TastytradeClient) -> None:
    router.get(POSITIONS).mock(
        return_value=httpx.Response(500, json={'error': {'code': 'internal_server_error', 'message': 'support id 42'}})
    )
    with pytest.raises(ServerError, match='support id 42') as caught:
        client.positions(ACCOUNT)
    assert caught.value.code == 'internal_server_error'


@pytest.mark.parametrize(
    ('failure', 'error'),
    [(httpx.ReadTimeout('slow'), BrokerTimeoutError), (httpx.RemoteProtocolError('dropped'), BrokerConnectionError)],
)
def test_read_timeouts_and_drops_are_retried_then_typed(
    router: respx.Router, client: TastytradeClient, failure: Exception, error: type[Exception]
) -> None:
    route = router.get(POSITIONS).mock(side_effect=[failure, OK_POSITIONS])
    assert client.positions(ACCOUNT) == []
    route.mock(side_effect=failure)
    with pytest.raises(error):
        client.positions(ACCOUNT)
    assert route.call_count == 2 + 4


def test_total_wait_is_capped(router: respx.Router, fake_time: FakeTime) -> None:
    from tastyguard.broker import RetryPolicy

    with make_client(router, fake_time, retry=RetryPolicy(max_attempts=50, max_total_wait=5.0)) as tt:
        router.get(POSITIONS).mock(return_value=httpx.Response(429, headers={'Retry-After': '2'}))
        with pytest.raises(RateLimitedError):
            tt.positions(ACCOUNT)
    assert sum(fake_time.sleeps) <= 5.0


def test_html_on_a_2xx_read_is_a_clear_malformed_response(router: respx.Router, client: TastytradeClient) -> None:
    router.get(POSITIONS).mock(return_value=httpx.Response(200, html='<html><title>Maintenance</title></html>'))
    with pytest.raises(MalformedResponseError, match="HTML page: 'Maintenance'"):
        client.positions(ACCOUNT)


def test_malformed_json_on_a_read_is_not_retried(router: respx.Router, client: TastytradeClient) -> None:
    route = router.get(POSITIONS).mock(return_value=httpx.Response(200, content=b'{"data": {"items": [tru'))
    with pytest.raises(MalformedResponseError, match='do not parse'):
        client.positions(ACCOUNT)
    assert route.call_count == 1


# -- order writes are never resent blindly -------------------------------------------------------------


@pytest.mark.parametrize(
    'outcome',
    [
        httpx.Response(500, json={'error': {'code': 'internal_server_error', 'message': 'oops'}}),
        httpx.Response(502, html='<html><title>502 Bad Gateway</title></html>'),
        httpx.ReadTimeout('no answer'),
        httpx.WriteTimeout('stuck sending'),
        httpx.RemoteProtocolError('Server disconnected without sending a response.'),
        httpx.ReadError('connection reset'),
        httpx.Response(201, content=b'{"data": {"order": '),
        httpx.Response(201, html='<html>ok?</html>'),
        httpx.Response(201, content=b''),
        httpx.Response(201, json={'data': {'order': {'status': 'Routed'}}}),
        httpx.Response(201, json=envelope({'order': {k: v for k, v in ORDER.items() if k != 'id'}})),
    ],
    ids=[
        '500',
        '502-html',
        'read-timeout',
        'write-timeout',
        'dropped',
        'reset',
        'truncated-json',
        'html-201',
        'empty-201',
        'wrong-shape',
        'no-id',
    ],
)
def test_an_ambiguous_order_post_raises_and_is_sent_exactly_once(
    router: respx.Router, client: TastytradeClient, outcome: httpx.Response | Exception
) -> None:
    route = router.post(ORDERS).mock(side_effect=[outcome, PLACED])
    with pytest.raises(AmbiguousOrderError) as caught:
        client.place_order(ACCOUNT, a_stop())
    assert route.call_count == 1
    error = caught.value
    assert error.external_identifier == 'tg-rel-1' and error.operation == 'place_order'
    assert error.account_number == ACCOUNT and error.__cause__ is not None
    assert client.stats.ambiguous_writes == 1


def test_a_connection_refused_before_sending_a_write_is_retried(router: respx.Router, client: TastytradeClient) -> None:
    route = router.post(ORDERS).mock(side_effect=[httpx.ConnectError('refused'), httpx.ConnectTimeout('syn'), PLACED])
    assert client.place_order(ACCOUNT, a_stop()).order.id == 77
    assert route.call_count == 3


@pytest.mark.parametrize('method', ['put', 'patch', 'delete'])
def test_ambiguous_replace_edit_and_cancel_carry_the_order_id(
    router: respx.Router, client: TastytradeClient, method: str
) -> None:
    route = getattr(router, method)(f'{ORDERS}/11').mock(side_effect=httpx.ReadTimeout('slow'))
    with pytest.raises(AmbiguousOrderError) as caught:
        if method == 'put':
            client.replace_order(ACCOUNT, 11, a_stop())
        elif method == 'patch':
            client.edit_order(ACCOUNT, 11, stop_trigger=Decimal('149'))
        else:
            client.cancel_order(ACCOUNT, 11)
    assert caught.value.order_id == 11 and route.call_count == 1


def test_a_dry_run_is_a_read_and_is_retried(router: respx.Router, client: TastytradeClient) -> None:
    dry = envelope({'order': {**ORDER, 'id': None, 'updated-at': 0}})
    route = router.post(f'{ORDERS}/dry-run').mock(
        side_effect=[httpx.ReadTimeout('slow'), httpx.Response(200, json=dry)]
    )
    assert client.dry_run_order(ACCOUNT, a_stop()).order.id is None
    assert route.call_count == 2


# -- rate limiting inside the client -------------------------------------------------------------------


def test_the_client_spaces_calls_to_a_limited_family(router: respx.Router, fake_time: FakeTime) -> None:
    router.get(POSITIONS).mock(return_value=OK_POSITIONS)
    with make_client(router, fake_time, rate_limits=RateLimits()) as tt:
        for _ in range(3):
            tt.positions(ACCOUNT)
        stats = tt.stats.snapshot()
    assert stats['rate_limit_waits'] == 2 and stats['calls'] == {'positions': 3}
    assert fake_time.sleeps == [pytest.approx(1.0), pytest.approx(1.0)]
