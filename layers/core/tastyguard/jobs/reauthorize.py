"""The one "re-authorize <grant>" message when tastytrade rejects a grant (or its secret is not stored).

Every account of that grant fails the same way (its breaker is open), possibly in many workers at once.
Two guards keep it to one message: a claim in the state table lets one process per re-alert window go on,
and the usual alert de-duplication (under the ``GLOBAL`` pseudo-account) decides between new, reminder and
nothing. Other grants' accounts are not affected.
"""

from __future__ import annotations

from datetime import timedelta

from tastyguard.config.grants import DEFAULT_GRANT
from tastyguard.config.models import Severity
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.notices import decide
from tastyguard.notify.dedupe import AlertCandidate
from tastyguard.notify.notice import Notice, NoticeSection
from tastyguard.store.keys import GLOBAL_PK

REAUTHORIZE_KIND = 'reauthorize'
GLOBAL_ACCOUNT = 'GLOBAL'


def reauthorize_alert(environment: str, grant: str, message: str, *, credentials: bool = False) -> AlertCandidate:
    """The alert for a grant that needs a person (the default grant keeps its key from before grants)."""
    key = f'{REAUTHORIZE_KIND}:{environment}' + ('' if grant == DEFAULT_GRANT else f':{grant}')
    if credentials:
        key += ':credentials'
    return AlertCandidate(key, REAUTHORIZE_KIND, Severity.CRITICAL, message, None)


def reauthorize_error(grant: str, error: Exception) -> str:
    """The run's error line for a rejected grant."""
    return (
        f'{REAUTHORIZE_KIND} {grant}: {error}. Create a new grant at my.tastytrade.com (Manage → API → OAuth), '
        f'store it in its secret, then reset the token breaker '
        f'(./tastyguard token reset --grant {grant} --store tastyguard).'
    )


def announce(ctx: JobContext, grant: str, alert: AlertCandidate, *, mode: str, run_id: str | None) -> bool:
    """Publish the message if this process wins the window's claim and de-duplication lets it; True if sent."""
    minutes = ctx.config.notifications.realert_after_minutes
    window = int(ctx.clock().timestamp()) // (minutes * 60)
    if not ctx.stores.state.claim_once(GLOBAL_PK, f'CLAIM#{alert.dedupe_key}#{window}', timedelta(minutes=2 * minutes)):
        return False
    decided = decide(ctx, GLOBAL_ACCOUNT, [alert], frozenset())
    if not (decided.send or decided.reminders):
        return False
    ctx.notifier.publish(reauthorize_notice(ctx, grant, alert, mode=mode, run_id=run_id))
    return True


def reauthorize_notice(ctx: JobContext, grant: str, alert: AlertCandidate, *, mode: str, run_id: str | None) -> Notice:
    """What the person reads: which grant, which accounts stopped, how to store a new grant and resume."""
    try:
        secret = ctx.config.grant(grant).secret_name
    except KeyError:
        secret = '<the grant secret>'  # noqa: S105 - a placeholder in a message
    config = ctx.config
    accounts = [a.account_number for a in config.configured_accounts() if config.grant_of(a.account_number) == grant]
    listed = ', '.join(accounts[:10]) + (', …' if len(accounts) > 10 else '')
    scope = f'the accounts of grant {grant!r}' + (f' ({listed})' if accounts else '')
    return Notice(
        kind=REAUTHORIZE_KIND,
        severity=Severity.CRITICAL,
        title=f'tastyguard needs a new tastytrade grant: re-authorize {grant}',
        environment=ctx.environment,
        mode=mode,
        summary=f'tastytrade rejected the refresh token of grant {grant!r}, so tastyguard stopped calling the '
        f'token endpoint for it (repeated failed logins get an IP blocked for hours) and paused {scope}. '
        'Other grants keep running. Existing stops at the broker are untouched.',
        sections=[
            NoticeSection(
                title='What to do',
                lines=[
                    'Create a new grant: my.tastytrade.com → Manage → My Profile → API → OAuth Applications '
                    '→ Create Grant.',
                    f'Store it: aws secretsmanager put-secret-value --secret-id {secret} '
                    '--secret-string \'{"client_secret": "...", "refresh_token": "..."}\'',
                    f'Resume: ./tastyguard token reset --grant {grant} --store tastyguard (closes the token breaker).',
                ],
            ),
            NoticeSection(title='Details', lines=[alert.message]),
        ],
        run_id=run_id,
        created_at=ctx.clock(),
        dedupe_key=alert.dedupe_key,
    )
