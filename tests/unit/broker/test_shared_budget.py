"""The rate budget a grant's processes share: spacing, priority for writes, late slots, composition."""

from __future__ import annotations

import itertools
import random

import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from tastyguard.broker.budget import (
    BudgetRates,
    MemoryScheduleStore,
    Priority,
    RateBudgetExhausted,
    SharedRateBudget,
)
from tastyguard.broker.ratelimit import ChainedLimiter
from tests.unit.broker.support import FakeTime, items, make_client

pytestmark = pytest.mark.unit
POSITIONS_ONLY = BudgetRates(global_limit=1000, family_limits={'positions': 1.0, 'order-writes': 20.0})


class Processes:
    """Several processes on one fake clock, sharing one store (each with its own budget object)."""

    def __init__(self, rates: BudgetRates = POSITIONS_ONLY, **kwargs: object) -> None:
        self.time = FakeTime()
        self.store = MemoryScheduleStore()
        self.rates = rates
        self.kwargs = kwargs
        self.sent: list[tuple[float, str]] = []

    def budget(self, priority: Priority = Priority.NORMAL) -> SharedRateBudget:
        return SharedRateBudget(
            self.store,
            'family',
            self.rates,
            priority=priority,
            clock=self.time.monotonic,
            sleep=self.time.sleep,
            rng=random.Random(3),
            **self.kwargs,  # type: ignore[arg-type]
        )

    def send(self, budget: SharedRateBudget, family: str) -> None:
        budget.acquire(family)
        self.sent.append((self.time.monotonic(), family))


def gaps(times: list[float]) -> list[float]:
    return [round(later - earlier, 6) for earlier, later in itertools.pairwise(times)]


def test_processes_sharing_a_grant_are_spaced_at_the_headroom_rate() -> None:
    # Given three processes of one grant and tastytrade's 1/s positions limit at 80 % headroom
    world = Processes()
    budgets = [world.budget() for _ in range(3)]
    # When each sends positions reads in turn
    for _ in range(4):
        for budget in budgets:
            world.send(budget, 'positions')
    # Then the reads go out 1.25 s apart whichever process sends them
    assert set(gaps([t for t, _ in world.sent])) == {1.25}


def test_a_family_without_a_limit_of_its_own_only_takes_the_global_schedule() -> None:
    world = Processes(BudgetRates(global_limit=10, family_limits={}))
    budget = world.budget()
    for _ in range(5):
        world.send(budget, 'orders')
    assert set(gaps([t for t, _ in world.sent])) == {0.125}


def test_a_normal_read_waits_instead_of_queueing_far_ahead() -> None:
    # Given a positions schedule already two slots ahead (claimed by other processes)
    world = Processes()
    for _ in range(2):
        world.store.claim('family#positions', now=world.time.monotonic(), interval=1.25, horizon=None)
    # When a normal read asks, it is refused a slot beyond one interval and retries after waiting
    world.send(world.budget(), 'positions')
    assert world.time.sleeps and world.sent[0][0] >= 1000.0 + 2.5


def test_order_writes_go_before_reads_when_the_budget_is_short() -> None:
    # Given a global schedule where normal reads keep claiming as far ahead as they may
    rates = BudgetRates(global_limit=4, family_limits={'order-writes': 20.0}, headroom=1.0)
    world = Processes(rates)
    for _ in range(6):
        world.store.claim('family#global', now=world.time.monotonic(), interval=0.25, horizon=None)
    backlog = world.store.claim('family#global', now=world.time.monotonic(), interval=0.25, horizon=0.25)
    assert not backlog.granted  # a read would wait: the schedule runs 1.5 s ahead
    # When an order write asks, Then it takes the next slot at once, without waiting for the backlog to drain
    world.send(world.budget(), 'order-writes')
    assert world.sent[0][0] == pytest.approx(1000.0 + 1.5)
    assert len(world.time.sleeps) == 1


def test_a_fast_path_process_claims_reads_like_writes() -> None:
    world = Processes()
    for _ in range(3):
        world.store.claim('family#positions', now=world.time.monotonic(), interval=1.25, horizon=None)
    world.send(world.budget(Priority.HIGH), 'positions')
    assert world.sent[0][0] == pytest.approx(1000.0 + 3.75)
    assert world.time.sleeps == [pytest.approx(3.75)]


def test_a_late_slot_is_given_up_and_a_new_one_claimed() -> None:
    # Given a budget whose process wakes up a second too late for its slot
    world = Processes()
    budget = world.budget()
    world.store.claim('family#positions', now=world.time.monotonic(), interval=1.25, horizon=None)

    late = [1.0]

    def oversleep(seconds: float) -> None:
        world.time.sleep(seconds + (late.pop() if late else 0.0))

    budget._sleep = oversleep
    # When it acquires, Then it does not send on the stale slot but on a fresh one, and counts it
    budget.acquire('positions')
    assert budget.stats.shared_budget_late_slots == 1
    end = world.store.claim('family#positions', now=world.time.monotonic(), interval=1.25, horizon=None).slot
    assert end - world.time.monotonic() == pytest.approx(1.25)


def test_a_budget_that_stays_busy_past_the_wait_limit_sends_nothing_and_says_why() -> None:
    world = Processes(max_wait=2.0)
    for _ in range(10):
        world.store.claim('family#positions', now=world.time.monotonic(), interval=1.25, horizon=None)
    with pytest.raises(RateBudgetExhausted, match="positions budget of grant 'family' stayed busy") as caught:
        world.budget().acquire('positions')
    assert caught.value.hint and 'scale.concurrency' in caught.value.hint


def test_the_broker_tolerance_is_our_slack_plus_half_its_burst() -> None:
    rates = BudgetRates()
    assert rates.tolerance('positions') == pytest.approx(0.25)  # 1/s: only the spacing's slack
    assert 0.4 < rates.tolerance('global') < 0.5  # 50/s: the broker takes short bursts


@pytest.mark.parametrize('headroom', [0.0, 1.5])
def test_a_headroom_outside_zero_to_one_is_refused(headroom: float) -> None:
    with pytest.raises(ValueError, match='headroom'):
        BudgetRates(headroom=headroom)


@settings(max_examples=60, deadline=None)
@given(
    arrivals=st.lists(st.floats(min_value=0, max_value=30), min_size=2, max_size=25),
    priorities=st.lists(st.sampled_from([None, 0.25, 1.25]), min_size=25, max_size=25),
)
def test_granted_slots_of_one_schedule_are_never_closer_than_the_interval(
    arrivals: list[float], priorities: list[float | None]
) -> None:
    # Given claims arriving at any times with any horizon
    store = MemoryScheduleStore()
    slots = []
    for now, horizon in zip(sorted(arrivals), priorities, strict=False):
        claim = store.claim('g#positions', now=now, interval=1.25, horizon=horizon)
        if claim.granted:
            assert claim.slot >= now
            slots.append(claim.slot)
    # Then the granted slots, in any order, are spaced by at least one interval
    slots.sort()
    assert all(later - earlier >= 1.25 - 1e-9 for earlier, later in itertools.pairwise(slots))


def test_the_client_takes_the_shared_budget_after_its_own_limiter(router: respx.Router, fake_time: FakeTime) -> None:
    # Given a client whose requests also need a slot of a shared budget
    router.get('/accounts/5WT00001/positions').respond(json=items([]))
    store = MemoryScheduleStore()
    shared = SharedRateBudget(
        store, 'family', POSITIONS_ONLY, clock=fake_time.monotonic, sleep=fake_time.sleep, rng=random.Random(1)
    )
    with make_client(router, fake_time, shared_limiter=shared, stats=shared.stats) as client:
        # When it reads positions twice
        client.positions('5WT00001')
        client.positions('5WT00001')
    # Then the second read waited for the shared schedule, and the client's stats show it
    assert fake_time.sleeps == [pytest.approx(1.25)]
    assert client.stats.snapshot()['shared_budget_waits'] == 1


def test_chained_limiters_wait_for_each_in_turn() -> None:
    class Fixed:
        def __init__(self, wait: float) -> None:
            self.wait, self.families = wait, []

        def acquire(self, family: str) -> float:
            self.families.append(family)
            return self.wait

    first, second = Fixed(0.5), Fixed(0.25)
    assert ChainedLimiter(first, second).acquire('positions') == 0.75
    assert first.families == second.families == ['positions']
