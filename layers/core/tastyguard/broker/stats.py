"""Counters the jobs turn into metrics: API calls per endpoint family, retries, 429s, waits, refreshes."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class BrokerStats:
    """Mutable, thread-safe counters of one client. Read them with :meth:`snapshot`."""

    calls: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    rate_limited_responses: int = 0
    rate_limit_waits: int = 0
    rate_limit_wait_seconds: float = 0.0
    backoff_wait_seconds: float = 0.0
    server_errors: int = 0
    timeouts: int = 0
    unauthorized_responses: int = 0
    token_refreshes: int = 0
    token_refresh_failures: int = 0
    ambiguous_writes: int = 0
    shared_budget_waits: int = 0
    shared_budget_wait_seconds: float = 0.0
    shared_budget_late_slots: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def call(self, family: str) -> None:
        """Count one HTTP request sent to ``family``."""
        with self._lock:
            self.calls[family] += 1

    def add(self, name: str, amount: float = 1) -> None:
        """Increase the counter ``name`` (a field of this class) by ``amount``."""
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)

    def snapshot(self) -> dict[str, object]:
        """A plain-dict copy, safe to log or to publish as metrics."""
        with self._lock:
            return {
                'calls': dict(self.calls),
                'total_calls': sum(self.calls.values()),
                'retries': self.retries,
                'rate_limited_responses': self.rate_limited_responses,
                'rate_limit_waits': self.rate_limit_waits,
                'rate_limit_wait_seconds': round(self.rate_limit_wait_seconds, 6),
                'backoff_wait_seconds': round(self.backoff_wait_seconds, 6),
                'server_errors': self.server_errors,
                'timeouts': self.timeouts,
                'unauthorized_responses': self.unauthorized_responses,
                'token_refreshes': self.token_refreshes,
                'token_refresh_failures': self.token_refresh_failures,
                'ambiguous_writes': self.ambiguous_writes,
                'shared_budget_waits': self.shared_budget_waits,
                'shared_budget_wait_seconds': round(self.shared_budget_wait_seconds, 6),
                'shared_budget_late_slots': self.shared_budget_late_slots,
            }
