"""Lambda entry point of ``reconcile_orders`` (thin: the job lives in ``tastyguard.jobs.reconcile_orders``)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.common.observability import logger, metrics, tracer
from functions.common.queued import handle
from tastyguard.jobs.invocation import JobName


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Run ``reconcile_orders`` for the scheduled tick or event."""
    return handle(event, context, JobName.RECONCILE_ORDERS)
