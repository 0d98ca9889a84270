"""``ensure_stops``: every position protected by a correct broker-side stop.

Per account, under the account lease: settle earlier ambiguous writes → read positions, orders, quotes and
instruments → recognise expirations, assignments, exercises and splits (:mod:`tastyguard.jobs.overnight`) →
confirm absent positions with a second read → notice stops a person cancelled → plan (re-deriving pre-split
stops) → apply per mode → announce the recognised events with what was done → remember what was seen. A
failed positions, orders or (when needed) transactions read raises before anything is planned, so missing data
is never mistaken for a flat account.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal

from tastyguard.broker import models as wire
from tastyguard.calendar import NEW_YORK
from tastyguard.config.effective import account_policy
from tastyguard.config.models import Mode, Severity
from tastyguard.config.policy import Basis
from tastyguard.engine.actions import Alert, Plan
from tastyguard.engine.context import Context
from tastyguard.engine.corporate import plan_with_splits
from tastyguard.engine.trigger import trail_reference
from tastyguard.engine.types import Holding, PlanInputs
from tastyguard.jobs import mapping, overnight, ownership, tracking
from tastyguard.jobs.changes import classify
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.executor import Executor, resolve_intents
from tastyguard.jobs.gate import BlockCause, WriteGate
from tastyguard.jobs.invocation import JobInvocation
from tastyguard.jobs.outcome import Outcome, summarise_coverage
from tastyguard.jobs.ownership import Verdict
from tastyguard.jobs.reading import AccountRead, read_account, read_instruments, read_positions, read_quotes
from tastyguard.jobs.results import ActionResult, result_words
from tastyguard.jobs.scope import Scope
from tastyguard.jobs.sync_positions import position_changes
from tastyguard.notify.dedupe import AlertCandidate
from tastyguard.store.intents import Intent
from tastyguard.store.ledger import LedgerEntry
from tastyguard.store.snapshots import PositionSnapshot

ALERT_KINDS = frozenset(
    {
        'breached', 'unprotectable', 'no_quote', 'blocked_by_human_orders', 'blocked_by_pending_orders',
        'human_over_coverage', 'futures_option', 'software_stop', 'spread', 'alert_only', 'human_cancelled',
        'pending_absence',
        'stop_triggering', 'fractional', 'expiring', 'order_failed', 'writes_blocked', 'shadow',
    }
)  # fmt: skip
"""The alert kinds ensure_stops is authoritative for (an open one that is gone is resolved)."""


def _high_water(ctx: JobContext, account: str, inputs: PlanInputs) -> dict[str, Decimal]:
    """Move the trailing high-water marks of positions whose policy trails, and return them.

    A stored mark counts only for the position it was made for (same side and open time): a position that
    closed and reopened between two runs never inherits the old mark.
    """
    planning = Context(inputs)
    marks: dict[str, Decimal] = {}
    store = ctx.stores.high_water
    for holding in inputs.holdings:
        policy = planning.policy(holding)
        if policy.basis is not Basis.HIGH_WATER:
            continue
        long, opened = holding.is_long, holding.opened_at
        stored = store.get(account, holding.symbol)
        if stored is not None and not stored.belongs_to(
            long=long, open_price=holding.average_open_price, opened_at=opened
        ):
            stored = None
        price = trail_reference(inputs.quotes.get(holding.symbol), long, policy.trail_price)
        if price is None:
            if stored is not None:
                marks[holding.symbol] = stored.price
            continue
        if stored is not None:
            price = max(price, stored.price) if long else min(price, stored.price)
        marks[holding.symbol] = store.raise_to(
            account, holding.symbol, long=long, price=price, open_price=holding.average_open_price, opened_at=opened
        ).price
    return marks


def _confirm_absence(ctx: JobContext, account: str, read: AccountRead, counts: dict[str, int]) -> dict[str, int]:
    """A second positions read for stops whose position vanished only now (two consecutive absent reads)."""
    if not any(count < 2 for count in counts.values()):
        return counts
    _, again = read_positions(ctx.broker, account)
    return tracking.next_absent_counts(counts, counts, (holding.symbol for holding in again))


def _record_changes(
    ctx: JobContext,
    account: str,
    read: AccountRead,
    judged: Sequence[wire.Order],
    snapshot: PositionSnapshot,
    previous: Mapping[int, LedgerEntry],
    outcome: Outcome,
    owners: Mapping[int, Verdict],
    intents: Callable[[], Sequence[Intent]],
) -> dict[str, Decimal]:
    """Report what changed at the broker since the last run (``judged``: the orders that may have changed);
    remember stops a person cancelled or edited."""
    changes = classify(
        account, judged, previous, intents, ctx.clock(), owners, lambda key: ctx.stores.intents.get(account, key)
    )
    today = ctx.clock().astimezone(NEW_YORK).date()
    for text in overnight.fold_order_changes(changes, snapshot.events, today):
        outcome.notes.append(f'{text} (the contract ended: told with its expiration or assignment)')
    outcome.alerts.extend(changes.alerts)
    outcome.events.extend(changes.events)
    recorded = dict(snapshot.human_cancels)
    quantities = {holding.symbol: holding.quantity for holding in read.holdings}
    for symbol in changes.person_cancels:
        if symbol in quantities:
            recorded[symbol] = quantities[symbol]
    return tracking.prune_human_cancels(recorded, read.holdings)


def _alerts(plan: Plan) -> Iterable[AlertCandidate]:
    for action in plan.actions:
        if isinstance(action, Alert):
            yield AlertCandidate(action.dedupe_key, action.kind.value, action.severity, action.reason, action.symbol)


def plan_account(
    ctx: JobContext, account: str, salt: str, outcome: Outcome, symbol: str | None = None
) -> tuple[Plan, AccountRead]:
    """Read the account and plan (no writes to the broker). Also used by ``tastyguard plan`` and the digest.

    With ``symbol`` (the fast path) only that position is planned (:mod:`tastyguard.jobs.scope`).
    """
    plan, read, _, _ = _plan_account(ctx, account, salt, outcome, symbol, ctx.stores.snapshots.latest(account))
    return plan, read


def _plan_account(
    ctx: JobContext,
    account: str,
    salt: str,
    outcome: Outcome,
    symbol: str | None,
    stored: PositionSnapshot | None,
) -> tuple[Plan, AccountRead, PositionSnapshot, Scope | None]:
    """:func:`plan_account` from the snapshot the caller just read; also returns the snapshot it saved and the
    scope it planned (widened to the positions of the events it announces)."""
    read = read_account(
        ctx.broker,
        ctx.stores.instruments,
        account,
        only=None if symbol is None else (lambda held: Scope.around(symbol, held).holdings(held)),
        quote_source=ctx.quote_source,
    )
    scope = None if symbol is None else Scope.around(symbol, read.holdings)
    outcome.notes.extend(read.notes)
    snapshot = stored or PositionSnapshot(account=account, taken_at=ctx.clock())
    snapshot = overnight.observe(ctx, account, snapshot, read.holdings).snapshot
    if scope is not None:  # this run announces the pending events: it plans every position they touched
        wider = scope.widened(overnight.touched(snapshot, read.holdings, read.working), read.holdings)
        read = _read_more(ctx, read, [h for h in wider.holdings(read.holdings) if not scope.holds(h)], outcome)
        scope = wider
    # Only the orders that changed since the last run are judged against their ledger entries: the day's
    # orders would otherwise be read back on every fill.
    splits = ownership.split_factors(overnight.splits(snapshot))
    judged, settled = tracking.settled_orders(read.orders, snapshot.orders_seen, splits)
    previous = ctx.stores.ledger.some(account, tracking.entries_to_read(judged))
    intents = ownership.lazy_intents(ctx, account)
    owners = settled | ownership.decide(
        judged,
        previous,
        intents,
        splits,
        others=[order for order in read.orders if order.id in settled],
        everything=lambda: ctx.stores.ledger.all(account),
    )
    read = replace(read, working=mapping.working_orders(read.orders, {oid: v.ours for oid, v in owners.items()}))
    absent = tracking.next_absent_counts(
        snapshot.absent_counts,
        tracking.own_working_symbols(read.orders, owners),
        (h.symbol for h in read.holdings),
    )
    absent = _confirm_absence(ctx, account, read, absent)
    cancels = _record_changes(ctx, account, read, judged, snapshot, previous, outcome, owners, intents)
    tracking.forget_closed(ctx.stores.high_water, account, snapshot, read.holdings)
    inputs = PlanInputs(
        account_number=account,
        holdings=read.holdings if scope is None else scope.holdings(read.holdings),
        orders=read.working if scope is None else scope.orders(read.working),
        quotes=read.quotes,
        instruments=read.instruments,
        policy=account_policy(ctx.config, account),
        salt=salt,
        now=ctx.clock(),
        absent_counts=absent,
        human_cancels=frozenset(cancels),
    )
    inputs = overnight.with_delivery_basis(inputs, snapshot)
    marks = _high_water(ctx, account, inputs)
    if marks:
        inputs = replace(inputs, high_water=marks)
    plan = plan_with_splits(inputs, overnight.splits(snapshot))
    ctx.stores.ledger.save(tracking.changed_entries(judged, previous, ctx.clock(), owners))
    seen = tracking.orders_seen(read.orders, owners)  # only now that the ledger holds every order of the read
    saved = ctx.stores.snapshots.save(
        tracking.next_snapshot(
            snapshot, read.holdings, taken_at=ctx.clock(), absent=absent, human_cancels=cancels, seen=seen
        )
    )
    return plan, read, saved, scope


def _read_more(ctx: JobContext, read: AccountRead, added: Sequence[Holding], outcome: Outcome) -> AccountRead:
    """The quotes and tick schedules of positions a widened scope added (the first read fetched only the scope's)."""
    if not added:
        return read
    streamed = ctx.quote_source(added)
    quotes, quote_notes = read_quotes(ctx.broker, [h for h in added if h.symbol not in streamed])
    instruments, instrument_notes = read_instruments(ctx.broker, ctx.stores.instruments, added)
    outcome.notes.extend([*quote_notes, *instrument_notes])
    return replace(
        read,
        quotes={**read.quotes, **streamed, **quotes},
        instruments={**read.instruments, **instruments},
        notes=(*read.notes, *quote_notes, *instrument_notes),
    )


def ensure_stops(ctx: JobContext, invocation: JobInvocation, account: str, run_id: str, outcome: Outcome) -> Outcome:
    """Protect every position of ``account`` (see the module docstring)."""
    mode = ctx.mode_for(account)
    blocked, notes = resolve_intents(ctx, account)
    outcome.notes.extend(notes)
    before = ctx.stores.snapshots.latest(account)  # the one snapshot read of the run: this run saves the next
    salt = invocation.salt(run_id)
    plan, read, after, scope = _plan_account(ctx, account, salt, outcome, invocation.symbol, before)
    explained = {s for e in after.events if e.announced_at is None for s in e.symbols}
    outcome.events.extend(position_changes(before, read.holdings, explained))  # the one positions read of the tick
    if invocation.symbol is not None:
        planned = scope.symbols if scope is not None else frozenset({invocation.symbol})
        outcome.scope_symbols = frozenset(c.symbol for c in plan.coverage) | planned
        outcome.notes.append(f'planned only {invocation.symbol} (a fill or a position change)')
        if explained - {invocation.symbol}:
            also = ', '.join(sorted(explained - {invocation.symbol}))
            outcome.notes.append(f'and {also}: a position event touched them (announced with what was done)')
    executor = Executor(ctx, account, mode=mode, run_id=run_id, read=read, blocked=blocked)
    try:
        executor.execute(plan, into=outcome.actions)
    finally:
        if executor.touched:  # remember what this run created or cancelled, so the next run sees the change
            tracking.remember_writes(ctx.stores.ledger, account, executor.touched, ctx.clock(), executor.replaced)
    outcome.alerts.extend(_alerts(plan))
    outcome.alerts.extend(_write_alerts(account, outcome.actions, executor.gate))
    outcome.alerts.extend(overnight.announce(ctx, account, plan, read, outcome.actions, after))
    if executor.gate.blocked_reason and mode is Mode.LIVE:
        outcome.notes.append(f'order writes blocked: {executor.gate.blocked_reason}')
    if invocation.symbol is not None:
        return outcome  # the account's totals are unknown to a run that planned one position
    positions, protected, unprotected, at_risk = summarise_coverage(plan, outcome.actions, applied=mode is Mode.LIVE)
    outcome.positions, outcome.protected, outcome.unprotected, outcome.money_at_risk = (
        positions,
        protected,
        unprotected,
        at_risk,
    )
    return outcome


_FAILED = frozenset({'rejected', 'ambiguous', 'invalid', 'dry_run_rejected', 'not_cancelled'})


def _write_alerts(account: str, rows: Sequence[ActionResult], gate: WriteGate) -> Iterable[AlertCandidate]:
    """Failed writes as de-duplicated alerts (per symbol, kind and outcome); blocked writes as one alert per cause.

    Keys never span two different problems: a rejected place and an unconfirmed one are two alerts, and so are
    the kill switch and the circuit breaker (each breaker trip its own, critical: someone has to reset it).
    """
    for row in rows:
        if row.kind in ('place', 'replace', 'cancel') and row.result in _FAILED:
            severity = Severity.CRITICAL if row.result in ('rejected', 'invalid', 'ambiguous') else Severity.WARNING
            text = f'{row.symbol}: {row.kind} {result_words(row.result)}: {row.detail or row.reason}'
            key = f'order_failed:{account}:{row.symbol}:{row.kind}:{row.result}'
            yield AlertCandidate(key, 'order_failed', severity, text, row.symbol)
    blocked = sum(1 for row in rows if row.result == 'blocked')
    blocked_key = gate.alert_key
    if blocked and gate.blocked_reason and blocked_key:
        text = f'{blocked} order write{"s" if blocked > 1 else ""} not sent: {gate.blocked_reason}'
        severity = Severity.CRITICAL if gate.blocked_by is BlockCause.BREAKER else Severity.WARNING
        yield AlertCandidate(blocked_key, 'writes_blocked', severity, text, None)
