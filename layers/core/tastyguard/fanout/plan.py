"""Planning one tick's fan-out: which accounts each grant sweeps now, and when each message becomes visible.

Pure functions. The pace of a sweep is set by the one endpoint every account run needs: ensure-stops,
sync-positions and the digest read the account's positions (tastytrade allows about 1 request/s per grant),
reconcile-orders reads its live orders (only the 50/s global limit). A grant can sweep
``floor(rate × window)`` accounts in one tick; when it has more, a cursor rotates through them so each
account is swept every few ticks (the sweep period stretches with N) and the fill fast path covers the
time in between. Messages are delayed ``i / rate`` seconds (SQS ``DelaySeconds``, at most 900), so workers
pick them up at the pace the budget allows instead of waiting for it on billed time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

MAX_DELAY_SECONDS = 900
"""SQS's per-message delay limit."""
PACE_FAMILY: Mapping[str, str] = {
    'ensure_stops': 'positions',
    'sync_positions': 'positions',
    'digest': 'positions',
    'reconcile_orders': 'global',
}
"""The endpoint family that paces each job (one request of it per account run, at least)."""
CALLS_PER_ACCOUNT: Mapping[str, int] = {'reconcile_orders': 3}
"""Requests of the pacing family per account run, where it is more than one."""
UNBOUNDED_JOBS = frozenset({'digest'})
"""Jobs that reach every account every time (a daily digest is never deferred to the next day)."""


@dataclass(frozen=True, slots=True)
class GrantSweep:
    """One grant's part of a tick."""

    grant: str
    accounts: tuple[str, ...]  # swept now, in order
    deferred: int  # accounts left for the next ticks
    next_cursor: int


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One message: run ``job`` for ``account`` of ``grant`` for the tick, visible after ``delay`` seconds."""

    job: str
    account: str
    grant: str
    delay: int


@dataclass(frozen=True)
class TickPlan:
    """Every message of a tick, interleaved across grants by visibility time."""

    items: tuple[WorkItem, ...]
    sweeps: tuple[GrantSweep, ...] = field(default=())

    @property
    def deferred(self) -> int:
        """Accounts that wait for a later tick."""
        return sum(sweep.deferred for sweep in self.sweeps)


def capacity(job: str, rate: float, window_seconds: float) -> int | None:
    """How many accounts one grant sweeps per tick (None: all of them)."""
    if job in UNBOUNDED_JOBS:
        return None
    per_account = CALLS_PER_ACCOUNT.get(job, 1)
    return max(1, math.floor(rate * window_seconds / per_account))


def sweep(grant: str, accounts: Sequence[str], limit: int | None, cursor: int) -> GrantSweep:
    """The accounts of one grant to sweep now, rotating from ``cursor`` when they do not all fit."""
    ordered = tuple(sorted(dict.fromkeys(accounts)))
    if limit is None or len(ordered) <= limit:
        return GrantSweep(grant, ordered, 0, 0)
    start = cursor % len(ordered)
    chosen = tuple(ordered[(start + offset) % len(ordered)] for offset in range(limit))
    return GrantSweep(grant, chosen, len(ordered) - limit, (start + limit) % len(ordered))


def plan_tick(job: str, sweeps: Sequence[GrantSweep], rates: Mapping[str, float]) -> TickPlan:
    """Messages for ``sweeps``: account ``i`` of a grant is delayed ``i × calls / rate`` seconds (capped)."""
    per_account = CALLS_PER_ACCOUNT.get(job, 1)
    items: list[tuple[float, int, WorkItem]] = []
    for order, grant_sweep in enumerate(sweeps):
        interval = per_account / rates[grant_sweep.grant]
        for index, account in enumerate(grant_sweep.accounts):
            due = index * interval
            delay = min(MAX_DELAY_SECONDS, math.floor(due))
            items.append((due, order, WorkItem(job, account, grant_sweep.grant, delay)))
    items.sort(key=lambda entry: (entry[0], entry[1]))
    return TickPlan(tuple(item for _, _, item in items), tuple(sweeps))
