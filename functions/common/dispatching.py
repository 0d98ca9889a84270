"""The dispatcher's body: validate the Scheduler tick, de-duplicate it, fan it out, emit metrics.

Scheduler sends ``{"job", "scheduled_time", "schedule_arn"}`` for every job; the dispatcher sends one
message per account to that job's queue (``TASTYGUARD_QUEUE_<JOB>``). A retried delivery of the same tick
returns the first dispatch's result; if a dispatch failed half-way, its retry sends every message again
and the workers' idempotency (tick + account) drops the duplicates.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, cast

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from functions.common.observability import logger, metrics
from tastyguard.broker.client import TastytradeClient
from tastyguard.fanout.dispatch import DispatchResult, dispatch
from tastyguard.fanout.queue import QUEUE_ENV_PREFIX, SqsWorkQueue
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.invocation import JobInvocation, JobName
from tastyguard.jobs.wiring import lambda_context
from tastyguard.store.schema import IDEMPOTENCY_TABLE
from tastyguard.store.tokens import read_breaker

_state: dict[str, Any] = {}
_IDEMPOTENCY = IdempotencyConfig(
    event_key_jmespath='key', raise_on_no_idempotency_key=True, expires_after_seconds=6 * 3600
)


class BadTickError(ValueError):
    """The event is not a Scheduler tick."""


def queue_urls(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``job → queue URL`` from ``TASTYGUARD_QUEUE_<JOB>`` variables."""
    environ = os.environ if environ is None else environ
    return {
        job.value: environ[f'{QUEUE_ENV_PREFIX}{job.value.upper()}']
        for job in JobName
        if environ.get(f'{QUEUE_ENV_PREFIX}{job.value.upper()}')
    }


def _context(context: LambdaContext) -> JobContext:
    if 'ctx' not in _state:
        _state['ctx'] = lambda_context(owner=f'lambda:{context.function_name}')
        _state['queue'] = SqsWorkQueue(boto3.client('sqs'), queue_urls())
    ctx: JobContext = _state['ctx']
    ctx.owner = f'lambda:{context.function_name}:{context.aws_request_id}'
    ctx.notes.clear()
    return ctx


def _discover(ctx: JobContext, grant: str) -> list[str]:
    assert ctx.clients is not None
    client = cast(TastytradeClient, ctx.clients.get(grant))
    return [account.account_number for account in client.accounts()]


def _run(ctx: JobContext, invocation: JobInvocation) -> dict[str, Any]:
    result = dispatch(
        ctx,
        invocation,
        _state['queue'],
        discover=lambda grant: _discover(ctx, grant),
        breaker_of=lambda grant: read_breaker(ctx.stores.state, ctx.environment, grant),
    )
    _record(result)
    return {
        'job': result.job,
        'dispatched': result.dispatched,
        'deferred': result.deferred,
        'quiet': result.quiet,
        'grants': result.grants,
        'stopped_grants': result.stopped_grants,
        'skipped': result.skipped,
        'notes': result.notes,
    }


def _record(result: DispatchResult) -> None:
    metrics.add_dimension(name='job', value=result.job)
    for name, value in {
        'AccountsDispatched': result.dispatched,
        'AccountsDeferred': result.deferred,
        'AccountsQuiet': result.quiet,
        'GrantsStopped': len(result.stopped_grants),
        'TicksUnfinished': int(result.previous_unfinished),
        'TicksSkipped': int(result.skipped == 'the previous tick is still running'),
    }.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    logger.info(
        'tick dispatched', extra={'dispatch': {**result.__dict__, 'scheduled_time': str(result.scheduled_time)}}
    )


def _idempotent(context: LambdaContext) -> Any:
    if 'run' not in _state:
        persistence = DynamoDBPersistenceLayer(table_name=IDEMPOTENCY_TABLE.name)

        @idempotent_function(  # type: ignore[untyped-decorator]
            data_keyword_argument='request', config=_IDEMPOTENCY, persistence_store=persistence
        )
        def dispatch_once(*, request: dict[str, Any]) -> dict[str, Any]:
            return _run(_state['ctx'], JobInvocation.model_validate(request['invocation']))

        _state['run'] = dispatch_once
    _IDEMPOTENCY.register_lambda_context(context)
    return _state['run']


def handle_tick(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Dispatch one Scheduler tick (a duplicate delivery returns the first dispatch's result)."""
    try:
        invocation = JobInvocation.model_validate(event)
    except ValidationError as error:
        raise BadTickError(f'not a tastyguard tick: {error.errors()[0]["msg"]}') from None
    if invocation.scheduled_time is None or invocation.account or invocation.event_id or invocation.force:
        raise BadTickError('the dispatcher takes Scheduler ticks: {"job", "scheduled_time", "schedule_arn"} only')
    ctx = _context(context)
    logger.append_keys(job=invocation.job.value, environment=ctx.environment)
    key = f'dispatch:{invocation.job.value}:{invocation.scheduled_time.isoformat()}'
    result: dict[str, Any] = _idempotent(context)(
        request={'key': key, 'invocation': invocation.model_dump(mode='json')}
    )
    return result


def reset_for_tests() -> None:
    """Forget the warm-container state."""
    _state.clear()
