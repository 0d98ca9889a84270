"""Lambda entry point of the dispatcher: a Scheduler tick becomes one queue message per account."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.common.dispatching import handle_tick
from functions.common.observability import logger, metrics, tracer


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Fan the tick out to the job's work queue."""
    return handle_tick(event, context)
