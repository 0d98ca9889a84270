"""One message per run and account, saying what the broker actually did and what needs a person.

Alerts go through de-duplication (new, escalated, reminder, resolved). Order writes that happened are
always reported (they are rare and they are the point); in shadow mode each intended order is announced
once (de-duplicated like an alert) so a shadow run every five minutes does not repeat itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from tastyguard.config.models import Severity
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.outcome import DONE
from tastyguard.jobs.results import AccountRunResult, ActionResult, result_words
from tastyguard.notify.dedupe import AlertCandidate, Triage, triage
from tastyguard.notify.notice import Notice, NoticeSection
from tastyguard.store.alerts import AlertRecord

ONE_SHOT_KINDS = frozenset(
    {
        'stop_filled', 'partial_fill', 'stop_cancelled', 'stop_edited', 'rejected', 'expired',
        'expiration', 'assignment', 'exercise', 'cash_settlement', 'split',  # position events (jobs/overnight.py)
    }
)  # fmt: skip
"""Alerts about events, not conditions: announced once and closed at once (never "waiting for you")."""

TRANSIENT_KINDS = frozenset({'blocked_by_pending_orders', 'pending_absence'})
"""Conditions that settle within one run: one still open from an earlier run is escalated to a warning, so a
"waiting" state can never last silently."""

_SHADOW = frozenset({'dry_run_ok', 'dry_run_rejected', 'dry_run_failed', 'would_cancel'})
_WRITES = frozenset({'place', 'replace', 'cancel'})


def action_line(row: ActionResult) -> str:
    """``place AAPL: Sell to Close 100 Stop @ 160.65 → placed (order 123)`` (the result in words)."""
    what = ' '.join(
        str(part)
        for part in (
            row.action,
            row.quantity,
            row.order_type,
            f'@ {row.stop_trigger}' if row.stop_trigger is not None else None,
            f'limit {row.limit_price}' if row.limit_price is not None else None,
        )
        if part is not None
    )
    order = f' (order {row.order_id})' if row.order_id else ''
    detail = f' — {row.detail}' if row.detail else ''
    target = f'{row.symbol}: {what}' if what else f'{row.symbol}'
    return f'{row.kind} {target} → {result_words(row.result)}{order}{detail}'


def shadow_candidates(account: str, actions: Sequence[ActionResult]) -> list[AlertCandidate]:
    """Shadow-mode intentions as de-duplicated info alerts."""
    return [
        AlertCandidate(
            dedupe_key=f'shadow:{account}:{row.kind}:{row.symbol}:{row.quantity}:{row.stop_trigger}:{row.order_id}',
            kind='shadow',
            severity=Severity.WARNING if row.result == 'dry_run_rejected' else Severity.INFO,
            message=_shadow_line(row),
            symbol=row.symbol,
        )
        for row in actions
        if row.kind in _WRITES and row.result in _SHADOW
    ]


def _shadow_line(row: ActionResult) -> str:
    """``would place AAPL: ... → dry-run ok``; a cancel (nothing to dry-run) as ``would cancel SPY (order 7)``."""
    if row.result == 'would_cancel':
        return f'would cancel {row.symbol}' + (f' (order {row.order_id})' if row.order_id else '')
    return f'would {action_line(row)}'


def decide(
    ctx: JobContext,
    account: str,
    candidates: Sequence[AlertCandidate],
    scope_kinds: frozenset[str],
    scope_symbols: frozenset[str] | None = None,
) -> Triage:
    """Run de-duplication against the stored alert records and store the outcome."""
    records = ctx.stores.alerts.all(account)
    minutes = ctx.config.notifications.realert_after_minutes
    now = ctx.clock()
    candidates = [_escalate_if_stuck(c, records.get(c.dedupe_key), now) for c in candidates]
    result = triage(
        account,
        candidates,
        records,
        now=now,
        repeat_after=timedelta(minutes=minutes),
        scope_kinds=scope_kinds,
        scope_symbols=scope_symbols,
    )
    ctx.stores.alerts.save(
        [
            r.model_copy(update={'resolved_at': now}) if r.kind in ONE_SHOT_KINDS and r.open else r
            for r in result.records
        ]
    )
    return result


def _escalate_if_stuck(candidate: AlertCandidate, record: AlertRecord | None, now: datetime) -> AlertCandidate:
    """A transient condition already open before this run is stuck: a warning that names it."""
    if candidate.kind not in TRANSIENT_KINDS or record is None or not record.open or record.first_seen >= now:
        return candidate
    if candidate.severity.rank >= Severity.WARNING.rank:
        return candidate
    message = f'{candidate.message} (unchanged since {record.first_seen:%Y-%m-%d %H:%M} UTC: check these orders)'
    return replace(candidate, severity=Severity.WARNING, message=message)


def build_notice(
    ctx: JobContext, result: AccountRunResult, decided: Triage, events: Sequence[str] = ()
) -> Notice | None:
    """The run's message, or None when there is nothing a person needs to hear."""
    minimum = ctx.config.notifications.min_severity.rank
    executed = [row for row in result.actions if row.kind in _WRITES and row.result in DONE | {'already_sent'}]
    shadow = [c for c in decided.send if c.kind == 'shadow']
    urgent = [c for c in [*decided.send, *decided.reminders] if c.kind != 'shadow' and c.severity.rank >= minimum]
    resolved = [r for r in decided.resolved if r.kind != 'shadow'] if minimum == 0 else []
    announced = {c.message for c in [*decided.send, *decided.reminders, *decided.suppressed]}
    events = [event for event in events if event not in announced] if minimum == 0 else []
    # Failures and errors reach people through their de-duplicated alerts, never on every run by themselves.
    if not (executed or shadow or urgent or resolved or events):
        return None
    errors = list(result.errors)
    sections: list[NoticeSection] = []
    if executed:
        sections.append(NoticeSection(title='What the broker did', lines=[action_line(r) for r in executed]))
    if shadow:
        sections.append(
            NoticeSection(title='What live mode would do (nothing was submitted)', lines=[c.message for c in shadow])
        )
    happened = [c for c in urgent if c.kind in ONE_SHOT_KINDS]
    needs_you = [c for c in urgent if c.kind not in ONE_SHOT_KINDS]
    if happened:
        sections.append(NoticeSection(title='What happened at the broker', lines=[c.message for c in happened]))
    if needs_you:
        sections.append(NoticeSection(title='Needs you', lines=[f'[{c.severity}] {c.message}' for c in needs_you]))
    if resolved:
        sections.append(NoticeSection(title='Resolved', lines=[r.message for r in resolved]))
    if events:
        sections.append(NoticeSection(title='What changed', lines=events))
    if errors:
        sections.append(NoticeSection(title='Problems', lines=errors))
    severities = [c.severity for c in [*urgent, *shadow]]
    if errors:
        severities.append(Severity.WARNING)
    severity = max(severities, key=lambda s: s.rank, default=Severity.INFO)
    return Notice(
        kind=result.job,
        severity=severity,
        title=_title(result, executed, urgent, shadow),
        environment=result.environment,
        mode=result.mode,
        account=account_label(ctx, result.account),
        summary=_summary(result),
        sections=sections,
        run_id=result.run_id,
        created_at=ctx.clock(),
    )


def account_label(ctx: JobContext, account: str) -> str:
    """The account as people know it (nickname and number)."""
    try:
        nickname = ctx.config.account(account).nickname
    except KeyError:
        nickname = None
    return f'{nickname} ({account})' if nickname else account


def _title(
    result: AccountRunResult,
    executed: Sequence[ActionResult],
    urgent: Sequence[AlertCandidate],
    shadow: Sequence[AlertCandidate],
) -> str:
    parts: list[str] = []
    placed = sum(1 for r in executed if r.kind == 'place')
    replaced = sum(1 for r in executed if r.kind == 'replace')
    cancelled = sum(1 for r in executed if r.kind == 'cancel')
    for count, word in ((placed, 'placed'), (replaced, 'resized'), (cancelled, 'cancelled')):
        if count:
            parts.append(f'{count} stop{"s" if count > 1 else ""} {word}')
    if shadow:
        parts.append(f'{len(shadow)} order{"s" if len(shadow) > 1 else ""} would be sent')
    if urgent:
        parts.append(f'{len(urgent)} need{"s" if len(urgent) == 1 else ""} you')
    if result.errors and not parts:
        parts.append('the run had problems')
    job = result.job.replace('_', ' ')
    if len(urgent) == 1 and not (executed or shadow):
        message = urgent[0].message
        return f'{job}: {message if len(message) <= 90 else message[:89] + "…"}'
    return f'{job}: ' + (', '.join(parts) or 'update')


def _summary(result: AccountRunResult) -> str:
    if result.positions is None or result.protected is None or result.unprotected is None:
        return ''  # the run did not establish coverage: say nothing rather than a reassuring zero
    text = f'{result.positions} positions, {result.protected} protected, {result.unprotected} without a full stop'
    at_risk = result.money_at_risk
    return text + (f', {at_risk:,.2f} at risk' if result.unprotected and at_risk is not None else '')
