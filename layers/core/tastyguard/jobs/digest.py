"""``digest``: the daily summary — positions and coverage, money at risk without a stop, this week's
expirations and assignments (done and coming, :mod:`tastyguard.jobs.week_ahead`), what tastyguard did in the
last day, and what is waiting for the user. Reads the broker (no writes) and the stores."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

from tastyguard.config.models import Severity
from tastyguard.engine.actions import CoverageStatus
from tastyguard.jobs import week_ahead
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.ensure_stops import plan_account
from tastyguard.jobs.invocation import JobInvocation
from tastyguard.jobs.notices import account_label
from tastyguard.jobs.outcome import DONE, Outcome, summarise_coverage
from tastyguard.jobs.reading import AccountRead, quotes_for
from tastyguard.jobs.results import result_words
from tastyguard.notify.notice import Notice, NoticeSection

ALERT_KINDS: frozenset[str] = frozenset()
_WRITES = ('place', 'replace', 'cancel')
_COVERAGE_WORDS = {
    CoverageStatus.PROTECTED: 'protected',
    CoverageStatus.PARTIAL: 'partly protected',
    CoverageStatus.UNPROTECTED: 'unprotected',
    CoverageStatus.HANDS_OFF: 'hands-off',
    CoverageStatus.ALERT_ONLY: 'alert only',
    CoverageStatus.SOFTWARE_STOP: 'software stop (the streamer watches it)',
}


def digest(ctx: JobContext, invocation: JobInvocation, account: str, run_id: str, outcome: Outcome) -> Outcome:
    """Build the account's daily digest (published by the runner)."""
    mode = ctx.mode_for(account)
    plan, read = plan_account(ctx, account, invocation.salt(run_id), outcome)
    week = _week(ctx, account, read, outcome)
    positions, protected, unprotected, at_risk = summarise_coverage(plan, [], applied=False)
    outcome.positions, outcome.protected, outcome.unprotected, outcome.money_at_risk = (
        positions,
        protected,
        unprotected,
        at_risk,
    )
    since = ctx.clock() - timedelta(days=1)
    done: Counter[str] = Counter()
    failed: list[str] = []
    events: list[str] = []
    for run in ctx.stores.runs.recent(account, limit=500):
        if run.started_at < since:
            break
        events.extend(str(event) for event in run.summary.get('events', ()))
        for row in run.actions:
            if row.get('kind') in _WRITES:
                if row.get('result') in DONE:
                    done[str(row['kind'])] += 1
                elif row.get('result') not in ('planned', 'dry_run_ok', 'would_cancel', 'deferred'):
                    failed.append(
                        f'{row.get("symbol")}: {row.get("kind")} {result_words(str(row.get("result")))}'
                        f' ({row.get("detail", "")})'
                    )
    waiting = [
        f'[{record.severity}] {record.message}'
        for record in sorted(ctx.stores.alerts.all(account).values(), key=lambda r: r.first_seen)
        if record.open and record.kind != 'shadow'
    ]
    coverage_lines = [
        f'{cover.symbol}: {cover.quantity:+} — {_COVERAGE_WORDS.get(cover.status, cover.status.value)}'
        + (
            f', {cover.unprotected_now} without a stop ({cover.money_at_risk_now:,.2f} at risk)'
            if cover.unprotected_now and cover.status is not CoverageStatus.HANDS_OFF
            else ''
        )
        for cover in plan.coverage
    ]
    outcome.notice = Notice(
        kind='digest',
        severity=Severity.WARNING if unprotected or waiting or any(_SOON in text for text in week) else Severity.INFO,
        title=f'Daily digest: {protected} of {positions} positions protected'
        + (f', {at_risk:,.2f} at risk' if at_risk > Decimal(0) else ''),
        environment=ctx.environment,
        mode=mode.value,
        account=account_label(ctx, account),
        summary=f'{positions} positions, {protected} fully protected, {unprotected} without a full stop.',
        sections=[
            NoticeSection(title='Positions and coverage', lines=coverage_lines),
            NoticeSection(title='Expirations and assignments this week', lines=week or ['nothing']),
            NoticeSection(
                title='What tastyguard did in the last 24 hours',
                lines=[_did(kind, count) for kind, count in sorted(done.items())] + failed + events[:20] or ['nothing'],
            ),
            NoticeSection(title='Waiting for you', lines=waiting or ['nothing']),
        ],
        run_id=run_id,
        created_at=ctx.clock(),
    )
    outcome.publish_notice = ctx.config.notifications.digest
    return outcome


_SOON = 'assignment likely'


def _week(ctx: JobContext, account: str, read: AccountRead, outcome: Outcome) -> list[str]:
    now = ctx.clock()
    expiring = week_ahead.expiring_this_week(read.holdings, read.quotes, now)
    missing = [pair for pair in week_ahead.underlying_symbols(expiring) if pair[0] not in read.quotes]
    quotes = dict(read.quotes)
    if missing:
        fetched, notes = quotes_for(ctx.broker, missing)
        quotes.update(fetched)
        outcome.notes.extend(notes)
        expiring = week_ahead.expiring_this_week(read.holdings, quotes, now)
    snapshot = ctx.stores.snapshots.latest(account)
    done = week_ahead.happened_this_week(snapshot.events if snapshot else (), now)
    return done + [week_ahead.line(item) for item in expiring]


def _did(kind: str, count: int) -> str:
    noun = 'stop' if count == 1 else 'stops'
    return {
        'place': f'{count} {noun} placed',
        'replace': f'{count} {noun} resized',
        'cancel': f'{count} {noun} cancelled',
    }.get(kind, f'{count} {kind}')
