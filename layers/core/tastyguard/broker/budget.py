"""One rate budget per tastytrade grant, shared by every process that uses the grant.

Each ``(grant, family)`` has a *schedule* in shared storage: the earliest time the next request of that
family may go out (the "theoretical arrival time" of the generic cell rate algorithm). A request claims a
slot with a single conditional write: on an idle schedule the slot is *now*; on a busy one it is the
schedule's end, which the claim pushes one interval (``1 / rate``) further. Slots are therefore spaced
``1 / rate`` apart however many processes claim them, with no read-modify-write race and no retry storm:
concurrent claims on a busy schedule all succeed, each with its own slot.

The rate is tastytrade's published limit times ``headroom`` (0.8 by default), so tastyguard's own
concurrency never adds up to a 429. Two more rules keep it honest:

* **Priority.** Order writes (and every request of a process built with :attr:`Priority.HIGH`, the fill
  fast path) claim a slot however far the schedule already runs ahead. Other requests claim only while it
  runs at most ``horizon`` ahead and otherwise wait and try again, so when the budget is short a write
  queues behind at most a horizon of reads, never behind all of them.
* **Late slots are given up.** A process that wakes up later than its slot plus a small tolerance (a slow
  thread, a pause) claims a new slot instead of sending late: late requests are what could bunch together
  into a burst the broker counts against its limit. An unused slot only wastes a little budget.

429s are still honoured by the transport (``Retry-After``); this budget is what keeps them from happening.
"""

from __future__ import annotations

import enum
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from tastyguard.broker.errors import RateLimitedError
from tastyguard.broker.ratelimit import DEFAULT_FAMILY_LIMITS, DEFAULT_GLOBAL_PER_SECOND
from tastyguard.broker.stats import BrokerStats

GLOBAL_FAMILY = 'global'
ORDER_WRITES = 'order-writes'
MIN_HORIZON = 0.25
"""A normal request may queue at most this long (or one interval, if longer) behind already claimed slots."""
MAX_LATE_RECLAIMS = 5


class Priority(enum.StrEnum):
    """Who goes first when the budget is short."""

    HIGH = 'high'
    NORMAL = 'normal'


class RateBudgetExhausted(RateLimitedError):
    """The shared budget stayed busy past the wait limit; nothing was sent."""

    default_hint = 'too many tastyguard workers share this grant at once; lower scale.concurrency or add a grant'


@dataclass(frozen=True, slots=True)
class Claim:
    """The answer of a schedule: a slot (``granted``), or the schedule's end when a normal claim was refused."""

    granted: bool
    slot: float
    schedule: float


class ScheduleStore(Protocol):
    """Shared schedules (DynamoDB for Lambdas and the streamer; memory for one process and tests)."""

    def claim(self, key: str, *, now: float, interval: float, horizon: float | None) -> Claim:
        """Claim the next slot of ``key`` (refused when the schedule runs more than ``horizon`` past ``now``)."""
        ...


class MemoryScheduleStore:
    """Schedules in one process (thread-safe); the same semantics as the DynamoDB store."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._schedules: dict[str, float] = {}

    def claim(self, key: str, *, now: float, interval: float, horizon: float | None) -> Claim:
        with self._lock:
            end = self._schedules.get(key, 0.0)
            if end <= now:
                self._schedules[key] = now + interval
                return Claim(True, now, now + interval)
            if horizon is not None and end - now > horizon:
                return Claim(False, end, end)
            self._schedules[key] = end + interval
            return Claim(True, end, end + interval)


@dataclass(frozen=True)
class BudgetRates:
    """tastytrade's published per-second limits and the share of them tastyguard spends."""

    global_limit: float = DEFAULT_GLOBAL_PER_SECOND
    family_limits: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_FAMILY_LIMITS))
    headroom: float = 0.8

    def __post_init__(self) -> None:
        if not 0 < self.headroom <= 1:
            raise ValueError(f'headroom must be in (0, 1], got {self.headroom}')
        for name, rate in {GLOBAL_FAMILY: self.global_limit, **self.family_limits}.items():
            if rate <= 0:
                raise ValueError(f'rate limit for {name!r} must be positive, got {rate}')

    def limit(self, family: str) -> float | None:
        """The published limit of a family (``global`` included); None when it has none of its own."""
        return self.global_limit if family == GLOBAL_FAMILY else self.family_limits.get(family)

    def rate(self, family: str) -> float | None:
        """Requests per second tastyguard spends on ``family``."""
        limit = self.limit(family)
        return None if limit is None else limit * self.headroom

    def tolerance(self, family: str) -> float:
        """How late a slot may be used: our spacing's slack plus half of the broker's one-second burst."""
        limit = self.limit(family) or self.global_limit
        rate = limit * self.headroom
        return (1 / rate - 1 / limit) + (max(1.0, limit) - 1) / (2 * limit)


class SharedRateBudget:
    """A :class:`tastyguard.broker.ratelimit.Limiter` over shared schedules for one grant."""

    def __init__(
        self,
        store: ScheduleStore,
        grant: str,
        rates: BudgetRates | None = None,
        *,
        priority: Priority = Priority.NORMAL,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 60.0,
        rng: random.Random | None = None,
        stats: BrokerStats | None = None,
    ) -> None:
        self.store = store
        self.grant = grant
        self.rates = rates or BudgetRates()
        self.priority = priority
        self._clock = clock  # wall clock: schedules are compared across processes
        self._sleep = sleep
        self.max_wait = max_wait
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self.stats = stats or BrokerStats()

    def __repr__(self) -> str:
        return f'SharedRateBudget(grant={self.grant!r}, priority={self.priority.value})'

    def acquire(self, family: str) -> float:
        """Wait for a slot of ``family`` (if it has a limit) and of the grant's global schedule."""
        started = self._clock()
        deadline = started + self.max_wait
        priority = Priority.HIGH if family == ORDER_WRITES else self.priority
        names = [name for name in (family, GLOBAL_FAMILY) if self.rates.rate(name) is not None]
        slots: dict[str, float] = {}
        for _ in range(MAX_LATE_RECLAIMS):
            for name in names:
                if name not in slots:
                    slots[name] = self._slot(name, priority, deadline)
            now = self._clock()
            late = [name for name, slot in slots.items() if now - slot > self.rates.tolerance(name)]
            if not late:
                break
            for name in late:  # its slot passed while this process waited: claim a fresh one
                del slots[name]
                self.stats.add('shared_budget_late_slots')
        waited = self._clock() - started
        if waited > 0:
            self.stats.add('shared_budget_waits')
            self.stats.add('shared_budget_wait_seconds', waited)
        return waited

    def _slot(self, family: str, priority: Priority, deadline: float) -> float:
        rate = self.rates.rate(family)
        assert rate is not None
        interval = 1 / rate
        horizon = None if priority is Priority.HIGH else max(interval, MIN_HORIZON)
        key = f'{self.grant}#{family}'
        while True:
            now = self._clock()
            claim = self.store.claim(key, now=now, interval=interval, horizon=horizon)
            if claim.granted:
                if claim.slot > now:
                    self._sleep(claim.slot - now)
                return claim.slot
            # Refused: a normal claim met a schedule too far ahead (or the store lost a race): wait, try again.
            jitter = self._rng.uniform(0, interval / 4)
            retry_at = now + jitter if horizon is None else claim.schedule - horizon + jitter
            if retry_at > deadline:
                raise RateBudgetExhausted(
                    f'the shared {family} budget of grant {self.grant!r} stayed busy for {self.max_wait:.0f} s',
                    status=None,
                    code='rate_budget_exhausted',
                )
            self._sleep(max(0.0, retry_at - now))
