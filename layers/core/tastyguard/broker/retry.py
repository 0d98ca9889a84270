"""Retry policy: capped, fully jittered exponential backoff that honours ``Retry-After``.

``delay = uniform(0, min(max_delay, base_delay * 2**retry))`` (AWS "full jitter"), or the server's
``Retry-After`` (seconds or an HTTP date) plus up to 10 % jitter. A request gives up when it has made
``max_attempts`` attempts, when the next wait would push its total waiting past ``max_total_wait``, or
when the server asks for more than ``max_retry_after`` seconds.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RetryPolicy:
    """Limits of the retry loop for reads (and for 429/connect failures of writes)."""

    max_attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 8.0
    max_total_wait: float = 30.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError('max_attempts must be at least 1')
        if min(self.base_delay, self.max_delay, self.max_total_wait, self.max_retry_after) < 0:
            raise ValueError('retry delays must not be negative')

    @classmethod
    def none(cls) -> RetryPolicy:
        """One attempt, no retries."""
        return cls(max_attempts=1)

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Full-jitter delay before retry number ``retry`` (0-based)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** min(retry, 32)))
        return rng.uniform(0.0, ceiling)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date); None if absent/invalid."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        from email.utils import parsedate_to_datetime  # noqa: PLC0415 - rare path, kept out of the import

        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = (when - now).total_seconds()
    if math.isnan(seconds):
        return None
    return max(0.0, seconds)


class RetryBudget:
    """The retry state of one logical request."""

    def __init__(self, policy: RetryPolicy, rng: random.Random, sleep: Callable[[float], None]) -> None:
        self.policy = policy
        self._rng = rng
        self._sleep = sleep
        self.attempts = 0
        self.waited = 0.0

    def start_attempt(self) -> None:
        """Record that an attempt is about to be made."""
        self.attempts += 1

    def next_delay(self, retry_after: float | None = None) -> float | None:
        """The wait before the next attempt, or None when the budget is spent."""
        policy = self.policy
        if self.attempts >= policy.max_attempts:
            return None
        if retry_after is not None:
            if retry_after > policy.max_retry_after:
                return None
            delay = retry_after * (1 + self._rng.uniform(0.0, 0.1))
        else:
            delay = policy.backoff(self.attempts - 1, self._rng)
        if self.waited + delay > policy.max_total_wait:
            return None
        return delay

    def wait(self, delay: float) -> None:
        """Sleep ``delay`` seconds (through the injected sleep) and account for it."""
        self.waited += delay
        if delay > 0:
            self._sleep(delay)
