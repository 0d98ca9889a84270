"""The work-queue side of a job function: each SQS message is one account of one scheduled tick.

The dispatcher sends the messages (:mod:`tastyguard.fanout`); they are de-duplicated on tick + account. A
message that fails is returned to the queue (partial batch response) and, on its last delivery, still counts
towards its tick. A scheduled run that left nothing to do is recorded, so the next ticks may leave a quiet
account to the streamer. The fast-path function is never fed by a queue and does not load this module.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.common import jobs
from functions.common.observability import logger, metrics
from tastyguard.fanout.worker import (
    MAX_RECEIVES,
    BadMessageError,
    finish_account,
    is_stale,
    parse_message,
    receive_count,
    record_verified,
)
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.invocation import JobInvocation, JobName
from tastyguard.jobs.results import AccountRunResult


def handle(event: dict[str, Any], context: LambdaContext, job: JobName) -> dict[str, Any]:
    """Run ``job`` for a batch of work messages, or for a direct event (:func:`functions.common.jobs.handle`)."""
    if isinstance(event, dict) and isinstance(event.get('Records'), list):
        return _handle_queue(event, context, job)
    return jobs.handle(event, context, job)


def _scheduled_run_done(
    ctx: JobContext, invocation: JobInvocation, results: list[AccountRunResult], started: datetime
) -> None:
    record_verified(ctx, invocation, results, started)
    _tick_finished(ctx, invocation)


def _tick_finished(ctx: JobContext, invocation: JobInvocation) -> None:
    seconds = finish_account(ctx, invocation)
    if seconds is not None:
        metrics.add_metric(name='TickSeconds', unit=MetricUnit.Seconds, value=seconds)
        logger.info('tick finished', extra={'job': invocation.job.value, 'tick_seconds': round(seconds, 1)})


def _handle_queue(event: dict[str, Any], context: LambdaContext, job: JobName) -> dict[str, Any]:
    """Run each message's account (batch size 1 in the stack); failed messages go back to the queue."""
    ctx = jobs.job_context(context.aws_request_id, context.function_name)
    logger.append_keys(job=job.value, environment=ctx.environment)
    failures: list[dict[str, str]] = []
    for record in event['Records']:
        message_id = str(record.get('messageId', ''))
        try:
            invocation = parse_message(record, job)
        except BadMessageError as error:
            logger.error('not a work message; it goes to the dead-letter queue', extra={'reason': str(error)})
            failures.append({'itemIdentifier': message_id})
            continue
        logger.append_keys(account=invocation.account)
        if is_stale(ctx, invocation):
            logger.warning('stale work message dropped', extra={'scheduled_time': str(invocation.scheduled_time)})
            metrics.add_metric(name='RunsStale', unit=MetricUnit.Count, value=1)
            _tick_finished(ctx, invocation)
            continue
        try:
            jobs.run_idempotent(ctx, invocation, context, after=_scheduled_run_done)
        except Exception:
            logger.exception('account run failed; the message goes back to the queue')
            if receive_count(record) >= MAX_RECEIVES:
                _tick_finished(ctx, invocation)  # its last delivery: the tick must still be able to finish
            failures.append({'itemIdentifier': message_id})
    return {'batchItemFailures': failures}
