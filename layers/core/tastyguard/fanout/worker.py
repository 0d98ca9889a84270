"""The worker side of the fan-out: one queue message is one account run of one tick.

A message is parsed into a :class:`JobInvocation` naming the account (and the grant that reaches it). A
message is stale, and dropped, once a newer tick of its job has been dispatched (that tick has its own message
for the account) or when it is a day old. Every finished account run, whatever its outcome, counts towards its
tick; the run that finishes the tick reports how long the whole tick took.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from tastyguard.fanout.dispatch import period_seconds
from tastyguard.fanout.queue import MAX_RECEIVES
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.invocation import JobInvocation, JobName
from tastyguard.store.ticks import TickStore

__all__ = ['MAX_RECEIVES', 'BadMessageError', 'finish_account', 'is_stale', 'parse_message', 'receive_count']

MAX_AGE = timedelta(days=1)


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


def _seconds(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds())
