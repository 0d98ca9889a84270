"""The dispatcher: one scheduled tick → one queue message per account, grant by grant.

Per grant: a grant whose re-authorization breaker is open is left out (one "re-authorize <grant>"
message, de-duplicated); its accounts are the ones the file gives it plus, with ``discover``, the ones its
login has (refreshed every 15 minutes; the last list is kept when tastytrade cannot answer). Each grant
sweeps as many accounts as its budget reads in the sweep window (:mod:`tastyguard.fanout.plan`). A tick
that finds the previous tick of its job still running is skipped once (the previous one is doing the
work) and counted, which is what the "tick not finished within its period" alarm watches.

For ensure-stops, when the streamer's status item is fresh, an account the streamer holds and nothing happened
on since its last verified sweep is left out of most ticks and re-verified every ``quiet_verify_minutes``
(:func:`tastyguard.fanout.plan.sweep_watched`, decision 60); without a fresh item every account is due.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from tastyguard import calendar
from tastyguard.broker.budget import BudgetRates
from tastyguard.broker.errors import BrokerError
from tastyguard.broker.tokens import BreakerTrip
from tastyguard.config.grants import GrantConfig
from tastyguard.config.loader import config_fingerprint
from tastyguard.credentials import CredentialsError
from tastyguard.fanout.plan import (
    CLOCK_MARGIN,
    PACE_FAMILY,
    GrantSweep,
    capacity,
    plan_tick,
    quiet_accounts,
    sweep,
    sweep_watched,
)
from tastyguard.fanout.queue import period_seconds
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.invocation import JobInvocation, JobName
from tastyguard.jobs.reauthorize import announce, reauthorize_alert
from tastyguard.jobs.runner import in_market, market_allows
from tastyguard.store.streamer_health import read_health
from tastyguard.store.ticks import DiscoveredAccounts, TickRecord, TickStore

logger = logging.getLogger('tastyguard.fanout')

DISCOVERY_REFRESH = timedelta(minutes=15)
WATCH_FRESH = timedelta(seconds=90)
"""How old the streamer's status item may be for the dispatcher to rely on it (the streamer writes it every 30 s)."""


class WorkQueue(Protocol):
    """Where account runs go (SQS in Lambda; a list in tests and the bench)."""

    def send(self, messages: Sequence[tuple[JobInvocation, int]]) -> None:
        """Enqueue each invocation, visible after its delay in seconds."""
        ...


Discover = Callable[[str], list[str]]
"""``grant name → account numbers`` its login has (raises ``BrokerError``/``CredentialsError`` on failure)."""
BreakerOf = Callable[[str], BreakerTrip | None]


@dataclass
class DispatchResult:
    """What one dispatch did."""

    job: str
    scheduled_time: datetime | None
    dispatched: int = 0
    deferred: int = 0
    grants: dict[str, int] = field(default_factory=dict)
    stopped_grants: list[str] = field(default_factory=list)
    skipped: str | None = None
    previous_unfinished: bool = False
    notes: list[str] = field(default_factory=list)
    quiet: int = 0  # accounts the streamer watches that this tick left for a later one


def dispatch(
    ctx: JobContext,
    invocation: JobInvocation,
    queue: WorkQueue,
    *,
    discover: Discover,
    breaker_of: BreakerOf,
) -> DispatchResult:
    """Fan the tick out (see the module docstring)."""
    job = invocation.job
    result = DispatchResult(job=job.value, scheduled_time=invocation.scheduled_time)
    if not market_allows(invocation, lambda: in_market(ctx, job)):
        result.skipped = 'the market is closed'
        return result
    scheduled = invocation.scheduled_time or ctx.clock()
    ticks = TickStore(ctx.stores.state)
    period = period_seconds(ctx, job)
    previous = ticks.previous(job.value, scheduled)
    if previous is not None and not previous.finished:
        result.previous_unfinished = True
        behind = previous.expected - previous.done
        result.notes.append(f'the tick of {previous.scheduled_time.isoformat()} still has {behind} account runs to go')
        if period is not None and scheduled - previous.scheduled_time < timedelta(seconds=2 * period):
            result.skipped = 'the previous tick is still running'
            return result
    rates = BudgetRates(headroom=ctx.config.scale.headroom)
    pace = rates.rate(PACE_FAMILY[job.value]) or rates.global_limit * rates.headroom
    window = ctx.config.scale.sweep_window_percent / 100 * (period or 0)
    limit = capacity(job.value, pace, window) if period is not None else None
    quiet_verify = timedelta(minutes=ctx.config.scale.quiet_verify_minutes)
    relies = job is JobName.ENSURE_STOPS and period and quiet_verify and ctx.config.streamer.follow_prices
    # without price following, trailing stops move only when a sweep reads the account
    watch = _streamer_watch(ctx, timedelta(seconds=period or 0), quiet_verify) if relies else None
    sweeps: list[GrantSweep] = []
    claimed: set[str] = set()
    for grant in ctx.config.effective_grants:
        trip = breaker_of(grant.name)
        if trip is not None:
            result.stopped_grants.append(grant.name)
            _announce_stopped(ctx, grant.name, trip)
            continue
        accounts = [a for a in _accounts(ctx, grant, ticks, discover, result.notes) if a not in claimed]
        claimed.update(accounts)
        sweeps.append(_sweep_grant(ctx, ticks, job.value, grant.name, accounts, limit, watch, result))
    plan = plan_tick(job.value, sweeps, {s.grant: pace for s in sweeps})
    result.grants = {s.grant: len(s.accounts) for s in sweeps}
    result.deferred = plan.deferred - result.quiet  # the quiet ones were not crowded out: the streamer holds them
    ticks.start(
        TickRecord(
            job=job.value,
            scheduled_time=scheduled,
            dispatched_at=ctx.clock(),
            expected=len(plan.items),
            deferred=result.deferred,
            grants=result.grants,
            stopped_grants=result.stopped_grants,
        )
    )
    queue.send(
        [
            (
                JobInvocation(
                    job=job,
                    scheduled_time=scheduled,
                    schedule_arn=invocation.schedule_arn,
                    account=item.account,
                    grant=item.grant,
                ),
                item.delay,
            )
            for item in plan.items
        ]
    )
    result.dispatched = len(plan.items)
    return result


@dataclass(frozen=True)
class Watch:
    """What one tick relies on from a fresh streamer status item, read once for every grant."""

    held: dict[str, datetime]  # account → held by the account socket since
    activity: dict[str, datetime]  # account → its last notification
    now: datetime
    opened: datetime  # today's session open: verifications before it do not count
    config: str  # the configuration's fingerprint: verifications under another do not count
    period: timedelta
    quiet_verify: timedelta


def _sweep_grant(
    ctx: JobContext,
    ticks: TickStore,
    job: str,
    grant: str,
    accounts: list[str],
    limit: int | None,
    watch: Watch | None,
    result: DispatchResult,
) -> GrantSweep:
    """One grant's part of the tick: the due accounts (rotating when they do not fit) and a share of the quiet."""
    quiet: dict[str, datetime] = {}
    if watch is not None and any(a in watch.held for a in accounts):
        try:
            verified = ticks.verified(job, accounts, watch.config)  # a config change: all due
        except Exception as error:  # unreadable: every account is due, as without a streamer
            logger.warning('could not read when the accounts of %s were verified: %s; all are due', grant, error)
            verified = {}
        quiet = quiet_accounts(accounts, verified, watch.held, watch.activity, not_before=watch.opened)
    cursor = ticks.cursor(job, grant) if limit is not None and len(accounts) > limit else 0
    if watch is not None and quiet:
        grant_sweep = sweep_watched(grant, accounts, limit, cursor, quiet, watch.now, watch.period, watch.quiet_verify)
    else:
        grant_sweep = sweep(grant, accounts, limit, cursor)
    result.quiet += grant_sweep.resting
    if grant_sweep.deferred > grant_sweep.resting:  # due accounts did not all fit: the rotation continues
        ticks.save_cursor(job, grant, grant_sweep.next_cursor)
    return grant_sweep


def _streamer_watch(ctx: JobContext, period: timedelta, quiet_verify: timedelta) -> Watch | None:
    """The tick's :class:`Watch`, or None when there is no fresh status item to rely on."""
    try:
        record = read_health(ctx.stores.state)
    except Exception as error:  # unreadable: sweep everything, as without a streamer
        logger.warning('could not read the streamer status item: %s; every account is swept', error)
        return None
    now = ctx.clock()
    if record is None or not record.held or now - record.updated_at > WATCH_FRESH:
        return None
    if record.updated_at - now > CLOCK_MARGIN:  # it would never go stale: a dead streamer would keep accounts quiet
        logger.warning(
            'the streamer status item is stamped %.0f s ahead of this clock (clock skew); every account is swept',
            (record.updated_at - now).total_seconds(),
        )
        return None
    today = calendar.session(now.astimezone(calendar.NEW_YORK).date())
    opened = today.opens_at if today is not None else now  # a day without a session: nothing counts as verified
    return Watch(
        dict(record.held),
        dict(record.activity),
        now,
        opened,
        config_fingerprint(ctx.config, ctx.build),
        period,
        quiet_verify,
    )


def _accounts(ctx: JobContext, grant: GrantConfig, ticks: TickStore, discover: Discover, notes: list[str]) -> list[str]:
    """The enabled accounts of ``grant``: those the file gives it, plus the discovered ones it admits."""
    config = ctx.config
    configured = config.configured_accounts()
    disabled = {a.account_number for a in configured if not a.enabled}
    listed = [a.account_number for a in configured if a.enabled and config.grant_of(a.account_number) == grant.name]
    if not grant.discover:
        return listed
    found = _discovered(ctx, grant, ticks, discover, notes)
    others = {a.account_number for a in configured if config.grant_of(a.account_number) not in (None, grant.name)}
    extra = [n for n in found if grant.admits(n) and n not in disabled and n not in others and n not in listed]
    return [*listed, *extra]


def _discovered(
    ctx: JobContext, grant: GrantConfig, ticks: TickStore, discover: Discover, notes: list[str]
) -> list[str]:
    known = ticks.discovered(grant.name)
    now = ctx.clock()
    if known is not None and now - known.discovered_at < DISCOVERY_REFRESH:
        return known.accounts
    try:
        accounts = sorted({number.strip().upper() for number in discover(grant.name)})
    except (BrokerError, CredentialsError) as error:
        logger.warning('account discovery for grant %s failed: %s', grant.name, error)
        notes.append(f'grant {grant.name}: could not list its accounts ({error}); using the last known list')
        return known.accounts if known is not None else []
    ticks.save_discovered(DiscoveredAccounts(grant=grant.name, accounts=accounts, discovered_at=now))
    return accounts


def _announce_stopped(ctx: JobContext, grant: str, trip: BreakerTrip) -> None:
    message = (
        f'reauthorize {grant}: token refresh for grant {grant!r} is stopped since '
        f'{trip.tripped_at.isoformat()}: {trip.reason}; its accounts are not swept until it is re-authorized'
    )
    try:
        announce(
            ctx, grant, reauthorize_alert(ctx.environment, grant, message), mode=ctx.config.mode.value, run_id=None
        )
    except Exception:
        logger.exception('could not announce that grant %s needs re-authorizing', grant)
