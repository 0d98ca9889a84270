"""The shared body of every job handler: validate the event, de-duplicate, run, emit metrics.

A job function is invoked two ways: by its work queue (each message is one account of one tick, handled by
:mod:`functions.common.queued`, de-duplicated on tick + account) and directly (the fill fast path's events,
a manual invocation, de-duplicated on the event id). The fast-path function takes only direct events, so it
loads nothing of the queue side.

The job context (config, broker clients, stores) is built once per container and reused while warm; the
Powertools idempotency layer is built lazily too, so importing a handler never touches AWS. Under SnapStart
the context is built at init instead, so the snapshot holds it (:mod:`functions.common.snapstart`).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from functions.common import snapstart
from functions.common.observability import logger, metrics
from tastyguard.broker import BrokerModel, TastytradeClient
from tastyguard.broker.models.requests import RequestModel
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.invocation import JobInvocation, JobName
from tastyguard.jobs.registry import run
from tastyguard.jobs.results import AccountRunResult
from tastyguard.jobs.wiring import lambda_context
from tastyguard.store.schema import IDEMPOTENCY_TABLE

_context: JobContext | None = None
_runners: dict[str, Any] = {}
_IDEMPOTENCY = IdempotencyConfig(
    event_key_jmespath='key',
    raise_on_no_idempotency_key=True,
    expires_after_seconds=6 * 3600,
)


class BadEventError(ValueError):
    """The event is not a job invocation for this function."""


def job_context(request_id: str, function_name: str) -> JobContext:
    global _context  # noqa: PLW0603 - one context per warm container, by design
    if _context is None:
        _context = lambda_context(owner=f'lambda:{function_name}')
    _context.owner = f'lambda:{function_name}:{request_id}'
    _context.mode_override = None
    _context.notes.clear()
    return _context


def _summarise(results: list[AccountRunResult]) -> dict[str, Any]:
    return {
        'accounts': [
            {
                'account': r.account,
                'status': r.status,
                'mode': r.mode,
                'positions': r.positions,
                'protected': r.protected,
                'unprotected': r.unprotected,
                'actions': dict(Counter(f'{a.kind}:{a.result}' for a in r.actions)),
                'errors': r.errors,
            }
            for r in results
        ]
    }


def _record_metrics(job: JobName, results: list[AccountRunResult]) -> None:
    metrics.add_dimension(name='job', value=job.value)
    statuses = Counter(result.status for result in results)
    actions = Counter((a.kind, a.result) for result in results for a in result.actions)
    values: dict[str, tuple[float, MetricUnit]] = {
        'RunsCompleted': (statuses['ok'], MetricUnit.Count),
        'RunsSkipped': (statuses['skipped'], MetricUnit.Count),
        'RunsFailed': (statuses['failed'], MetricUnit.Count),
        'OrdersPlaced': (actions['place', 'placed'], MetricUnit.Count),
        'OrdersReplaced': (actions['replace', 'replaced'], MetricUnit.Count),
        'OrdersCancelled': (actions['cancel', 'cancelled'], MetricUnit.Count),
        'OrderWritesFailed': (
            sum(n for (kind, result), n in actions.items() if kind in ('place', 'replace', 'cancel')
                and result in ('rejected', 'ambiguous', 'invalid', 'blocked')),
            MetricUnit.Count,
        ),
        'Alerts': (sum(n for (kind, _), n in actions.items() if kind == 'alert'), MetricUnit.Count),
        'ApiCalls': (sum(r.api_calls for r in results), MetricUnit.Count),
        'RateLimited': (sum(r.rate_limited for r in results), MetricUnit.Count),
        'RunDuration': (sum(r.duration_ms for r in results), MetricUnit.Milliseconds),
    }  # fmt: skip
    # Coverage only from runs that established it: a skipped run's unknown is not a reassuring zero.
    counted = [r for r in results if r.positions is not None and r.protected is not None and r.unprotected is not None]
    if counted:
        values['Positions'] = (sum(r.positions or 0 for r in counted), MetricUnit.Count)
        values['PositionsProtected'] = (sum(r.protected or 0 for r in counted), MetricUnit.Count)
        values['PositionsUnprotected'] = (sum(r.unprotected or 0 for r in counted), MetricUnit.Count)
        at_risk = sum((r.money_at_risk or Decimal(0) for r in counted), Decimal(0))
        values['MoneyAtRisk'] = (float(at_risk), MetricUnit.NoUnit)
    for name, (value, unit) in values.items():
        metrics.add_metric(name=name, unit=unit, value=value)


def _execute(ctx: JobContext, invocation: JobInvocation) -> dict[str, Any]:
    return _summarise(_run_logged(ctx, invocation))


def _run_logged(ctx: JobContext, invocation: JobInvocation) -> list[AccountRunResult]:
    results = run(ctx, invocation)
    _record_metrics(invocation.job, results)
    for result in results:
        logger.info(
            'job finished',
            extra={
                'job': result.job, 'account': result.account, 'status': result.status, 'mode': result.mode,
                'positions': result.positions, 'unprotected': result.unprotected, 'api_calls': result.api_calls,
                'errors': result.errors,
            },
        )  # fmt: skip
    return results


def _idempotent_runner(context: LambdaContext) -> Any:
    if 'run' not in _runners:
        persistence = DynamoDBPersistenceLayer(table_name=IDEMPOTENCY_TABLE.name)

        @idempotent_function(  # type: ignore[untyped-decorator]
            data_keyword_argument='request', config=_IDEMPOTENCY, persistence_store=persistence
        )
        def run_once(*, request: dict[str, Any]) -> dict[str, Any]:
            invocation = JobInvocation.model_validate(request['invocation'])
            ctx = _runners['ctx']
            started = ctx.clock()
            results = _run_logged(ctx, invocation)
            after = _runners.get('after')
            if after is not None:
                after(ctx, invocation, results, started)
            return _summarise(results)

        _runners['run'] = run_once
    _IDEMPOTENCY.register_lambda_context(context)
    return _runners['run']


AfterRun = Callable[[JobContext, JobInvocation, list[AccountRunResult], datetime], None]
"""Called inside the idempotent run, after it (so a duplicate delivery does not call it again)."""


def run_idempotent(
    ctx: JobContext, invocation: JobInvocation, context: LambdaContext, *, after: AfterRun | None = None
) -> dict[str, Any]:
    """Run ``invocation`` once per idempotency key; a duplicate returns the first run's summary."""
    _runners['ctx'] = ctx
    _runners['after'] = after
    runner = _idempotent_runner(context)
    result: dict[str, Any] = runner(
        request={'key': invocation.idempotency_key, 'invocation': invocation.model_dump(mode='json')}
    )
    return result


def handle(event: dict[str, Any], context: LambdaContext, job: JobName) -> dict[str, Any]:
    """Run ``job`` for a direct event: a fill, a manual invocation (duplicates of one event id return the first
    result). Queue messages go through :func:`functions.common.queued.handle`."""
    try:
        invocation = JobInvocation.model_validate(event)
    except ValidationError as error:
        raise BadEventError(f'not a tastyguard job event: {error.errors()[0]["msg"]}') from None
    if invocation.job is not job:
        raise BadEventError(f'this function runs {job.value}, the event asks for {invocation.job.value}')
    if invocation.force:
        invocation = invocation.model_copy(update={'force': False})  # only a person at the CLI may force a run
    ctx = job_context(context.aws_request_id, context.function_name)
    logger.append_keys(job=job.value, environment=ctx.environment)
    if invocation.idempotency_key is None:
        return _execute(ctx, invocation)
    return run_idempotent(ctx, invocation, context)


def _prime_for_snapshot() -> None:
    """SnapStart init: build the context now, so every environment restored from the snapshot starts with it.

    A failure (an incomplete environment, a bad config) is logged and left to the first invocation, which
    builds the context again and reports the error where the run reports everything else.
    """
    global _context  # noqa: PLW0603 - one context per warm container, by design
    snapstart.register(before_snapshot=_before_snapshot, after_restore=_after_restore)
    try:
        _context = lambda_context(owner=f'lambda:{os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "tastyguard")}')
    except Exception:  # reported again, with its message, by the first invocation
        logger.exception('could not prime the job context before the SnapStart snapshot')


def _before_snapshot() -> None:
    """Complete the broker's deferred models, so no restored environment builds their validators again."""
    snapstart.complete_deferred_models(BrokerModel, RequestModel)


def _after_restore() -> None:
    """Make this restored environment unique: reseed the random generators, renew the refresh-lock identity."""
    snapstart.reseed_process_random()
    if _context is not None and isinstance(_context.broker, TastytradeClient):
        _context.broker.renew_after_restore()


def reset_for_tests() -> None:
    """Forget the warm-container state (tests build a fresh context per test)."""
    global _context  # noqa: PLW0603
    _context = None
    _runners.clear()


if snapstart.snap_start_init():
    _prime_for_snapshot()
