"""Work queues for the dispatcher: SQS (one standard queue per job) and an in-memory one for tests and the bench."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tastyguard.jobs.invocation import JobInvocation, JobName

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

    from tastyguard.jobs.context import JobContext

BATCH = 10  # SQS's SendMessageBatch limit
QUEUE_ENV_PREFIX = 'TASTYGUARD_QUEUE_'
"""The dispatcher finds each job's queue URL in ``TASTYGUARD_QUEUE_<JOB>`` (set by the stack)."""
MAX_RECEIVES = 3
"""Deliveries of one message before SQS moves it to the dead-letter queue (the queues' maxReceiveCount)."""


def period_seconds(ctx: JobContext, job: JobName) -> int | None:
    """The job's schedule period (None for the daily digest)."""
    schedules = ctx.config.schedules
    minutes = {
        JobName.ENSURE_STOPS: schedules.ensure_stops_minutes,
        JobName.SYNC_POSITIONS: schedules.sync_positions_minutes,
        JobName.RECONCILE_ORDERS: schedules.reconcile_orders_minutes,
    }.get(job)
    return None if minutes is None else minutes * 60


class QueueSendError(RuntimeError):
    """Some messages could not be enqueued even after a retry; the dispatch fails (and is retried)."""


class SqsWorkQueue:
    """Sends each invocation as one message to its job's queue (``DelaySeconds`` paces the sweep)."""

    def __init__(self, sqs: SQSClient, urls: Mapping[str, str]) -> None:
        self._sqs = sqs
        self._urls = dict(urls)

    def __repr__(self) -> str:
        return f'SqsWorkQueue(jobs={sorted(self._urls)})'

    def send(self, messages: Sequence[tuple[JobInvocation, int]]) -> None:
        """Enqueue in batches of ten; entries SQS refuses are retried once, then :class:`QueueSendError`."""
        for start in range(0, len(messages), BATCH):
            chunk = messages[start : start + BATCH]
            url = self._url(chunk[0][0].job.value)
            entries: list[SendMessageBatchRequestEntryTypeDef] = [
                {
                    'Id': str(index),
                    'MessageBody': invocation.model_dump_json(exclude_none=True, exclude_defaults=True),
                    'DelaySeconds': delay,
                }
                for index, (invocation, delay) in enumerate(chunk)
            ]
            for attempt in range(2):
                failed = self._sqs.send_message_batch(QueueUrl=url, Entries=entries).get('Failed', [])
                if not failed:
                    break
                ids = {entry['Id'] for entry in failed}
                entries = [entry for entry in entries if entry['Id'] in ids]
                if attempt == 1:
                    reasons = sorted({str(entry.get('Code')) for entry in failed})
                    raise QueueSendError(f'{len(failed)} messages were not enqueued ({", ".join(reasons)})')

    def _url(self, job: str) -> str:
        try:
            return self._urls[job]
        except KeyError:
            raise QueueSendError(f'no work queue is configured for {job}; redeploy the stack') from None


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    """A message of the in-memory queue."""

    invocation: JobInvocation
    visible_at: float


class MemoryWorkQueue:
    """A thread-safe in-memory queue with per-message delays (the bench's stand-in for SQS)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Condition()
        self._messages: list[QueuedMessage] = []
        self.sent = 0

    def send(self, messages: Sequence[tuple[JobInvocation, int]]) -> None:
        """Enqueue (visible after each delay)."""
        now = self._clock()
        with self._lock:
            self._messages.extend(QueuedMessage(invocation, now + delay) for invocation, delay in messages)
            self._messages.sort(key=lambda message: message.visible_at)
            self.sent += len(messages)
            self._lock.notify_all()

    def receive(self, timeout: float) -> JobInvocation | None:
        """The next visible message, waiting up to ``timeout`` seconds (None when there is none)."""
        deadline = self._clock() + timeout
        with self._lock:
            while True:
                now = self._clock()
                if self._messages and self._messages[0].visible_at <= now:
                    return self._messages.pop(0).invocation
                if now >= deadline:
                    return None
                wait = deadline - now
                if self._messages:
                    wait = min(wait, self._messages[0].visible_at - now)
                self._lock.wait(max(0.0, wait))

    def __len__(self) -> int:
        with self._lock:
            return len(self._messages)
