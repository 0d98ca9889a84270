"""Running a job over accounts: market hours, the lease, the run record, errors, notifications.

Each account is isolated: a failure on one is recorded and announced and the others still run. A failed
broker read skips that account's cycle with nothing changed. A rejected refresh grant stops the whole run
with one "re-authorize" message (the token breaker keeps every later run from calling the token endpoint).
Unexpected errors are re-raised after every account ran, so the Lambda reports an error and alarms fire.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

from tastyguard import calendar
from tastyguard.broker.errors import BrokerError, NotFoundError, PermissionDeniedError, ReauthorizationRequired
from tastyguard.config.models import Severity
from tastyguard.credentials import CredentialsError
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.invocation import JobInvocation, JobName
from tastyguard.jobs.notices import build_notice, decide, shadow_candidates
from tastyguard.jobs.outcome import Outcome
from tastyguard.jobs.results import AccountRunResult, AlertView
from tastyguard.notify.dedupe import AlertCandidate
from tastyguard.notify.notice import Notice, NoticeSection
from tastyguard.store.lease import AccountLease, LeaseUnavailableError
from tastyguard.store.runs import RunRecord, RunStatus

logger = logging.getLogger('tastyguard.jobs')

AccountJob = Callable[[JobContext, JobInvocation, str, str, Outcome], Outcome]
"""A job on one account: fills (and returns) the outcome it is given, so a crash keeps what was done."""
GLOBAL_ACCOUNT = 'GLOBAL'
REAUTHORIZE_KIND = 'reauthorize'
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


def accounts_for(ctx: JobContext, invocation: JobInvocation) -> list[str]:
    """The enabled configured accounts, or the one the invocation names (it must be configured)."""
    if invocation.account:
        account = ctx.config.account(invocation.account)
        if not account.enabled:
            ctx.notes.append(f'account {account.account_number} is disabled in the configuration; nothing to do')
            return []
        return [account.account_number]
    return [account.account_number for account in ctx.config.accounts if account.enabled]


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
    for account in accounts_for(ctx, invocation):
        result = _run_account(ctx, invocation, account, job, scope_kinds, unexpected)
        results.append(result)
        if any(REAUTHORIZE_KIND in error for error in result.errors):
            break  # every account would fail the same way; the breaker is open
    if unexpected:
        raise JobFailedError('; '.join(unexpected))
    return results


def _run_account(
    ctx: JobContext,
    invocation: JobInvocation,
    account: str,
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
        status = RunStatus.FAILED
        errors = [f'{REAUTHORIZE_KIND}: {error}. Create a new grant at my.tastytrade.com (Manage → API → OAuth), '
                  'store it in the broker secret, then reset the token breaker '
                  f'(./tastyguard token reset -e {ctx.environment} --store tastyguard).']  # fmt: skip
        global_alert = AlertCandidate(
            f'{REAUTHORIZE_KIND}:{ctx.environment}', REAUTHORIZE_KIND, Severity.CRITICAL, errors[0], None
        )
    except CredentialsError as error:
        status = RunStatus.FAILED
        errors = [f'{REAUTHORIZE_KIND}: {error}']
        global_alert = AlertCandidate(
            f'{REAUTHORIZE_KIND}:{ctx.environment}:credentials', REAUTHORIZE_KIND, Severity.CRITICAL, errors[0], None
        )
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
    _announce(ctx, result, outcome, scope_kinds if status is RunStatus.OK else frozenset(), global_alert)
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
) -> None:
    """De-duplicate the alerts and publish the run's message (a failed publish is logged, not fatal)."""
    try:
        if global_alert is not None:
            decided = decide(ctx, GLOBAL_ACCOUNT, [global_alert], frozenset())
            if decided.send or decided.reminders:
                _publish(ctx, _reauthorize_notice(ctx, global_alert, result))
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


def announce_reauthorization(ctx: JobContext, error: ReauthorizationRequired, *, mode: str, run_id: str) -> None:
    """The one "re-authorize" message (shared with the jobs' key, so it is sent once whoever meets it first)."""
    text = f'{REAUTHORIZE_KIND}: {error}. Create a new grant and store it, then run ./tastyguard token reset.'
    alert = AlertCandidate(f'{REAUTHORIZE_KIND}:{ctx.environment}', REAUTHORIZE_KIND, Severity.CRITICAL, text, None)
    decided = decide(ctx, GLOBAL_ACCOUNT, [alert], frozenset())
    if decided.send or decided.reminders:
        result = AccountRunResult(
            job='streamer', run_id=run_id, account=GLOBAL_ACCOUNT, mode=mode, environment=ctx.environment,
            status=RunStatus.FAILED.value,
        )  # fmt: skip
        _publish(ctx, _reauthorize_notice(ctx, alert, result))


def _reauthorize_notice(ctx: JobContext, alert: AlertCandidate, result: AccountRunResult) -> Notice:
    return Notice(
        kind=REAUTHORIZE_KIND,
        severity=Severity.CRITICAL,
        title='tastyguard needs a new tastytrade grant',
        environment=result.environment,
        mode=result.mode,
        summary='tastytrade rejected the refresh token, so tastyguard stopped calling the token endpoint '
        '(repeated failed logins get an IP blocked for hours). Existing stops at the broker are untouched.',
        sections=[
            NoticeSection(
                title='What to do',
                lines=[
                    'Create a new grant: my.tastytrade.com → Manage → My Profile → API → OAuth Applications '
                    '→ Create Grant.',
                    'Store it: aws secretsmanager put-secret-value --secret-id tastyguard/broker '
                    '--secret-string \'{"client_secret": "...", "refresh_token": "..."}\'',
                    f'Resume: ./tastyguard token reset -e {ctx.environment} --store tastyguard (closes the token '
                    'breaker).',
                ],
            ),
            NoticeSection(title='Details', lines=[alert.message]),
        ],
        run_id=result.run_id,
        created_at=ctx.clock(),
        dedupe_key=alert.dedupe_key,
    )
