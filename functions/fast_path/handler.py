"""Lambda entry point of the fill fast path: a streamer event protects that position now.

A function of its own, so a fill never waits behind a running sweep: it runs ``ensure_stops`` for the
event's account and symbol (de-duplicated on the event id), and its broker reads go before the sweep's in
the grant's shared rate budget (``TASTYGUARD_RATE_PRIORITY=high``).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.common.jobs import handle
from functions.common.observability import logger, metrics, tracer
from tastyguard.jobs.invocation import JobName


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Run ``ensure_stops`` for the event's account and symbol."""
    return handle(event, context, JobName.ENSURE_STOPS)
