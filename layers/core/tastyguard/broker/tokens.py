"""Access tokens and the cache every Lambda and the streamer share.

A :class:`TokenCache` holds three things, whatever the storage (memory here, DynamoDB in the jobs):

* the current :class:`AccessToken` (value + expiry), so the whole system mints about four tokens an hour;
* a refresh lock with a time-to-live, so one process refreshes while the others wait and re-load;
* the breaker: once a refresh fails definitively (``invalid_grant``...), every process refuses to call the
  token endpoint until a human re-authorizes and calls :meth:`TokenCache.reset_breaker`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from pydantic import SecretStr


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A bearer token and when it expires (aware datetime). Its repr never shows the value."""

    value: SecretStr
    expires_at: datetime

    def __post_init__(self) -> None:
        if self.expires_at.tzinfo is None:
            raise ValueError('expires_at must be timezone-aware')

    def seconds_left(self, now: datetime) -> float:
        """Seconds until expiry (negative once expired)."""
        return (self.expires_at - now).total_seconds()

    def is_fresh(self, now: datetime, margin: float) -> bool:
        """True when more than ``margin`` seconds remain."""
        return self.seconds_left(now) > margin

    def same_as(self, other: AccessToken | None) -> bool:
        """True when ``other`` carries the same token value."""
        return other is not None and other.value.get_secret_value() == self.value.get_secret_value()

    @property
    def authorization(self) -> str:
        """The ``Authorization`` header value (``Bearer ...``); handle it as a secret."""
        return f'Bearer {self.value.get_secret_value()}'


@dataclass(frozen=True, slots=True)
class BreakerTrip:
    """Why and when token refreshing was stopped. ``reason`` never contains a secret."""

    reason: str
    tripped_at: datetime


@runtime_checkable
class TokenCache(Protocol):
    """Storage-agnostic shared token state (see the module docstring)."""

    def load(self) -> AccessToken | None:
        """The cached token, or None."""
        ...

    def store(self, token: AccessToken) -> None:
        """Replace the cached token."""
        ...

    def try_lock(self, owner: str, ttl_seconds: float) -> bool:
        """Take the refresh lock for ``owner`` unless another owner holds an unexpired one."""
        ...

    def unlock(self, owner: str) -> None:
        """Release the refresh lock if ``owner`` holds it."""
        ...

    def breaker(self) -> BreakerTrip | None:
        """The trip, when the breaker is open."""
        ...

    def trip_breaker(self, trip: BreakerTrip) -> None:
        """Open the breaker (keeps the first trip if already open)."""
        ...

    def reset_breaker(self) -> None:
        """Close the breaker (a human re-authorized) and forget the cached token."""
        ...


class MemoryTokenCache:
    """A thread-safe in-process :class:`TokenCache` (tests, the CLI, one long-lived streamer)."""

    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        self._now = now or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._token: AccessToken | None = None
        self._owner: str | None = None
        self._owner_until: datetime | None = None
        self._trip: BreakerTrip | None = None

    def load(self) -> AccessToken | None:
        with self._lock:
            return self._token

    def store(self, token: AccessToken) -> None:
        with self._lock:
            self._token = token

    def try_lock(self, owner: str, ttl_seconds: float) -> bool:
        with self._lock:
            now = self._now()
            if self._owner not in (None, owner) and self._owner_until is not None and self._owner_until > now:
                return False
            self._owner = owner
            self._owner_until = now + timedelta(seconds=ttl_seconds)
            return True

    def unlock(self, owner: str) -> None:
        with self._lock:
            if self._owner == owner:
                self._owner = None
                self._owner_until = None

    def breaker(self) -> BreakerTrip | None:
        with self._lock:
            return self._trip

    def trip_breaker(self, trip: BreakerTrip) -> None:
        with self._lock:
            if self._trip is None:
                self._trip = trip

    def reset_breaker(self) -> None:
        with self._lock:
            self._trip = None
            self._token = None

    def __repr__(self) -> str:
        return (
            f'MemoryTokenCache(token={"set" if self._token else "none"}, breaker={"open" if self._trip else "closed"})'
        )
