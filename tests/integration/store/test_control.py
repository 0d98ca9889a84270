from __future__ import annotations

from typing import Any

import boto3
import pytest

from tastyguard.store.control import CircuitBreaker, KillSwitch, WritesBlockedError
from tastyguard.store.table import StateTable
from tests.clock import FakeClock

pytestmark = pytest.mark.integration


def test_a_missing_kill_switch_parameter_means_writes_are_allowed(aws: None) -> None:
    assert not KillSwitch(boto3.client('ssm')).read().engaged


def test_engaging_the_kill_switch_is_read_back_with_its_reason(aws: None, clock: FakeClock) -> None:
    switch = KillSwitch(boto3.client('ssm'))
    switch.set(engaged=True, reason='broker outage', changed_by='alice', now=clock())
    state = switch.read()
    assert state.engaged
    assert state.reason == 'broker outage'
    switch.set(engaged=False, reason='resolved', changed_by='alice', now=clock())
    assert not switch.read().engaged


def test_an_unreadable_kill_switch_blocks_writes(aws: None) -> None:
    class Broken:
        exceptions = boto3.client('ssm').exceptions

        def get_parameter(self, **_: Any) -> Any:
            raise RuntimeError('AccessDenied')

    state = KillSwitch(Broken()).read()  # type: ignore[arg-type]
    assert state.engaged
    assert 'failing closed' in state.reason


def test_a_hand_written_parameter_value_is_understood(aws: None) -> None:
    ssm = boto3.client('ssm')
    ssm.put_parameter(Name='/tastyguard/kill-switch', Value='on', Type='String')
    assert KillSwitch(ssm).read().engaged
    ssm.put_parameter(Name='/tastyguard/kill-switch', Value='off', Type='String', Overwrite=True)
    assert not KillSwitch(ssm).read().engaged


def test_the_breaker_trips_past_the_limit_and_stays_tripped(state: StateTable, clock: FakeClock) -> None:
    breaker = CircuitBreaker(state, max_writes=3, window_seconds=600)
    for _ in range(3):
        breaker.record_write('5WT00001')
    with pytest.raises(WritesBlockedError, match='circuit breaker tripped'):
        breaker.record_write('5WT00001')
    clock.advance(hours=2)
    tripped = breaker.tripped('5WT00001')
    assert tripped is not None
    assert 'limit 3' in tripped.reason
    assert breaker.tripped('5WT00002') is None
    breaker.reset('5WT00001')
    assert breaker.tripped('5WT00001') is None


def test_writes_in_a_new_window_start_counting_again(state: StateTable, clock: FakeClock) -> None:
    breaker = CircuitBreaker(state, max_writes=2, window_seconds=600)
    breaker.record_write('5WT00001')
    breaker.record_write('5WT00001')
    clock.advance(minutes=10)
    assert breaker.record_write('5WT00001') == 1


def test_one_position_written_again_and_again_trips_the_breaker_early(state: StateTable) -> None:
    breaker = CircuitBreaker(state, max_writes=200, window_seconds=900, max_per_symbol=3)
    for symbol in ('AAPL', 'MSFT', 'KO', 'TSLA'):  # a first run protecting many positions is fine
        breaker.record_write('5WT00001', symbol)
    for _ in range(2):
        breaker.record_write('5WT00001', 'AAPL')
    with pytest.raises(WritesBlockedError, match='order writes for AAPL'):
        breaker.record_write('5WT00001', 'AAPL')
    tripped = breaker.tripped('5WT00001')
    assert tripped is not None and 'breaker reset' in tripped.reason


def test_the_writes_of_one_change_are_counted_at_once_each_on_its_own_position(state: StateTable) -> None:
    # Given a cancel on an option leg and the structure stop that takes over its quantity
    breaker = CircuitBreaker(state, max_writes=200, window_seconds=900, max_per_symbol=2)
    leg = 'AAPL  261218C00200000'

    # When both are counted as one change
    assert breaker.record_writes('5WT00001', {leg: 1, 'AAPL': 1}) == 2

    # Then each position has its own count (decision 16) and the account counts both
    assert (breaker.writes_on('5WT00001', leg), breaker.writes_on('5WT00001', 'AAPL')) == (1, 1)
    assert breaker.writes_on('5WT00001') == 2
    with pytest.raises(WritesBlockedError, match=f'order writes for {leg}'):
        breaker.record_writes('5WT00001', {leg: 2})
