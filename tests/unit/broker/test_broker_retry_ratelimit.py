"""Backoff, Retry-After parsing, retry budgets and the per-family token buckets (fake clock, no sleeping)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tastyguard.broker import BrokerStats, RateLimiter, RateLimits, RetryPolicy, endpoint_family, parse_retry_after
from tastyguard.broker.ratelimit import TokenBucket
from tastyguard.broker.retry import RetryBudget
from tests.unit.broker.support import FakeTime

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@given(retry=st.integers(0, 40), seed=st.integers(0, 2**32))
def test_full_jitter_backoff_stays_between_zero_and_the_capped_exponential(retry: int, seed: int) -> None:
    policy = RetryPolicy(base_delay=0.25, max_delay=8.0)
    delay = policy.backoff(retry, random.Random(seed))
    assert 0 <= delay <= min(8.0, 0.25 * 2**retry)


@pytest.mark.parametrize(
    ('header', 'expected'),
    [
        ('3', 3.0),
        ('0.5', 0.5),
        (' 7 ', 7.0),
        ('-4', 0.0),
        ('Fri, 20 Nov 2026 15:00:30 GMT', 30.0),
        ('Fri, 20 Nov 2026 14:59:00 GMT', 0.0),
        ('soon', None),
        ('', None),
        (None, None),
        ('nan', None),
    ],
)
def test_retry_after_accepts_seconds_and_http_dates(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, NOW) == expected


def test_budget_gives_up_after_max_attempts() -> None:
    budget = RetryBudget(RetryPolicy(max_attempts=3), random.Random(1), lambda _: None)
    delays = []
    for _ in range(5):
        budget.start_attempt()
        delay = budget.next_delay()
        if delay is None:
            break
        delays.append(delay)
        budget.wait(delay)
    assert len(delays) == 2 and budget.attempts == 3


def test_budget_gives_up_before_exceeding_the_total_wait() -> None:
    budget = RetryBudget(RetryPolicy(max_attempts=10, max_total_wait=5.0), random.Random(1), lambda _: None)
    budget.start_attempt()
    assert budget.next_delay(retry_after=4.0) is not None
    budget.wait(4.0)
    budget.start_attempt()
    assert budget.next_delay(retry_after=2.0) is None


def test_budget_refuses_a_retry_after_longer_than_allowed() -> None:
    budget = RetryBudget(RetryPolicy(max_retry_after=60), random.Random(1), lambda _: None)
    budget.start_attempt()
    assert budget.next_delay(retry_after=3600) is None
    delay = budget.next_delay(retry_after=10)
    assert delay is not None and 10 <= delay <= 11


def test_policy_validates_its_limits() -> None:
    with pytest.raises(ValueError, match='max_attempts'):
        RetryPolicy(max_attempts=0)
    assert RetryPolicy.none().max_attempts == 1


@pytest.mark.parametrize(
    ('method', 'path', 'family'),
    [
        ('GET', '/market-data/by-type?equity=AAPL', 'market-data'),
        ('GET', '/accounts/5WT00001/positions', 'positions'),
        ('GET', '/accounts/5WT00001/balances/USD', 'balances'),
        ('GET', '/accounts/5WT00001/trading-status', 'trading-status'),
        ('GET', '/customers/me/accounts', 'accounts'),
        ('GET', '/customers/me', 'customer'),
        ('GET', '/instruments/equities/AAPL', 'equity'),
        ('GET', '/instruments/equities', 'equities'),
        ('GET', '/instruments/futures/ESZ6', 'futures'),
        ('GET', '/instruments/future-products/CME/ES', 'future-products'),
        ('GET', '/instruments/equity-options/AAPL%20%20261218C00200000', 'options'),
        ('GET', '/instruments/future-options/x', 'options'),
        ('GET', '/option-chains/AAPL/nested', 'option-chains'),
        ('GET', '/futures-option-chains/ES/nested', 'option-chains'),
        ('GET', '/accounts/5WT00001/orders/live', 'orders'),
        ('GET', '/accounts/5WT00001/orders', 'orders'),
        ('POST', '/accounts/5WT00001/orders', 'order-writes'),
        ('POST', '/accounts/5WT00001/orders/dry-run', 'order-writes'),
        ('PUT', '/accounts/5WT00001/orders/1', 'order-writes'),
        ('PATCH', '/accounts/5WT00001/orders/1', 'order-writes'),
        ('DELETE', '/accounts/5WT00001/complex-orders/9', 'order-writes'),
        ('POST', '/oauth/token', 'oauth'),
        ('GET', '/api-quote-tokens', 'quote-token'),
        ('GET', '/something/else', 'other'),
    ],
)
def test_endpoint_families(method: str, path: str, family: str) -> None:
    assert endpoint_family(method, path) == family


def test_bucket_allows_a_burst_of_its_capacity_then_spaces_requests() -> None:
    fake = FakeTime()
    bucket = TokenBucket(2.0, fake.monotonic)
    assert [bucket.reserve() for _ in range(2)] == [0.0, 0.0]
    assert bucket.reserve() == pytest.approx(0.5)
    assert bucket.reserve() == pytest.approx(1.0)  # reservations queue behind each other
    fake.advance(10)
    assert bucket.reserve() == 0.0


def test_limiter_applies_the_family_limit_and_counts_waits() -> None:
    fake = FakeTime()
    stats = BrokerStats()
    limiter = RateLimiter(RateLimits(), clock=fake.monotonic, sleep=fake.sleep, stats=stats)
    waits = [limiter.acquire('positions') for _ in range(3)]  # 1/s
    assert waits == [0.0, pytest.approx(1.0), pytest.approx(1.0)]
    assert stats.rate_limit_waits == 2 and stats.rate_limit_wait_seconds == pytest.approx(2.0)
    assert limiter.acquire('orders') == 0.0  # no family bucket: global (50/s) only


def test_limiter_applies_the_global_limit_to_every_family() -> None:
    fake = FakeTime()
    limiter = RateLimiter(RateLimits(global_per_second=5, families={}), clock=fake.monotonic, sleep=fake.sleep)
    for _ in range(5):
        assert limiter.acquire('other') == 0.0
    assert limiter.acquire('orders') == pytest.approx(0.2)


def test_default_limits_are_the_published_ones() -> None:
    limits = RateLimits()
    assert limits.global_per_second == 50
    assert limits.families['market-data'] == 2
    assert limits.families['positions'] == limits.families['balances'] == limits.families['accounts'] == 1
    # one equity by symbol 3/s, the equities list (the batched reads) 2/s
    assert limits.families['equity'] == 3 and limits.families['equities'] == 2
    assert limits.families['futures'] == 1 and limits.families['options'] == 3
    assert limits.families['order-writes'] == 20


def test_disabled_limits_never_wait() -> None:
    fake = FakeTime()
    limiter = RateLimiter(RateLimits.disabled(), clock=fake.monotonic, sleep=fake.sleep)
    assert all(limiter.acquire('positions') == 0.0 for _ in range(100))
    assert fake.sleeps == []


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match='positive'):
        RateLimits(families={'positions': 0})
