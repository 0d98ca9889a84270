"""The shared rate-budget schedules in DynamoDB (moto): one conditional write per claim, across processes."""

from __future__ import annotations

import itertools
import threading
import time

import boto3
import pytest

from bench.scale_sim import honest_moto
from tastyguard.broker.budget import BudgetRates, SharedRateBudget
from tastyguard.broker.tokens import BreakerTrip
from tastyguard.store.schedules import DynamoScheduleStore
from tastyguard.store.table import StateTable
from tastyguard.store.tokens import AwsTokenCache, read_breaker
from tests.clock import FakeClock

pytestmark = pytest.mark.integration
KEY = 'family#positions'


def test_the_first_claim_of_an_idle_schedule_is_now(state: StateTable) -> None:
    claim = DynamoScheduleStore(state).claim(KEY, now=100.0, interval=1.25, horizon=1.25)
    assert (claim.granted, claim.slot, claim.schedule) == (True, 100.0, 101.25)


def test_a_busy_schedule_hands_out_the_next_slot_to_another_process(state: StateTable) -> None:
    DynamoScheduleStore(state).claim(KEY, now=100.0, interval=1.25, horizon=1.25)
    claim = DynamoScheduleStore(state).claim(KEY, now=100.5, interval=1.25, horizon=1.25)
    assert (claim.granted, claim.slot) == (True, 101.25)


def test_a_normal_claim_is_refused_past_its_horizon_and_leaves_the_schedule_alone(state: StateTable) -> None:
    first, second = DynamoScheduleStore(state), DynamoScheduleStore(state)
    for _ in range(3):
        first.claim(KEY, now=100.0, interval=1.25, horizon=None)
    refused = second.claim(KEY, now=100.0, interval=1.25, horizon=1.25)
    assert (refused.granted, refused.schedule) == (False, 103.75)
    assert first.claim(KEY, now=100.0, interval=1.25, horizon=None).slot == 103.75


def test_an_idle_schedule_is_claimed_at_now_even_after_a_stale_guess(state: StateTable) -> None:
    store = DynamoScheduleStore(state)
    store.claim(KEY, now=100.0, interval=1.25, horizon=None)
    assert store.claim(KEY, now=500.0, interval=1.25, horizon=1.25).slot == 500.0


def test_grants_and_families_have_schedules_of_their_own(state: StateTable) -> None:
    store = DynamoScheduleStore(state)
    store.claim('family#positions', now=100.0, interval=1.25, horizon=None)
    assert store.claim('advisor#positions', now=100.0, interval=1.25, horizon=None).slot == 100.0
    assert store.claim('family#market-data', now=100.0, interval=0.625, horizon=None).slot == 100.0


def test_concurrent_processes_never_send_two_positions_reads_within_a_second(state: StateTable) -> None:
    # Given four processes (threads with their own table handle) of one grant
    sent: list[float] = []
    lock = threading.Lock()

    def process() -> None:
        budget = SharedRateBudget(
            DynamoScheduleStore(StateTable()), 'family', BudgetRates(family_limits={'positions': 4.0})
        )
        for _ in range(3):
            budget.acquire('positions')
            with lock:
                sent.append(time.time())

    with honest_moto():
        threads = [threading.Thread(target=process) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    # Then the twelve reads are spaced at the 3.2/s budget (4/s less headroom), give or take the tolerance
    sent.sort()
    gaps = [later - earlier for earlier, later in itertools.pairwise(sent)]
    window = [sum(1 for t in sent if start <= t < start + 1) for start in sent]
    assert len(sent) == 12 and max(window) <= 4 and sum(gaps) >= 11 / 3.2 - 0.3


def test_a_tripped_breaker_belongs_to_one_grant(state: StateTable, clock: FakeClock) -> None:
    family = AwsTokenCache(state, boto3.client('secretsmanager'), secret_id='t/f', environment='paper', grant='family')
    family.trip_breaker(BreakerTrip(reason='invalid_grant', tripped_at=clock()))
    assert read_breaker(state, 'paper', 'family') is not None
    assert read_breaker(state, 'paper', 'advisor') is None
    assert read_breaker(state, 'paper') is None  # the default grant
