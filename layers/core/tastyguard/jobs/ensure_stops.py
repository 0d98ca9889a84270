"""``ensure_stops``: every position protected by a correct broker-side stop.

Per account, under the account lease: settle earlier ambiguous writes → read positions, orders, quotes and
instruments → confirm absent positions with a second read → notice stops a person cancelled → plan →
apply per mode → remember what was seen. A failed positions or orders read raises before anything is
planned, so missing data is never mistaken for a flat account.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal

from tastyguard.config.effective import account_policy
from tastyguard.config.models import Mode, Severity
from tastyguard.config.policy import Basis
from tastyguard.engine.actions import Alert, Plan
from tastyguard.engine.context import Context
from tastyguard.engine.planner import plan as make_plan
from tastyguard.engine.types import PlanInputs, QuoteView
from tastyguard.jobs import tracking
from tastyguard.jobs.changes import classify
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.executor import Executor, resolve_intents
from tastyguard.jobs.invocation import JobInvocation
from tastyguard.jobs.outcome import Outcome, summarise_coverage
from tastyguard.jobs.reading import AccountRead, read_account, read_positions
from tastyguard.jobs.results import ActionResult
from tastyguard.jobs.sync_positions import position_changes
from tastyguard.notify.dedupe import AlertCandidate
from tastyguard.store.ledger import LedgerEntry
from tastyguard.store.snapshots import PositionSnapshot

ALERT_KINDS = frozenset(
    {
        'breached', 'unprotectable', 'no_quote', 'blocked_by_human_orders', 'blocked_by_pending_orders',
        'human_over_coverage', 'futures_option', 'spread', 'alert_only', 'human_cancelled', 'pending_absence',
        'stop_triggering', 'fractional', 'order_failed', 'writes_blocked', 'shadow',
    }
)  # fmt: skip
"""The alert kinds ensure_stops is authoritative for (an open one that is gone is resolved)."""


def _price(quote: QuoteView | None) -> Decimal | None:
    """The price a trailing mark follows: mark, else last, else the mid."""
    if quote is None:
        return None
    if quote.mark or quote.last:
        return quote.mark or quote.last
    if quote.bid and quote.ask:
        return (quote.bid + quote.ask) / 2
    return None


def _high_water(ctx: JobContext, account: str, inputs: PlanInputs) -> dict[str, Decimal]:
    """Move the trailing high-water marks of positions whose policy trails, and return them."""
    planning = Context(inputs)
    marks: dict[str, Decimal] = {}
    for holding in inputs.holdings:
        if planning.policy(holding).basis is not Basis.HIGH_WATER:
            continue
        price = _price(inputs.quotes.get(holding.symbol))
        if price is None:
            stored = ctx.stores.high_water.get(account, holding.symbol)
            if stored is not None and stored.long == holding.is_long:
                marks[holding.symbol] = stored.price
            continue
        marks[holding.symbol] = ctx.stores.high_water.raise_to(
            account, holding.symbol, long=holding.is_long, price=price
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
    snapshot: PositionSnapshot,
    previous: Mapping[int, LedgerEntry],
    outcome: Outcome,
) -> dict[str, Decimal]:
    """Report what changed at the broker since the last run; remember stops a person cancelled."""
    changes = classify(account, read.orders, previous, lambda: ctx.stores.intents.all(account), ctx.clock())
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


def plan_account(ctx: JobContext, account: str, salt: str, outcome: Outcome) -> tuple[Plan, AccountRead]:
    """Read the account and plan (no writes). Also used by ``tastyguard plan`` and the digest."""
    read = read_account(ctx.broker, ctx.stores.instruments, account)
    outcome.notes.extend(read.notes)
    snapshot = ctx.stores.snapshots.latest(account) or PositionSnapshot(account=account, taken_at=ctx.clock())
    absent = tracking.next_absent_counts(
        snapshot.absent_counts, tracking.own_working_symbols(read.orders), (h.symbol for h in read.holdings)
    )
    absent = _confirm_absence(ctx, account, read, absent)
    previous = ctx.stores.ledger.all(account)
    cancels = _record_changes(ctx, account, read, snapshot, previous, outcome)
    tracking.forget_closed(ctx.stores.high_water, account, snapshot, read.holdings)
    inputs = PlanInputs(
        account_number=account,
        holdings=read.holdings,
        orders=read.working,
        quotes=read.quotes,
        instruments=read.instruments,
        policy=account_policy(ctx.config, account),
        salt=salt,
        now=ctx.clock(),
        absent_counts=absent,
        human_cancels=frozenset(cancels),
    )
    marks = _high_water(ctx, account, inputs)
    if marks:
        inputs = replace(inputs, high_water=marks)
    plan = make_plan(inputs)
    ctx.stores.ledger.save(tracking.changed_entries(read.orders, previous, ctx.clock()))
    ctx.stores.snapshots.save(
        tracking.next_snapshot(snapshot, read.holdings, taken_at=ctx.clock(), absent=absent, human_cancels=cancels)
    )
    return plan, read


def ensure_stops(ctx: JobContext, invocation: JobInvocation, account: str, run_id: str, outcome: Outcome) -> Outcome:
    """Protect every position of ``account`` (see the module docstring)."""
    mode = ctx.mode_for(account)
    blocked, notes = resolve_intents(ctx, account)
    outcome.notes.extend(notes)
    before = ctx.stores.snapshots.latest(account)
    plan, read = plan_account(ctx, account, invocation.salt(run_id), outcome)
    outcome.events.extend(position_changes(before, read.holdings))  # the one positions read of the tick
    executor = Executor(ctx, account, mode=mode, run_id=run_id, read=read, blocked=blocked)
    try:
        executor.execute(plan, into=outcome.actions)
    finally:
        if executor.touched:  # remember what this run created or cancelled, so the next run sees the change
            ledger = ctx.stores.ledger
            ledger.save(tracking.changed_entries(executor.touched, ledger.all(account), ctx.clock()))
    outcome.alerts.extend(_alerts(plan))
    outcome.alerts.extend(_write_alerts(account, outcome.actions, executor.gate.blocked_reason))
    if executor.gate.blocked_reason and mode is Mode.LIVE:
        outcome.notes.append(f'order writes blocked: {executor.gate.blocked_reason}')
    positions, protected, unprotected, at_risk = summarise_coverage(plan, outcome.actions, applied=mode is Mode.LIVE)
    outcome.positions, outcome.protected, outcome.unprotected, outcome.money_at_risk = (
        positions,
        protected,
        unprotected,
        at_risk,
    )
    return outcome


_FAILED = frozenset({'rejected', 'ambiguous', 'invalid', 'dry_run_rejected', 'not_cancelled'})


def _write_alerts(account: str, rows: Sequence[ActionResult], blocked_reason: str | None) -> Iterable[AlertCandidate]:
    """Failed writes as de-duplicated alerts (per symbol and kind); blocked writes as one alert per account."""
    for row in rows:
        if row.kind in ('place', 'replace', 'cancel') and row.result in _FAILED:
            severity = Severity.CRITICAL if row.result in ('rejected', 'invalid', 'ambiguous') else Severity.WARNING
            text = f'{row.symbol}: {row.kind} {row.result}: {row.detail or row.reason}'
            yield AlertCandidate(
                f'order_failed:{account}:{row.symbol}:{row.kind}', 'order_failed', severity, text, row.symbol
            )
    blocked = sum(1 for row in rows if row.result == 'blocked')
    if blocked and blocked_reason:
        text = f'{blocked} order write{"s" if blocked > 1 else ""} not sent: {blocked_reason}'
        yield AlertCandidate(f'writes_blocked:{account}', 'writes_blocked', Severity.WARNING, text, None)
