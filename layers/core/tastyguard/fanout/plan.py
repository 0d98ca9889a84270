"""Planning one tick's fan-out: which accounts each grant sweeps now, and when each message becomes visible.

Pure functions. The pace of a sweep is set by the one endpoint every account run needs: ensure-stops,
sync-positions and the digest read the account's positions (tastytrade allows about 1 request/s per grant),
reconcile-orders reads its live orders (only the 50/s global limit). A grant can sweep
``floor(rate × window)`` accounts in one tick; when it has more, a cursor rotates through them so each
account is swept every few ticks (the sweep period stretches with N) and the fill fast path covers the
time in between. Messages are delayed ``i / rate`` seconds (SQS ``DelaySeconds``, at most 900), so workers
pick them up at the pace the budget allows instead of waiting for it on billed time.

With a healthy streamer, ensure-stops reads every tick only the accounts that are *due*: the ones the streamer
does not hold, the ones something happened on since their last verified sweep, and the ones never verified
while held (:func:`quiet_accounts`); the quiet ones are re-verified oldest first, a share per tick, so each
is read at least every ``quiet_verify`` (:func:`sweep_watched`, decision 60).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

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
CLOCK_MARGIN = timedelta(seconds=5)
"""How far the streamer's and the workers' clocks may disagree: every comparison leans towards "due" by it."""
ACTIVITY_MARGIN = timedelta(seconds=60)
"""A notification this close before a run began may not be in what that run read (tastytrade's REST answers can
lag the stream by seconds): it still makes the account due."""


@dataclass(frozen=True, slots=True)
class GrantSweep:
    """One grant's part of a tick."""

    grant: str
    accounts: tuple[str, ...]  # swept now, in order
    deferred: int  # accounts left for the next ticks
    next_cursor: int
    resting: int = 0  # of those, quiet accounts the streamer holds (left for their re-verification, not crowded out)


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


def quiet_accounts(
    accounts: Sequence[str],
    verified: Mapping[str, datetime],
    held: Mapping[str, datetime],
    activity: Mapping[str, datetime],
    *,
    not_before: datetime | None = None,
) -> dict[str, datetime]:
    """The accounts a sweep may leave out for now, with when each was last verified.

    An account is quiet when its last scheduled run that left nothing to do began after the streamer's account
    socket took hold of it (so every change since that read reached the streamer), after ``not_before`` (the
    session's open: what happened overnight is read again each morning), and no order, position or status
    notification arrived since that run began. Anything less (not held, never verified while held, any activity
    since) makes it due. The comparisons lean towards "due" by :data:`CLOCK_MARGIN` and, for a notification,
    :data:`ACTIVITY_MARGIN`.
    """
    quiet: dict[str, datetime] = {}
    for account in accounts:
        at, since = verified.get(account), held.get(account)
        if at is None or since is None or at < since + CLOCK_MARGIN:
            continue
        if not_before is not None and at < not_before:
            continue
        last = activity.get(account)
        if last is not None and last > at - ACTIVITY_MARGIN:
            continue
        quiet[account] = at
    return quiet


def sweep_watched(
    grant: str,
    accounts: Sequence[str],
    limit: int | None,
    cursor: int,
    quiet: Mapping[str, datetime],
    now: datetime,
    period: timedelta,
    quiet_verify: timedelta,
) -> GrantSweep:
    """Like :func:`sweep`, but the ``quiet`` accounts are read only as often as ``quiet_verify`` asks.

    A quiet account that would be older than ``quiet_verify`` by the next tick counts as due. The due accounts
    come first (rotating from ``cursor`` when they do not all fit in ``limit``, as in :func:`sweep`); then, in
    what is left, the other quiet accounts oldest verification first, so that with the overdue ones at least
    ``ceil(quiet × period / quiet_verify)`` are read each tick: the re-verification is spread evenly over the
    ticks instead of all coming due together. ``resting`` counts the quiet accounts left for a later tick.
    """
    ordered = tuple(sorted(dict.fromkeys(accounts)))
    deadline = now + period - quiet_verify
    overdue = {a for a in ordered if a in quiet and quiet[a] < deadline}
    due = [a for a in ordered if a not in quiet or a in overdue]
    resting = sorted((a for a in ordered if a in quiet and a not in overdue), key=lambda a: (quiet[a], a))
    first = sweep(grant, due, limit, cursor)
    room = len(resting) if limit is None else max(0, limit - len(first.accounts))
    watched = len(overdue) + len(resting)
    share = math.ceil(watched * period / quiet_verify) if quiet_verify > timedelta(0) else watched
    chosen = tuple(resting[: min(room, max(0, share - len(overdue)))])
    left = len(resting) - len(chosen)
    return GrantSweep(grant, first.accounts + chosen, first.deferred + left, first.next_cursor, resting=left)


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
