"""``sync_positions``: snapshot the positions and report what opened, closed or changed since last time.

One positions read per account. It also keeps the bookkeeping the planner relies on current between
``ensure_stops`` runs: how many consecutive reads a position with a tastyguard stop has been absent, which
human cancels still apply, and which expirations, assignments, exercises and splits explain a change
(:mod:`tastyguard.jobs.overnight`). Those changes are left to ``ensure_stops``, which announces each event once
with the protection it adds; this job does not list them again.

``ensure_stops`` reads and stores positions too and reports the same changes (:func:`position_changes`),
so the stack schedules this job only when it is configured to run more often than ``ensure_stops``: the
positions endpoint (about one request a second per grant) is the scarcest budget at scale.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from tastyguard.engine.types import Holding
from tastyguard.jobs import overnight, tracking
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.invocation import JobInvocation
from tastyguard.jobs.outcome import Outcome
from tastyguard.jobs.reading import read_positions
from tastyguard.store.snapshots import PositionSnapshot

ALERT_KINDS: frozenset[str] = frozenset()


def sync_positions(ctx: JobContext, invocation: JobInvocation, account: str, run_id: str, outcome: Outcome) -> Outcome:
    """Read, diff, store (see the module docstring)."""
    _, holdings = read_positions(ctx.broker, account)
    snapshot = ctx.stores.snapshots.latest(account) or PositionSnapshot(account=account, taken_at=ctx.clock())
    observed = overnight.observe(ctx, account, snapshot, holdings)
    explained = observed.explained | {s for e in snapshot.events if e.announced_at is None for s in e.symbols}
    snapshot = observed.snapshot
    outcome.events.extend(position_changes(snapshot, holdings, explained))
    for event in observed.recognised:
        outcome.notes.append(f'recognised {event.kind} of {event.symbol}; ensure_stops announces it with what it does')
    now = {holding.symbol: holding for holding in holdings}
    tracking.forget_closed(ctx.stores.high_water, account, snapshot, holdings)
    watched = {e.symbol for e in ctx.stores.ledger.all(account).values() if e.ours and not e.terminal}
    absent = tracking.next_absent_counts(snapshot.absent_counts, watched, now)
    cancels = tracking.prune_human_cancels(snapshot.human_cancels, holdings)
    ctx.stores.snapshots.save(
        tracking.next_snapshot(snapshot, holdings, taken_at=ctx.clock(), absent=absent, human_cancels=cancels)
    )
    outcome.positions = len(holdings)
    return outcome


def position_changes(
    snapshot: PositionSnapshot | None, holdings: Sequence[Holding], explained: Collection[str] = ()
) -> list[str]:
    """What opened, closed or changed size since ``snapshot`` (nothing before the first snapshot).

    ``explained`` symbols changed by an expiration, assignment, exercise or split: ``ensure_stops`` announces
    those with the event, once.
    """
    if snapshot is None:
        return []
    before = snapshot.by_symbol()
    now = {holding.symbol: holding for holding in holdings}
    events: list[str] = []
    for symbol, holding in sorted(now.items()):
        if symbol in explained:
            continue
        if symbol not in before:
            events.append(f'{symbol}: opened {holding.quantity:+}')
        elif before[symbol].quantity != holding.quantity:
            events.append(f'{symbol}: {before[symbol].quantity:+} → {holding.quantity:+}')
    for symbol, held in sorted(before.items()):
        if symbol not in now and symbol not in explained:
            events.append(f'{symbol}: closed (was {held.quantity:+})')
    return events
