from __future__ import annotations

from datetime import timedelta

import boto3
import pytest
from pydantic import SecretStr

from tastyguard.broker.tokens import AccessToken, BreakerTrip, TokenCache
from tastyguard.redact import forget_secrets, scrub
from tastyguard.store.table import StateTable
from tastyguard.store.tokens import AwsTokenCache
from tests.clock import FakeClock

pytestmark = pytest.mark.integration


def _cache(state: StateTable) -> AwsTokenCache:
    return AwsTokenCache(
        state, boto3.client('secretsmanager'), secret_id='tastyguard/access-token', environment='paper'
    )


def _token(clock: FakeClock, value: str = 'access-token-value-1', minutes: int = 15) -> AccessToken:
    return AccessToken(value=SecretStr(value), expires_at=clock() + timedelta(minutes=minutes))


def test_it_satisfies_the_token_cache_protocol(state: StateTable) -> None:
    assert isinstance(_cache(state), TokenCache)


def test_a_token_stored_by_one_process_is_loaded_by_another(state: StateTable, clock: FakeClock) -> None:
    # Given the first Lambda minted and stored a token
    first, second = _cache(state), _cache(state)
    assert second.load() is None
    first.store(_token(clock))
    # Then a second Lambda (fresh process) loads the very same token
    loaded = second.load()
    assert loaded is not None
    assert loaded.same_as(_token(clock))


def test_the_in_memory_copy_avoids_a_secrets_manager_call_while_fresh(state: StateTable, clock: FakeClock) -> None:
    first, second = _cache(state), _cache(state)
    first.store(_token(clock, 'token-a-0000000'))
    assert second.load() is not None
    # Another process refreshed meanwhile; our copy is still fresh, so we keep using it
    first.store(_token(clock, 'token-b-0000000'))
    assert second.load().value.get_secret_value() == 'token-a-0000000'  # type: ignore[union-attr]
    # Close to expiry we read the secret again and pick up the newer token
    clock.advance(minutes=14)
    assert second.load().value.get_secret_value() == 'token-b-0000000'  # type: ignore[union-attr]


def test_only_one_process_holds_the_refresh_lock(state: StateTable, clock: FakeClock) -> None:
    first, second = _cache(state), _cache(state)
    assert first.try_lock('a', 15)
    assert not second.try_lock('b', 15)
    first.unlock('a')
    assert second.try_lock('b', 15)
    clock.advance(seconds=16)
    assert first.try_lock('a', 15)  # an expired lock is taken over


def test_a_tripped_breaker_is_seen_by_every_process_and_blocks_the_lock(state: StateTable, clock: FakeClock) -> None:
    first, second = _cache(state), _cache(state)
    assert second.breaker() is None
    first.trip_breaker(BreakerTrip(reason='invalid_grant: Grant revoked', tripped_at=clock()))
    first.trip_breaker(BreakerTrip(reason='a second reason', tripped_at=clock()))
    assert not second.try_lock('b', 15)
    trip = second.breaker()
    assert trip is not None
    assert trip.reason == 'invalid_grant: Grant revoked'
    # After re-authorization a person resets it, and the old token is forgotten
    second.reset_breaker()
    assert first.breaker() is None  # an open breaker is never memoised, so the reset is seen at once
    assert _cache(state).breaker() is None
    assert _cache(state).load() is None


def test_loaded_tokens_are_registered_for_log_scrubbing(state: StateTable, clock: FakeClock) -> None:
    forget_secrets()
    _cache(state).store(_token(clock, 'very-secret-access-token'))
    forget_secrets()
    _cache(state).load()
    assert scrub('Authorization: Bearer very-secret-access-token') == 'Authorization: Bearer ***'
    forget_secrets()
