"""Token provider: shared cache, refresh margin, single-flight refresh, transient vs definitive failures."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest
import respx
from pydantic import SecretStr

from tastyguard.broker import (
    AccessToken,
    BreakerTrip,
    BrokerStats,
    MemoryTokenCache,
    OAuthCredentials,
    ReauthorizationRequired,
    RetryPolicy,
    TokenCache,
    TokenEndpointNotFound,
    TokenProvider,
    TokenRefreshError,
)
from tests.unit.broker.support import ACCESS_PREFIX, CLIENT_SECRET, REFRESH_TOKEN, SANDBOX, FakeTime

pytestmark = pytest.mark.unit

TOKEN_RETRY = RetryPolicy(max_attempts=3, base_delay=0.5, max_delay=4.0, max_total_wait=10.0)


@pytest.fixture
def http(router: respx.Router) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=SANDBOX, transport=httpx.MockTransport(router.handler)) as client:
        yield client


@pytest.fixture
def cache(fake_time: FakeTime) -> MemoryTokenCache:
    return MemoryTokenCache(fake_time.now)


def provider(
    http: httpx.Client,
    cache: TokenCache,
    fake_time: FakeTime,
    creds: OAuthCredentials | None = None,
    *,
    sleep: Callable[[float], None] | None = None,
    stats: BrokerStats | None = None,
) -> TokenProvider:
    return TokenProvider(
        creds or OAuthCredentials(client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN),
        cache,
        http,
        wall_clock=fake_time.now,
        clock=fake_time.monotonic,
        sleep=sleep or fake_time.sleep,
        rng=random.Random(1),
        retry=TOKEN_RETRY,
        stats=stats,
    )


def token_route(router: respx.Router) -> respx.Route:
    return router.routes['token']


def test_refresh_posts_the_refresh_grant_as_json_without_authorization(
    router: respx.Router, http: httpx.Client, cache: MemoryTokenCache, fake_time: FakeTime
) -> None:
    token = provider(http, cache, fake_time).token()
    request = token_route(router).calls.last.request
    assert json.loads(request.content) == {
        'grant_type': 'refresh_token',
        'client_secret': CLIENT_SECRET,
        'refresh_token': REFRESH_TOKEN,
    }
    assert 'authorization' not in request.headers
    assert token.value.get_secret_value() == f'{ACCESS_PREFIX}1'
    assert token.expires_at == fake_time.now() + timedelta(seconds=900)
    assert cache.load() == token


def test_scopes_are_sent_when_configured(
    router: respx.Router, http: httpx.Client, cache: MemoryTokenCache, fake_time: FakeTime
) -> None:
    creds = OAuthCredentials(client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN, scopes=('read', 'trade'))
    provider(http, cache, fake_time, creds).token()
    assert json.loads(token_route(router).calls.last.request.content)['scope'] == 'read trade'


def test_cached_token_is_reused_until_sixty_seconds_before_expiry(
    router: respx.Router, http: httpx.Client, cache: MemoryTokenCache, fake_time: FakeTime
) -> None:
    tokens = provider(http, cache, fake_time)
    first = tokens.token()
    fake_time.advance(839)  # 61 s left
    assert tokens.token() is first
    fake_time.advance(2)  # 59 s left
    second = tokens.token()
    assert not second.same_as(first)
    assert token_route(router).call_count == 2


def test_missing_expires_in_means_fifteen_minutes(
    router: respx.Router, http: httpx.Client, cache: MemoryTokenCache, fake_time: FakeTime
) -> None:
    token_route(router).mock(side_effect=None, return_value=httpx.Response(200, json={'access_token': 'at-xyz-123'}))
    assert provider(http, cache, fake_time).token().seconds_left(fake_time.now()) == 900


def test_processes_sharing_the_cache_mint_one_token(
    router: respx.Router, http: httpx.Client, cache: MemoryTokenCache, fake_time: FakeTime
) -> None:
    a, b = provider(http, cache, fake_time), provider(http, cache, fake_time)
    assert a.token().same_as(b.token())
    assert token_route(router).call_count == 1


def test_while_another_process_refreshes_a_still_valid_token_is_used(
    router: respx.Router, http: httpx.Client, cache: MemoryTokenCache, fake_time: FakeTime
) -> None:
    old = AccessToken(SecretStr('at-old-token-0001'), fake_time.now() + timedelta(seconds=30))
    cache.store(old)
    assert cache.try_lock('other-process', 15)
    assert provider(http, cache, fake_time).token() is old
    assert token_route(router).call_count == 0
    assert fake_time.sleeps == []


def test_with_no_valid_token_the_loser_waits_and_reloads(
    router: respx.Router, http: httpx.Client, cache: MemoryTokenCache, fake_time: FakeTime
) -> None:
    assert cache.try_lock('other-process', 15)
    minted = AccessToken(SecretStr('at-from-other-process'), fake_time.now() + timedelta(seconds=900))
    real_sleep = fake_time.sleep

    def sleep(seconds: float) -> None:
        real_sleep(seconds)
        if len(fake_time.sleeps) == 3:
            cache.store(minted)  # the other process finishes its refresh
            cache.unlock('other-process')

    assert provider(http, cache, fake_time, sleep=sleep).token() is minted
    assert token_route(router).call_count == 0


def test_a_dead_lock_holder_is_taken_over_after_the_lock_ttl(
    router: respx.Router, http: httpx.Client, cache: MemoryTokenCache, fake_time: FakeTime
) -> None:
    assert cache.try_lock('crashed-process', 15)
    tokens = TokenProvider(
        OAuthCredentials(client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN),
        cache,
        http,
        wall_clock=fake_time.now,
        clock=fake_time.monotonic,
        sleep=fake_time.sleep,
        lock_ttl=15,
        lock_wait=60,
    )
    assert tokens.token().value.get_secret_value() == f'{ACCESS_PREFIX}1'
    assert 15 <= sum(fake_time.sleeps) <= 16


def test_waiting_too_long_for_another_refresher_is_a_token_refresh_error(
    http: httpx.Client, cache: MemoryTokenCache, fake_time: FakeTime
) -> None:
    tokens = TokenProvider(
        OAuthCredentials(client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN),
        cache,
        http,
        wall_clock=fake_time.now,
        clock=fake_time.monotonic,
        sleep=fake_time.sleep,
        lock_ttl=600,
        lock_wait=5,
    )
    assert cache.try_lock('slow-process', 600)
    with pytest.raises(TokenRefreshError, match='waiting for another process'):
        tokens.token()


@pytest.mark.parametrize(
    'body',
    [
        {'error_code': 'invalid_grant', 'error_description': 'Grant revoked'},
        {'error': 'invalid_grant', 'error_description': 'Grant revoked'},
        {'error_code': 'invalid_client', 'error_description': 'Bad client secret'},
    ],
)
def test_a_definitive_failure_trips_the_breaker_for_everyone(
    router: respx.Router, http: httpx.Client, cache: MemoryTokenCache, fake_time: FakeTime, body: dict[str, str]
) -> None:
    token_route(router).mock(side_effect=None, return_value=httpx.Response(400, json=body))
    with pytest.raises(ReauthorizationRequired, match='new grant') as caught:
        provider(http, cache, fake_time).token()
    assert caught.value.code == 'reauthorization_required'
    trip = cache.breaker()
    assert trip is not None and body.get('error_code', body.get('error')) in trip.reason
    # Any other process sharing the cache refuses without calling the token endpoint.
    with pytest.raises(ReauthorizationRequired, match='stopped since'):
        provider(http, cache, fake_time).token()
    assert token_route(router).call_count == 1


def test_resetting_the_breaker_allows_refreshing_again(
    router: respx.Router, http: httpx.Client, cache: MemoryTokenCache, fake_time: FakeTime
) -> None:
    cache.trip_breaker(BreakerTrip('invalid_grant: revoked', fake_time.now()))
    tokens = provider(http, cache, fake_time)
    with pytest.raises(ReauthorizationRequired):
        tokens.token()
    cache.reset_breaker()
    assert tokens.token().value.get_secret_value() == f'{ACCESS_PREFIX}1'


def test_the_sandbox_not_a_customer_glitch_is_retried_not_tripped(
    router: respx.Router, http: httpx.Client, cache: MemoryTokenCache, fake_time: FakeTime
) -> None:
    glitch = httpx.Response(
        400, json={'error_code': 'invalid_request', 'error_description': 'User is not a TastyTrade customer'}
    )
    ok = httpx.Response(200, json={'access_token': 'at-after-glitch-1', 'expires_in': 900})
    token_route(router).mock(side_effect=[glitch, ok])
    stats = BrokerStats()
    assert provider(http, cache, fake_time, stats=stats).token().value.get_secret_value() == 'at-after-glitch-1'
    assert cache.breaker() is None
    assert len(fake_time.sleeps) == 1 and 0 <= fake_time.sleeps[0] <= 0.5
    assert (stats.token_refresh_failures, stats.token_refreshes) == (1, 1)


@pytest.mark.parametrize(
    'failure',
    [
        httpx.Response(503, json={'error': {'code': 'unavailable', 'message': 'try later'}}),
        httpx.Response(401, text='<html><head><title>401 Authorization Required</title></head></html>'),
        httpx.Response(200, json={'token_type': 'Bearer'}),
        httpx.Response(200, text='not json at all'),
        httpx.ReadTimeout('timed out'),
        httpx.ConnectError('refused'),
    ],
    ids=['503', 'html-401', 'no-access-token', 'not-json', 'timeout', 'connect'],
)
def test_transient_failures_exhaust_into_token_refresh_error_without_tripping(
    router: respx.Router,
    http: httpx.Client,
    cache: MemoryTokenCache,
    fake_time: FakeTime,
    failure: httpx.Response | Exception,
) -> None:
    if isinstance(failure, Exception):
        token_route(router).mock(side_effect=failure)
    else:
        token_route(router).mock(side_effect=None, return_value=failure)
    with pytest.raises(TokenRefreshError, match='after 3 attempts'):
        provider(http, cache, fake_time).token()
    assert token_route(router).call_count == 3
    assert cache.breaker() is None
    assert len(fake_time.sleeps) == 2


def test_token_endpoint_429_honours_retry_after(
    router: respx.Router, http: httpx.Client, cache: MemoryTokenCache, fake_time: FakeTime
) -> None:
    token_route(router).side_effect = [
        httpx.Response(429, headers={'Retry-After': '2'}, json={}),
        httpx.Response(200, json={'access_token': 'at-after-429-1'}),
    ]
    assert provider(http, cache, fake_time).token().value.get_secret_value() == 'at-after-429-1'
    assert 2.0 <= fake_time.sleeps[0] <= 2.2


def test_invalidate_prefers_a_token_another_process_already_refreshed(
    router: respx.Router, http: httpx.Client, cache: MemoryTokenCache, fake_time: FakeTime
) -> None:
    tokens = provider(http, cache, fake_time)
    rejected = tokens.token()
    newer = AccessToken(SecretStr('at-refreshed-elsewhere'), fake_time.now() + timedelta(seconds=900))
    cache.store(newer)
    assert tokens.invalidate(rejected) is newer
    assert token_route(router).call_count == 1


def test_invalidate_refreshes_when_the_cache_still_holds_the_rejected_token(
    router: respx.Router, http: httpx.Client, cache: MemoryTokenCache, fake_time: FakeTime
) -> None:
    tokens = provider(http, cache, fake_time)
    rejected = tokens.token()
    replacement = tokens.invalidate(rejected)
    assert not replacement.same_as(rejected)
    assert cache.load() is replacement
    assert token_route(router).call_count == 2


def test_access_token_requires_an_aware_expiry_and_hides_its_value(fake_time: FakeTime) -> None:
    token = AccessToken(SecretStr('at-hidden-value-99'), fake_time.now())
    assert 'at-hidden-value-99' not in repr(token)
    assert token.authorization == 'Bearer at-hidden-value-99'
    with pytest.raises(ValueError, match='aware'):
        AccessToken(SecretStr('x'), fake_time.now().replace(tzinfo=None))


def test_memory_cache_is_a_token_cache_and_keeps_the_first_trip(fake_time: FakeTime) -> None:
    cache = MemoryTokenCache(fake_time.now)
    assert isinstance(cache, TokenCache)
    cache.trip_breaker(BreakerTrip('first', fake_time.now()))
    cache.trip_breaker(BreakerTrip('second', fake_time.now()))
    assert cache.breaker() == BreakerTrip('first', fake_time.now())
    assert cache.try_lock('a', 10) and not cache.try_lock('b', 10) and cache.try_lock('a', 10)
    cache.unlock('b')
    assert not cache.try_lock('b', 10)
    cache.unlock('a')
    assert cache.try_lock('b', 10)


@pytest.mark.parametrize('status', [404, 405])
def test_a_missing_token_endpoint_is_a_configuration_error_naming_the_url(
    router: respx.Router, http: httpx.Client, cache: MemoryTokenCache, fake_time: FakeTime, status: int
) -> None:
    # Given a base URL with no token endpoint (e.g. a paper broker's URL with /v1 appended)
    token_route(router).mock(side_effect=None, return_value=httpx.Response(status, json={'error': {'code': 'x'}}))
    # When a token is needed
    with pytest.raises(TokenEndpointNotFound) as raised:
        provider(http, cache, fake_time).token()
    # Then it is not retried as transient, names the URL that failed, and trips nothing
    assert token_route(router).call_count == 1
    assert f'{SANDBOX}/oauth/token' in str(raised.value)
    assert 'next run retries' not in str(raised.value)
    assert fake_time.sleeps == []
    assert cache.breaker() is None
