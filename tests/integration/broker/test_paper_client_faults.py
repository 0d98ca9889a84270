"""Every fault kind of the paper broker, and what the client does about it."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from paperbroker.server import PaperBroker
from tastyguard.broker import (
    AmbiguousOrderError,
    AuthenticationError,
    BrokerTimeoutError,
    MalformedResponseError,
    RateLimitedError,
    ReauthorizationRequired,
    RetryPolicy,
    ServerError,
    TastytradeClient,
)
from tests.integration.broker.support import ACCOUNT, ko_stop, orders_with

pytestmark = pytest.mark.integration

POSITIONS = f'/accounts/{ACCOUNT}/positions$'
ORDERS = f'/accounts/{ACCOUNT}/orders$'


def api_requests(paper_broker: PaperBroker, method: str, path: str) -> list[dict[str, object]]:
    return paper_broker.admin.requests(method=method, path=path)


def impatient(make_client: Callable[..., TastytradeClient], timeout: float, **options: object) -> TastytradeClient:
    """A client with a short timeout whose access token is already cached (so only the API call is timed)."""
    warm = make_client()
    warm.access_token()
    return make_client(timeout=timeout, token_cache=warm.token_cache, **options)


# -- 429 -----------------------------------------------------------------------------------------------


def test_a_429_storm_with_retry_after_is_waited_out(
    tt: TastytradeClient, paper_broker: PaperBroker, sleeps: list[float]
) -> None:
    paper_broker.admin.fault('status', method='GET', path=POSITIONS, count=3, status=429, retry_after=2)
    assert tt.positions(ACCOUNT)
    assert len(sleeps) == 3 and all(2.0 <= s <= 2.2 for s in sleeps)
    assert [r['status'] for r in api_requests(paper_broker, 'GET', POSITIONS)] == [429, 429, 429, 200]
    assert tt.stats.rate_limited_responses == 3


def test_a_429_storm_without_retry_after_backs_off_then_gives_up(
    tt: TastytradeClient, paper_broker: PaperBroker, sleeps: list[float]
) -> None:
    paper_broker.admin.fault('status', method='GET', path=POSITIONS, count=10, status=429)
    with pytest.raises(RateLimitedError) as caught:
        tt.positions(ACCOUNT)
    assert caught.value.status == 429 and caught.value.retry_after is None
    assert len(api_requests(paper_broker, 'GET', POSITIONS)) == 4
    assert len(sleeps) == 3 and all(0 <= s <= 0.25 * 2**i for i, s in enumerate(sleeps))


def test_a_429_on_an_order_post_is_resent_and_places_one_order(tt: TastytradeClient, paper_broker: PaperBroker) -> None:
    paper_broker.admin.fault('status', method='POST', path=ORDERS, count=1, status=429, retry_after=1)
    tt.place_order(ACCOUNT, ko_stop('tg-it-429-1'))
    assert len(orders_with(paper_broker, 'tg-it-429-1')) == 1


# -- 5xx -----------------------------------------------------------------------------------------------


def test_a_5xx_on_a_read_is_retried(tt: TastytradeClient, paper_broker: PaperBroker) -> None:
    paper_broker.admin.fault('status', method='GET', path=POSITIONS, count=2, status=503)
    assert tt.positions(ACCOUNT)
    assert tt.stats.server_errors == 2 and tt.stats.retries == 2


def test_persistent_5xx_on_a_read_is_a_server_error(tt: TastytradeClient, paper_broker: PaperBroker) -> None:
    paper_broker.admin.fault('status', method='GET', path=POSITIONS, count=-1, status=500)
    with pytest.raises(ServerError) as caught:
        tt.positions(ACCOUNT)
    assert caught.value.status == 500


def test_a_5xx_on_an_order_post_is_ambiguous_and_the_lookup_settles_it(
    tt: TastytradeClient, paper_broker: PaperBroker
) -> None:
    paper_broker.admin.fault('status', method='POST', path=ORDERS, count=1, status=502, html=True)
    with pytest.raises(AmbiguousOrderError) as caught:
        tt.place_order(ACCOUNT, ko_stop('tg-it-5xx-1'))
    assert caught.value.external_identifier == 'tg-it-5xx-1' and caught.value.status == 502
    assert len(api_requests(paper_broker, 'POST', ORDERS)) == 1  # never resent
    # This 502 came from in front of the API: the lookup shows nothing was placed, so it is safe to send again.
    assert tt.find_order_by_external_id(ACCOUNT, 'tg-it-5xx-1') is None
    assert orders_with(paper_broker, 'tg-it-5xx-1') == []


# -- slow responses ------------------------------------------------------------------------------------


def test_a_slow_read_times_out_and_is_retried(
    make_client: Callable[..., TastytradeClient], paper_broker: PaperBroker
) -> None:
    tt = impatient(make_client, 0.3)
    paper_broker.admin.fault('delay', method='GET', path=POSITIONS, count=1, seconds=1.0)
    assert tt.positions(ACCOUNT)
    assert tt.stats.timeouts == 1 and tt.stats.retries == 1


def test_a_read_that_is_always_slow_is_a_timeout_error(
    make_client: Callable[..., TastytradeClient], paper_broker: PaperBroker
) -> None:
    tt = impatient(make_client, 0.2, retry=RetryPolicy(max_attempts=2))
    paper_broker.admin.fault('delay', method='GET', path=POSITIONS, count=2, seconds=0.6)
    with pytest.raises(BrokerTimeoutError):
        tt.positions(ACCOUNT)


def test_a_slow_order_post_is_ambiguous_and_exactly_one_order_exists(
    make_client: Callable[..., TastytradeClient], paper_broker: PaperBroker
) -> None:
    tt = impatient(make_client, 0.3)
    paper_broker.admin.fault('delay', method='POST', path=ORDERS, count=1, seconds=1.0, phase='after')
    with pytest.raises(AmbiguousOrderError) as caught:
        tt.place_order(ACCOUNT, ko_stop('tg-it-slow-1'))
    assert caught.value.operation == 'place_order'
    found = tt.find_order_by_external_id(ACCOUNT, 'tg-it-slow-1')
    assert found is not None and found.external_identifier == 'tg-it-slow-1'
    assert len(orders_with(paper_broker, 'tg-it-slow-1')) == 1
    assert len(api_requests(paper_broker, 'POST', ORDERS)) == 1


# -- HTML 401, malformed JSON --------------------------------------------------------------------------


def test_one_html_401_is_survived_by_refreshing(tt: TastytradeClient, paper_broker: PaperBroker) -> None:
    paper_broker.admin.fault('html_401', method='GET', path=POSITIONS, count=1)
    assert tt.positions(ACCOUNT)
    assert tt.stats.unauthorized_responses == 1 and tt.stats.token_refreshes == 2


def test_repeated_html_401s_explain_the_user_agent_rule(tt: TastytradeClient, paper_broker: PaperBroker) -> None:
    paper_broker.admin.fault('html_401', method='GET', path=POSITIONS, count=2)
    with pytest.raises(AuthenticationError) as caught:
        tt.positions(ACCOUNT)
    assert caught.value.status == 401 and 'User-Agent' in str(caught.value)
    assert 'HTML' in caught.value.message


def test_malformed_json_on_a_read_is_a_clear_error(tt: TastytradeClient, paper_broker: PaperBroker) -> None:
    paper_broker.admin.fault('malformed', method='GET', path=POSITIONS, count=1)
    with pytest.raises(MalformedResponseError, match='expected JSON') as caught:
        tt.positions(ACCOUNT)
    assert caught.value.status == 200 and caught.value.path == f'/accounts/{ACCOUNT}/positions'
    assert tt.positions(ACCOUNT)  # the next read is fine


def test_malformed_json_on_an_order_post_is_ambiguous(tt: TastytradeClient, paper_broker: PaperBroker) -> None:
    paper_broker.admin.fault('malformed', method='POST', path=ORDERS, count=1)
    with pytest.raises(AmbiguousOrderError) as caught:
        tt.place_order(ACCOUNT, ko_stop('tg-it-malformed-1'))
    assert isinstance(caught.value.__cause__, MalformedResponseError)
    assert len(api_requests(paper_broker, 'POST', ORDERS)) == 1


# -- tokens --------------------------------------------------------------------------------------------


def test_a_revoked_access_token_mid_run_is_replaced(tt: TastytradeClient, paper_broker: PaperBroker) -> None:
    tt.positions(ACCOUNT)
    paper_broker.admin.fault('revoke_token', method='GET', path=POSITIONS, count=1, scope='access')
    assert tt.positions(ACCOUNT)
    assert tt.stats.token_refreshes == 2 and tt.stats.unauthorized_responses == 1


def test_an_expired_access_token_is_replaced(tt: TastytradeClient, paper_broker: PaperBroker) -> None:
    tt.positions(ACCOUNT)
    paper_broker.admin.advance_clock(901)  # the broker's clock: our cached token still looks valid to us
    assert tt.positions(ACCOUNT)
    assert tt.stats.token_refreshes == 2


def test_a_revoked_grant_mid_run_trips_the_breaker_and_stops_refreshing(
    tt: TastytradeClient, make_client: Callable[..., TastytradeClient], paper_broker: PaperBroker
) -> None:
    tt.positions(ACCOUNT)
    paper_broker.admin.fault('revoke_token', method='GET', path=POSITIONS, count=1, scope='grant')
    with pytest.raises(ReauthorizationRequired, match='new grant'):
        tt.positions(ACCOUNT)
    assert tt.token_cache.breaker() is not None
    refreshes = len(api_requests(paper_broker, 'POST', '/oauth/token$'))
    # Every process sharing the cache now refuses without touching the token endpoint.
    other = make_client(token_cache=tt.token_cache)
    for client in (tt, other):
        with pytest.raises(ReauthorizationRequired):
            client.positions(ACCOUNT)
    assert len(api_requests(paper_broker, 'POST', '/oauth/token$')) == refreshes


# -- accept-then-drop: the order the issue is about ------------------------------------------------------


def test_accept_then_drop_on_an_order_post_leaves_exactly_one_order(
    tt: TastytradeClient, paper_broker: PaperBroker
) -> None:
    # Given the broker accepts the order but the connection drops before the answer arrives
    paper_broker.admin.fault('accept_then_drop', method='POST', path=ORDERS, count=1)
    # When tastyguard places a stop
    with pytest.raises(AmbiguousOrderError) as caught:
        tt.place_order(ACCOUNT, ko_stop('tg-it-drop-1'))
    # Then it does not resend, says what to look up, and the lookup finds the one order the broker holds
    error = caught.value
    assert (error.operation, error.account_number, error.external_identifier) == (
        'place_order',
        ACCOUNT,
        'tg-it-drop-1',
    )
    assert len(api_requests(paper_broker, 'POST', ORDERS)) == 1
    found = tt.find_order_by_external_id(ACCOUNT, error.external_identifier or '')
    assert found is not None and found.legs[0].symbol == 'KO'
    held = orders_with(paper_broker, 'tg-it-drop-1')
    assert len(held) == 1 and held[0]['id'] == found.id
    assert tt.stats.ambiguous_writes == 1


def test_accept_then_drop_on_a_cancel_is_ambiguous_and_the_order_is_cancelled_once(
    tt: TastytradeClient, paper_broker: PaperBroker
) -> None:
    placed = tt.place_order(ACCOUNT, ko_stop('tg-it-drop-2'))
    assert placed.order.id is not None
    paper_broker.admin.fault('accept_then_drop', method='DELETE', path=f'/orders/{placed.order.id}$', count=1)
    with pytest.raises(AmbiguousOrderError) as caught:
        tt.cancel_order(ACCOUNT, placed.order.id)
    assert caught.value.order_id == placed.order.id
    assert tt.get_order(ACCOUNT, placed.order.id).status.value in ('Cancel Requested', 'Cancelled')


# -- secrets -------------------------------------------------------------------------------------------


def test_no_secret_reaches_logs_reprs_or_errors_over_a_real_socket(
    tt: TastytradeClient, paper_broker: PaperBroker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx and httpcore included
    errors: list[BaseException] = []
    tt.positions(ACCOUNT)
    access_tokens = [tt.access_token().value.get_secret_value()]
    paper_broker.admin.fault('revoke_token', method='GET', path=POSITIONS, count=1, scope='access')
    tt.positions(ACCOUNT)  # 401, refresh, retry
    access_tokens.append(tt.access_token().value.get_secret_value())
    quote_token = tt.quote_token().token.get_secret_value()
    paper_broker.admin.fault('accept_then_drop', method='POST', path=ORDERS, count=1)
    try:
        tt.place_order(ACCOUNT, ko_stop('tg-it-secret-1'))
    except AmbiguousOrderError as exc:
        errors.append(exc)
    paper_broker.admin.fault('revoke_token', method='GET', path=POSITIONS, count=1, scope='grant')
    try:
        tt.positions(ACCOUNT)
    except ReauthorizationRequired as exc:
        errors.append(exc)
    assert len(errors) == 2 and access_tokens[0] != access_tokens[1]
    cached = tt.token_cache.load()
    texts = [caplog.text, repr(tt), repr(tt.token_cache), repr(cached), str(tt.stats.snapshot())]
    for exc in errors:
        chain: BaseException | None = exc
        while chain is not None:
            texts += [str(chain), repr(chain)]
            chain = chain.__cause__ or chain.__context__
    for secret in (paper_broker.client_secret, paper_broker.refresh_token, quote_token, *access_tokens):
        assert all(secret not in text for text in texts)
