"""The worker side of the fan-out: one queue message is one account run of one tick.

A message is parsed into a :class:`JobInvocation` naming the account (and the grant that reaches it). A
message is stale, and dropped, once a newer tick of its job has been dispatched (that tick has its own message
for the account) or when it is a day old. Every finished account run, whatever its outcome, counts towards its
tick; the run that finishes the tick reports how long the whole tick took. A scheduled ensure-stops run that
leaves nothing for the next tick records the account as verified (:func:`record_verified`, decision 60).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from tastyguard.config.loader import config_fingerprint
from tastyguard.fanout.queue import MAX_RECEIVES, period_seconds
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.invocation import JobInvocation, JobName
from tastyguard.jobs.results import AccountRunResult
from tastyguard.store.ticks import TickStore

__all__ = [
    'MAX_RECEIVES',
    'BadMessageError',
    'finish_account',
    'is_stale',
    'leaves_nothing_to_do',
    'parse_message',
    'receive_count',
    'record_verified',
]

logger = logging.getLogger('tastyguard.fanout')

MAX_AGE = timedelta(days=1)
QUIET_ACTIONS = frozenset({'report'})
"""Action kinds a verifying run may have reported (anything else is work the next tick should look at again)."""


class BadMessageError(ValueError):
    """A queue message that is not an account run of this function's job."""


def parse_message(record: Mapping[str, Any], job: JobName) -> JobInvocation:
    """The invocation in an SQS record's body (it must name an account and a tick of ``job``)."""
    try:
        invocation = JobInvocation.model_validate_json(str(record.get('body', '')))
    except ValidationError as error:
        raise BadMessageError(f'not a tastyguard work message: {error.errors()[0]["msg"]}') from None
    if invocation.job is not job:
        raise BadMessageError(f'this function runs {job.value}, the message asks for {invocation.job.value}')
    if not invocation.account or invocation.scheduled_time is None:
        raise BadMessageError('a work message names one account and its scheduled tick')
    if invocation.force or invocation.event_id:
        raise BadMessageError('a work message is a scheduled account run (no force, no event id)')
    return invocation


def receive_count(record: Mapping[str, Any]) -> int:
    """How many times SQS has delivered this message (1 on the first delivery)."""
    attributes = record.get('attributes') or {}
    try:
        return int(attributes.get('ApproximateReceiveCount', 1))
    except (TypeError, ValueError):
        return 1


def is_stale(ctx: JobContext, invocation: JobInvocation) -> bool:
    """True when a newer tick of the job was dispatched since (checked only once the message is a period old)."""
    assert invocation.scheduled_time is not None
    age = ctx.clock() - invocation.scheduled_time
    if age > MAX_AGE:
        return True
    period = period_seconds(ctx, invocation.job)
    if age <= timedelta(seconds=period or 0):
        return False  # no newer tick can be due yet
    latest = TickStore(ctx.stores.state).latest(invocation.job.value)
    return latest is not None and latest.scheduled_time > invocation.scheduled_time


def finish_account(ctx: JobContext, invocation: JobInvocation) -> float | None:
    """Count one finished account run of the tick; the tick's duration in seconds if this run finished it."""
    assert invocation.scheduled_time is not None
    record = TickStore(ctx.stores.state).account_finished(invocation.job.value, invocation.scheduled_time)
    if record is None or record.done != record.expected:
        return None
    return _seconds(record.dispatched_at, ctx.clock())


def leaves_nothing_to_do(results: Sequence[AccountRunResult]) -> bool:
    """True when an account run ended ``ok`` with every position protected, nothing written and nothing to say."""
    return bool(results) and all(
        result.status == 'ok'
        and not result.errors
        and result.unprotected == 0
        and all(action.kind in QUIET_ACTIONS for action in result.actions)
        and not result.alerts  # even an info one ("the next run settles it") asks for the next run
        for result in results
    )


def record_verified(
    ctx: JobContext, invocation: JobInvocation, results: Sequence[AccountRunResult], started_at: datetime
) -> bool:
    """After a scheduled ensure-stops run of one account: remember it verified the account as of ``started_at``.

    Only a run that :func:`leaves_nothing_to_do` counts; the dispatcher may then leave the account out of
    later ticks while the streamer holds it and nothing happens on it. A write that fails only leaves the
    account due (logged), never the other way round.
    """
    if invocation.job is not JobName.ENSURE_STOPS or not invocation.account or invocation.scheduled_time is None:
        return False
    if invocation.symbol or not leaves_nothing_to_do(results):
        return False
    try:
        fingerprint = config_fingerprint(ctx.config, ctx.build)
        TickStore(ctx.stores.state).save_verified(invocation.job.value, invocation.account, started_at, fingerprint)
    except Exception as error:
        logger.warning('could not record that %s was verified: %s (it stays due)', invocation.account, error)
        return False
    return True


def _seconds(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds())
