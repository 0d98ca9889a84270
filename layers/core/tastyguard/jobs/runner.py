"""Running a job over accounts: market hours, the lease, the run record, errors, notifications.

Each account is isolated: a failure on one is recorded and announced and the others still run. A failed
broker read skips that account's cycle with nothing changed. A rejected refresh grant stops that grant's
accounts with one "re-authorize <grant>" message (its token breaker keeps every later run from calling the
token endpoint); accounts of other grants still run. Unexpected errors are re-raised after every account
ran, so the Lambda reports an error and alarms fire.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from tastyguard import calendar
from tastyguard.broker.errors import BrokerError, NotFoundError, PermissionDeniedError, ReauthorizationRequired
from tastyguard.config.models import Severity
from tastyguard.credentials import CredentialsError
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.grants import grant_of
from tastyguard.jobs.invocation import JobInvocation, JobName
from tastyguard.jobs.notices import build_notice, decide, shadow_candidates
from tastyguard.jobs.outcome import Outcome
from tastyguard.jobs.reauthorize import REAUTHORIZE_KIND, announce, reauthorize_alert, reauthorize_error
from tastyguard.jobs.results import AccountRunResult, AlertView
from tastyguard.notify.dedupe import AlertCandidate
from tastyguard.notify.notice import Notice
from tastyguard.store.lease import AccountLease, LeaseUnavailableError
from tastyguard.store.runs import RunRecord, RunStatus
from tastyguard.store.ticks import TickStore

logger = logging.getLogger('tastyguard.jobs')

AccountJob = Callable[[JobContext, JobInvocation, str, str, Outcome], Outcome]
"""A job on one account: fills (and returns) the outcome it is given, so a crash keeps what was done."""
CONFIGURATION_KIND = 'configuration'


class JobFailedError(RuntimeError):
    """At least one account failed unexpectedly (the others ran); see the run records and logs."""


class AccountBusyError(RuntimeError):
    """An event could not take the account's lease in time; raising lets EventBridge deliver it again."""


LEASE_POLL_SECONDS = 1.0


def _take_lease(ctx: JobContext, lease: AccountLease) -> None:
    """Take the lease, waiting up to ``ctx.lease_wait`` for another run of the account to finish."""
    attempts = max(1, int(ctx.lease_wait.total_seconds() / LEASE_POLL_SECONDS) + 1)
    for attempt in range(attempts):
        try:
            lease.acquire()
            return
        except LeaseUnavailableError:
            if attempt + 1 == attempts:
                raise
            ctx.sleep(LEASE_POLL_SECONDS)


def market_allows(invocation: JobInvocation, now_check: Callable[[], bool]) -> bool:
    """Scheduled runs happen only in session (the digest on trading days); events and forced runs always."""
    if invocation.force or invocation.event_id:
        return True
    return now_check()


def in_market(ctx: JobContext, job: JobName) -> bool:
    """Whether the market calendar lets ``job`` run now."""
    now = ctx.clock()
    if job is JobName.DIGEST:
        return calendar.is_trading_day(now.astimezone(calendar.NEW_YORK).date())
    return calendar.in_session(now, before=timedelta(minutes=30), after=timedelta(minutes=15))


def accounts_for(ctx: JobContext, invocation: JobInvocation) -> list[tuple[str, str]]:
    """``(account, grant)`` of the enabled configured accounts, or of the one account the invocation names.

    A named account must be in the configuration or discovered by the invocation's grant (and not excluded).
    """
    if invocation.account:
        number = invocation.account.strip().upper()
        grant = grant_of(ctx.config, number, invocation.grant or _discovered_by(ctx, number))
        account = ctx.config.including(number).account(number)
        if not account.enabled:
            ctx.notes.append(f'account {account.account_number} is disabled in the configuration; nothing to do')
            return []
        return [(account.account_number, grant)]
    return [
        (account.account_number, grant_of(ctx.config, account.account_number))
        for account in ctx.config.configured_accounts()
        if account.enabled
    ]


def _discovered_by(ctx: JobContext, account: str) -> str | None:
    """The discovering grant whose last discovery found ``account`` (a fill event names no grant)."""
    if ctx.config.grant_of(account) is not None:
        return None
    ticks = TickStore(ctx.stores.state)
    for grant in ctx.config.effective_grants:
        if grant.discover and (found := ticks.discovered(grant.name)) is not None and account in found.accounts:
            return grant.name
    return None


def account_context(ctx: JobContext, account: str, grant: str) -> JobContext:
    """The context one account's job runs with: its grant's broker client, the account in the config."""
    config = ctx.config.including(account)
    broker = ctx.clients.get(grant) if ctx.clients is not None else ctx.broker
    if config is ctx.config and broker is ctx.broker:
        return ctx
    return replace(ctx, config=config, broker=broker)


def run_job(
    ctx: JobContext, invocation: JobInvocation, job: AccountJob, scope_kinds: frozenset[str]
) -> list[AccountRunResult]:
    """Run ``job`` for every account of the invocation."""
    if not market_allows(invocation, lambda: in_market(ctx, invocation.job)):
        logger.info('%s skipped: the market is closed', invocation.job)
        ctx.notes.append('skipped: the market is closed (use --force to run anyway)')
        return []
    results: list[AccountRunResult] = []
    unexpected: list[str] = []
    stopped: set[str] = set()  # grants whose breaker opened in this run: their other accounts would fail alike
    for account, grant in accounts_for(ctx, invocation):
        if grant in stopped:
            continue
        result = _run_account(
            account_context(ctx, account, grant), invocation, account, grant, job, scope_kinds, unexpected
        )
        results.append(result)
        if any(error.startswith(REAUTHORIZE_KIND) for error in result.errors):
            stopped.add(grant)
    if unexpected:
        raise JobFailedError('; '.join(unexpected))
    return results


def _run_account(
    ctx: JobContext,
    invocation: JobInvocation,
    account: str,
    grant: str,
    job: AccountJob,
    scope_kinds: frozenset[str],
    unexpected: list[str],
) -> AccountRunResult:
    run_id = uuid.uuid4().hex[:12]
    mode = ctx.mode_for(account)
    started = ctx.clock()
    clock_start = time.monotonic()
    calls_before = _calls(ctx)
    limited_before = int(str(ctx.broker.stats.snapshot()['rate_limited_responses']))
    record = RunRecord(
        run_id=run_id, job=invocation.job.value, account=account, mode=mode.value,
        environment=ctx.environment, started_at=started,
    )  # fmt: skip
    ctx.stores.runs.start(record)
    outcome = Outcome(mode=mode.value)
    errors: list[str] = []
    status = RunStatus.OK
    global_alert: AlertCandidate | None = None
    lease = AccountLease(ctx.stores.state, account, f'{ctx.owner}:{run_id}', ctx.lease_duration)
    busy = False
    try:
        _take_lease(ctx, lease)
        try:
            job(ctx, invocation, account, run_id, outcome)
        finally:
            lease.release()
    except LeaseUnavailableError as error:
        status, errors, busy = RunStatus.SKIPPED, [str(error)], True
    except ReauthorizationRequired as error:
        status, errors = RunStatus.FAILED, [reauthorize_error(grant, error)]
        global_alert = reauthorize_alert(ctx.environment, grant, errors[0])
    except CredentialsError as error:
        status, errors = RunStatus.FAILED, [f'{REAUTHORIZE_KIND} {grant}: {error}']
        global_alert = reauthorize_alert(ctx.environment, grant, errors[0], credentials=True)
    except BrokerError as error:
        status, errors = _broker_failure(error, account, outcome)
    except Exception as error:  # an unexpected bug: record it, finish the other accounts, then fail loudly
        logger.exception('%s failed on %s', invocation.job, account)
        status, errors = RunStatus.FAILED, [f'unexpected error: {type(error).__name__}: {error}']
        unexpected.append(f'{account}: {type(error).__name__}')
    result = AccountRunResult(
        job=invocation.job.value,
        run_id=run_id,
        account=account,
        mode=outcome.mode,
        environment=ctx.environment,
        status=status.value,
        positions=outcome.positions,
        protected=outcome.protected,
        unprotected=outcome.unprotected,
        money_at_risk=outcome.money_at_risk,
        actions=outcome.actions,
        alerts=[
            AlertView(kind=a.kind, severity=a.severity.value, message=a.message, symbol=a.symbol)
            for a in [*outcome.alerts, *([global_alert] if global_alert else [])]
        ],
        digest=outcome.notice if outcome.notice is not None and outcome.notice.kind == 'digest' else None,
        errors=errors,
        notes=outcome.notes,
        events=outcome.events,
        api_calls=_calls(ctx) - calls_before,
        rate_limited=int(str(ctx.broker.stats.snapshot()['rate_limited_responses'])) - limited_before,
        duration_ms=int((time.monotonic() - clock_start) * 1000),
    )
    ctx.stores.runs.finish(
        record.model_copy(
            update={
                'finished_at': ctx.clock(),
                'status': status,
                'summary': {
                    'positions': result.positions, 'protected': result.protected,
                    'unprotected': result.unprotected,
                    'money_at_risk': None if result.money_at_risk is None else str(result.money_at_risk),
                    'api_calls': result.api_calls,
                    'events': outcome.events[:50],
                },
                'actions': [row.model_dump(mode='json', exclude_none=True) for row in result.actions],
                'errors': errors,
            }
        )
    )  # fmt: skip
    if busy:
        if invocation.event_id:
            raise AccountBusyError(f'account {account} stayed busy for {ctx.lease_wait}; the event will be retried')
        return result  # another run of this account is doing the work: nothing to announce
    _announce(ctx, result, outcome, scope_kinds if status is RunStatus.OK else frozenset(), global_alert, grant)
    return result


def _broker_failure(error: BrokerError, account: str, outcome: Outcome) -> tuple[RunStatus, list[str]]:
    """A broker error of one account: a wrong account number is a configuration error, the rest an outage."""
    if _unknown_account(error, account):
        text = (
            f'{CONFIGURATION_KIND}: tastytrade does not know account {account} for this grant (HTTP {error.status}); '
            'fix accounts[].account_number in the configuration or set enabled: false for it, then redeploy'
        )
        outcome.alerts.append(
            AlertCandidate(f'{CONFIGURATION_KIND}:{account}', CONFIGURATION_KIND, Severity.CRITICAL, text)
        )
        return RunStatus.FAILED, [text]
    text = f'a broker read failed, so nothing was changed this cycle: {error}'
    outcome.alerts.append(AlertCandidate(f'broker_unavailable:{account}', 'broker_unavailable', Severity.WARNING, text))
    return RunStatus.SKIPPED, [text]


def _unknown_account(error: BrokerError, account: str) -> bool:
    """A 403/404 on the account's own path: the configured account is not this grant's (a configuration error)."""
    return isinstance(error, NotFoundError | PermissionDeniedError) and (error.path or '').startswith(
        f'/accounts/{account}/'
    )


def _calls(ctx: JobContext) -> int:
    return int(str(ctx.broker.stats.snapshot()['total_calls']))


def _announce(
    ctx: JobContext,
    result: AccountRunResult,
    outcome: Outcome,
    scope_kinds: frozenset[str],
    global_alert: AlertCandidate | None,
    grant: str,
) -> None:
    """De-duplicate the alerts and publish the run's message (a failed publish is logged, not fatal)."""
    try:
        if global_alert is not None:
            announce(ctx, grant, global_alert, mode=result.mode, run_id=result.run_id)
            return
        if outcome.notice is not None and outcome.publish_notice:
            _publish(ctx, outcome.notice)
        candidates = [*outcome.alerts, *shadow_candidates(result.account, result.actions)]
        # A completed run resolves the kinds it owns (plus a broker outage or an account problem that is over); an
        # incomplete one nothing.
        owned = scope_kinds | {'broker_unavailable', CONFIGURATION_KIND} if scope_kinds else frozenset()
        decided = decide(ctx, result.account, candidates, owned, outcome.scope_symbols)
        notice = build_notice(ctx, result, decided, outcome.events)
        if notice is not None:
            _publish(ctx, notice)
    except Exception:
        logger.exception('could not publish the notification of run %s', result.run_id)


def _publish(ctx: JobContext, notice: Notice) -> None:
    ctx.notifier.publish(notice)
