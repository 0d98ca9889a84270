"""Per-token rate limits of the paper broker: tastytrade's published buckets, timed by the virtual clock."""

from __future__ import annotations

import pytest

from paperbroker.broker import Broker
from paperbroker.clock import VirtualClock
from paperbroker.fleet import FleetOptions
from paperbroker.throttle import PUBLISHED_LIMITS, Throttle, family_of, retry_after_header

pytestmark = pytest.mark.unit


@pytest.fixture
def throttle() -> Throttle:
    limiter = Throttle(VirtualClock())
    limiter.configure()
    return limiter


@pytest.mark.parametrize(
    ('method', 'path', 'family'),
    [
        ('GET', '/accounts/5WT00001/positions', 'positions'),
        ('GET', '/accounts/5WT00001/orders/live', None),
        ('POST', '/accounts/5WT00001/orders', 'order-writes'),
        ('DELETE', '/accounts/5WT00001/orders/100001', 'order-writes'),
        ('POST', '/accounts/5WT00001/orders/dry-run', 'order-writes'),
        ('GET', '/market-data/by-type', 'market-data'),
        ('GET', '/instruments/equities', 'equities'),
        ('GET', '/instruments/equities/AAPL', 'equity'),
        ('GET', '/customers/me/accounts', 'accounts'),
    ],
)
def test_requests_fall_into_the_published_families(method: str, path: str, family: str | None) -> None:
    assert family_of(method, path) == family


def test_off_by_default_so_other_tests_see_a_permissive_broker() -> None:
    limiter = Throttle(VirtualClock())
    assert all(limiter.check('t', 'GET', '/accounts/A/positions') is None for _ in range(10))


def test_a_second_positions_read_within_a_second_is_refused_with_the_wait(throttle: Throttle) -> None:
    assert throttle.check('t', 'GET', '/accounts/A/positions') is None
    wait = throttle.check('t', 'GET', '/accounts/B/positions')
    assert wait == pytest.approx(1.0, abs=0.01)
    assert retry_after_header(wait or 0) == '1'
    assert throttle.refused == 1


def test_buckets_are_per_token(throttle: Throttle) -> None:
    assert throttle.check('one', 'GET', '/accounts/A/positions') is None
    assert throttle.check('two', 'GET', '/accounts/A/positions') is None


def test_the_bucket_refills_with_virtual_time(throttle: Throttle) -> None:
    throttle.check('t', 'GET', '/accounts/A/positions')
    throttle.clock.advance(1.0)
    assert throttle.check('t', 'GET', '/accounts/A/positions') is None


def test_a_refused_request_takes_nothing_from_the_global_bucket(throttle: Throttle) -> None:
    throttle.configure(global_per_second=3)
    assert throttle.check('t', 'GET', '/accounts/A/positions') is None
    for _ in range(5):
        assert throttle.check('t', 'GET', '/accounts/A/positions') is not None
    assert throttle.check('t', 'GET', '/accounts/A/orders/live') is None
    assert throttle.check('t', 'GET', '/accounts/A/orders/live') is None
    assert throttle.check('t', 'GET', '/accounts/A/orders/live') is not None


def test_order_writes_take_a_one_second_burst_of_twenty(throttle: Throttle) -> None:
    assert PUBLISHED_LIMITS['order-writes'] == 20
    results = [throttle.check('t', 'POST', '/accounts/A/orders') for _ in range(21)]
    assert results[:20] == [None] * 20 and results[20] is not None


def test_a_non_positive_rate_is_refused(throttle: Throttle) -> None:
    with pytest.raises(ValueError, match="'positions' must be positive"):
        throttle.configure(positions=0)


def test_a_reset_turns_limits_off_again() -> None:
    broker = Broker('empty')
    broker.throttle.configure(positions=0.5)
    broker.reset('empty')
    assert broker.throttle.as_json()['enabled'] is False
    assert broker.throttle.families['positions'] == 1.0


def test_the_fleet_gives_each_customer_a_block_of_accounts_and_a_grant() -> None:
    broker = Broker('fleet', customers=3, accounts=7, positions=4, universe=20)
    state = broker.core.state
    owners = [state.accounts[f'5WT{i:05d}'].owner_id for i in range(1, 8)]
    assert owners[:3] == [broker.core.user_id] * 3 and len(set(owners)) == 3
    assert len(broker.auth.customers) == 2
    assert all(len(state.account_positions(number)) == 4 for number in state.accounts)
    # the same scenario gives every customer the same grant again
    before = sorted(g.refresh_token for g in broker.auth.customers.values())
    broker.reset('fleet', customers=3, accounts=7, positions=4, universe=20)
    assert sorted(g.refresh_token for g in broker.auth.customers.values()) == before


def test_fleet_options_are_checked() -> None:
    with pytest.raises(ValueError, match='at least the number of customers'):
        FleetOptions(customers=4, accounts=3)
