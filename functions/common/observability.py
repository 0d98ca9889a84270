"""Powertools singletons shared by every handler (never instantiate Logger/Tracer/Metrics elsewhere).

The logger's formatter scrubs every registered secret value from each log line before it is written, as a
second line of defence behind "secrets are never logged".

The tracer patches only the two libraries tastyguard calls out with (botocore for AWS, httpx for tastytrade
and Slack): X-Ray's ``patch_all`` would also import sqlite3 and try seven database and HTTP clients that are
not installed, on every cold start, for nothing to trace.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.types import PowertoolsLogRecord

from tastyguard.redact import scrub


class RedactingFormatter(LambdaPowertoolsFormatter):
    """JSON log lines with registered secrets masked."""

    def serialize(self, log: dict[str, Any] | PowertoolsLogRecord) -> str:
        """Serialise as usual, then mask."""
        return scrub(super().serialize(log))


logger = Logger(service='tastyguard', logger_formatter=RedactingFormatter())
TRACED_MODULES = ('botocore', 'httpx')
tracer = Tracer(service='tastyguard', patch_modules=TRACED_MODULES)
metrics = Metrics(namespace='tastyguard', service='tastyguard')
