"""Per-endpoint-family token buckets with tastytrade's published limits as defaults.

tastytrade publishes no numbers in its public docs; the official MCP server hard-codes what it calls the
published limits (reference §4), and those are the defaults here: 50 requests/s overall plus tighter
buckets for quotes, positions, balances, accounts, instruments and order writes. Every request takes a
token from its family's bucket (if the family has one) and from the global bucket.

:class:`RateLimiter` is per process. Processes that share a tastytrade grant (the per-account workers, the
fill fast path, the streamer) also share one budget through :class:`Limiter` implementations chained after
it (:class:`ChainedLimiter`), e.g. :class:`tastyguard.broker.budget.SharedRateBudget`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

from tastyguard.broker.stats import BrokerStats

DEFAULT_GLOBAL_PER_SECOND = 50.0
DEFAULT_FAMILY_LIMITS: Mapping[str, float] = MappingProxyType(
    {
        'market-data': 2.0,
        'option-chains': 2.0,
        'positions': 1.0,
        'balances': 1.0,
        'trading-status': 1.0,
        'accounts': 1.0,
        'equity': 3.0,
        'equities': 2.0,
        'futures': 1.0,
        'future-products': 1.0,
        'options': 3.0,
        'order-writes': 20.0,
    }
)

_WRITE_METHODS = frozenset({'POST', 'PUT', 'PATCH', 'DELETE'})
_FAMILIES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), name)
    for pattern, name in (
        (r'^/oauth/token', 'oauth'),
        (r'^/market-data/', 'market-data'),
        (r'^/api-quote-tokens', 'quote-token'),
        (r'^/(futures-)?option-chains/', 'option-chains'),
        (r'^/accounts/[^/]+/positions', 'positions'),
        (r'^/accounts/[^/]+/balances', 'balances'),
        (r'^/accounts/[^/]+/trading-status', 'trading-status'),
        (r'^/accounts/[^/]+/(complex-)?orders', 'orders'),
        (r'^/customers/me/accounts', 'accounts'),
        (r'^/customers/', 'customer'),
        (r'^/instruments/equities/[^/]+', 'equity'),
        (r'^/instruments/equities', 'equities'),
        (r'^/instruments/futures', 'futures'),
        (r'^/instruments/future-(option-)?products', 'future-products'),
        (r'^/instruments/(equity|future)-options', 'options'),
        (r'^/instruments/', 'instruments'),
    )
)


def endpoint_family(method: str, path: str) -> str:
    """The rate-limit and metrics family of a request (``'other'`` when none matches)."""
    path = path.split('?', 1)[0]
    for pattern, name in _FAMILIES:
        if pattern.match(path):
            if name == 'orders' and method.upper() in _WRITE_METHODS:
                return 'order-writes'
            return name
    return 'other'


@dataclass(frozen=True)
class RateLimits:
    """Requests per second: one global ceiling plus per-family ceilings (families not listed: global only)."""

    global_per_second: float = DEFAULT_GLOBAL_PER_SECOND
    families: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_FAMILY_LIMITS))
    enabled: bool = True

    @classmethod
    def disabled(cls) -> RateLimits:
        """No client-side limiting (benchmarks, a broker that enforces its own)."""
        return cls(enabled=False)

    def __post_init__(self) -> None:
        for name, rate in {'global': self.global_per_second, **self.families}.items():
            if rate <= 0:
                raise ValueError(f'rate limit for {name!r} must be positive, got {rate}')


class TokenBucket:
    """A token bucket (capacity = one second's worth, at least 1) that hands out reservations.

    :meth:`reserve` always takes a token, letting the balance go negative, and returns how long the
    caller must wait for it; concurrent callers therefore queue fairly without holding the lock while
    they sleep.
    """

    def __init__(self, rate: float, clock: Callable[[], float], capacity: float | None = None) -> None:
        self.rate = rate
        self.capacity = capacity if capacity is not None else max(1.0, rate)
        self._clock = clock
        self._tokens = self.capacity
        self._updated = clock()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take one token; return the seconds to wait before using it (0 when one was available)."""
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._updated)
            self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
            self._updated = now
            self._tokens -= 1
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


class RateLimiter:
    """Blocks (via the injected ``sleep``) until a request of a family may go out."""

    def __init__(
        self,
        limits: RateLimits | None,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        stats: BrokerStats | None = None,
    ) -> None:
        self.limits = limits
        self._clock = clock
        self._sleep = sleep
        self._stats = stats or BrokerStats()
        active = limits is not None and limits.enabled
        self._global = TokenBucket(limits.global_per_second, clock) if active and limits else None
        families = limits.families if active and limits else {}
        self._buckets = {name: TokenBucket(rate, clock) for name, rate in families.items()}

    def acquire(self, family: str) -> float:
        """Wait for a token of ``family`` and of the global bucket; return the seconds waited."""
        if self._global is None:
            return 0.0
        wait = self._global.reserve()
        bucket = self._buckets.get(family)
        if bucket is not None:
            wait = max(wait, bucket.reserve())
        if wait > 0:
            self._stats.add('rate_limit_waits')
            self._stats.add('rate_limit_wait_seconds', wait)
            self._sleep(wait)
        return wait


class Limiter(Protocol):
    """What the transport calls before every request: block until ``family`` may go out; return seconds waited."""

    def acquire(self, family: str) -> float:
        """Wait for permission to send one request of ``family``."""
        ...


class ChainedLimiter:
    """Several limiters in order (the per-process one first, a shared budget last, closest to the send)."""

    def __init__(self, *limiters: Limiter) -> None:
        self.limiters = limiters

    def acquire(self, family: str) -> float:
        """Acquire from each limiter in turn; the total wait."""
        return sum(limiter.acquire(family) for limiter in self.limiters)
