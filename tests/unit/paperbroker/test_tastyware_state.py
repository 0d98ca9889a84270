"""The paper API's keys, rate limiter, restrictions and default fill delay, without a server."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperbroker.broker import Broker
from paperbroker.clock import VirtualClock
from paperbroker.errors import ApiError
from paperbroker.seeding import add_account
from paperbroker.tastyware.limits import WINDOW, RateLimited, RateLimiter, check_supported_order
from paperbroker.tastyware.orders import with_default_fill
from paperbroker.tastyware.state import TastywareSettings

pytestmark = pytest.mark.unit


class StoppedClock(VirtualClock):
    """A virtual clock that moves only when told (no wall-clock drift inside a test)."""

    def __init__(self) -> None:
        super().__init__()
        self.frozen = super().now()

    def now(self) -> datetime:
        return self.frozen + self.offset


@given(gaps=st.lists(st.integers(min_value=0, max_value=400), min_size=1, max_size=60), limit=st.integers(1, 6))
@settings(max_examples=150, deadline=None)
def test_no_one_second_window_ever_admits_more_than_the_limit(gaps: list[int], limit: int) -> None:
    clock = StoppedClock()
    limiter = RateLimiter(clock)
    admitted = []
    for gap_ms in gaps:
        clock.advance(gap_ms / 1000)
        if limiter.admit('key', limit) is None:
            admitted.append(clock.now())
    for index, start in enumerate(admitted):
        inside = [t for t in admitted[index:] if t - start < WINDOW]
        assert len(inside) <= limit


def test_a_refused_request_says_when_to_retry_and_is_admitted_then() -> None:
    clock = StoppedClock()
    limiter = RateLimiter(clock)
    for _ in range(5):
        assert limiter.admit('key', 5) is None
        clock.advance(0.1)

    retry_after = limiter.admit('key', 5)

    assert retry_after == pytest.approx(0.5)
    clock.advance(retry_after or 0)
    assert limiter.admit('key', 5) is None


def test_keys_are_limited_separately() -> None:
    limiter = RateLimiter(StoppedClock())
    assert [limiter.admit('a', 1), limiter.admit('a', 1)] == [None, pytest.approx(1.0)]
    assert limiter.admit('b', 1) is None


def test_the_429_carries_a_whole_second_retry_after() -> None:
    response = RateLimited(5, 0.2).response()

    assert (response.status_code, response.headers['retry-after']) == (429, '1')
    assert b'"too_many_requests"' in response.body


@pytest.mark.parametrize('kind', ['Future', 'Future Option', 'Cryptocurrency'])
def test_restricted_instrument_types_are_refused_naming_the_leg(kind: str) -> None:
    body = {'legs': [{'instrument-type': 'Equity', 'symbol': 'AAPL'}, {'instrument-type': kind, 'symbol': 'X'}]}

    with pytest.raises(ApiError) as refused:
        check_supported_order(body)

    assert (refused.value.status, refused.value.code) == (422, 'unsupported_instrument_type')
    assert f'{kind} X is not supported' in refused.value.message


def test_equities_and_equity_or_index_options_pass_the_restrictions() -> None:
    legs = [{'instrument-type': 'Equity'}, {'instrument-type': 'Equity Option', 'symbol': 'SPX   270115C07000000'}]
    check_supported_order({'legs': legs})


def test_the_brokers_key_survives_a_reset_and_binds_a_fresh_subscriber() -> None:
    broker = Broker('empty', tastyware_api_key='fixed-key')
    add_account(broker.core, 'TW000001', broker.tastyware.authenticate('fixed-key').user_id)
    extra = broker.tastyware.issue(broker.core).key

    broker.reset('demo')

    user_id = broker.tastyware.authenticate('fixed-key').user_id
    assert broker.core.state.users[user_id].username.startswith('tastyware-paper-')
    assert broker.core.state.user_accounts(user_id) == []
    with pytest.raises(ApiError, match='invalid_api_key'):
        broker.tastyware.authenticate(extra)


def test_a_missing_key_and_a_wrong_key_are_told_apart() -> None:
    broker = Broker('empty')
    with pytest.raises(ApiError, match='missing_api_key'):
        broker.tastyware.authenticate('  ')
    with pytest.raises(ApiError, match='invalid_api_key'):
        broker.tastyware.authenticate('tw-paper-guess')


def test_an_unknown_owner_is_refused_with_the_allowed_values() -> None:
    broker = Broker('empty')
    with pytest.raises(ValueError, match='owner must be "me"'):
        broker.tastyware.issue(broker.core, owner='U0000099999')


def test_the_default_delay_is_between_zero_and_the_maximum_and_reproducible_with_a_seed() -> None:
    settings_ = TastywareSettings(seed=11, max_default_delay=10)
    one, two = Broker('empty', tastyware=settings_), Broker('empty', tastyware=settings_)

    delays = [one.tastyware.default_delay() for _ in range(200)]

    assert delays == [two.tastyware.default_delay() for _ in range(200)]
    assert all(0 <= d <= 10 for d in delays)
    assert max(delays) - min(delays) > 8  # spread over the range


def test_an_order_that_names_its_behavior_keeps_it() -> None:
    broker = Broker('empty')
    body = {'behavior': 'immediate', 'legs': []}

    assert with_default_fill(broker.tastyware, body) is body
    defaulted = with_default_fill(broker.tastyware, {'legs': []})
    assert defaulted['behavior'] == 'delayed'
    assert 0 <= defaulted['delay'] <= 10


def test_settings_changed_at_runtime_are_undone_by_a_reset() -> None:
    broker = Broker('empty', tastyware=TastywareSettings(rate_limit=5))
    broker.tastyware.configure(rate_limit=None, restrictions=True)

    broker.reset('empty')

    assert (broker.tastyware.settings.rate_limit, broker.tastyware.settings.restrictions) == (5, False)
