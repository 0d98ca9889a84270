"""Per-token request rates, like the real API's: past them, ``429`` with ``Retry-After``.

tastytrade publishes no numbers; its official MCP server hard-codes what it calls the published limits
(token buckets of one second's capacity): 50 requests/s overall, positions, balances, trading status and
``/customers/me/accounts`` 1/s, quotes 2/s, equities 3/s (one symbol) or 2/s (lists), futures 1/s, order
writes 20/s. Those are :data:`PUBLISHED_LIMITS`. Off until a test or tool turns it on (``POST
/_paper/rate-limits``), so the broker stays permissive for everything that is not about rate limits.

Buckets are kept per access token and family, timed by the virtual clock, and a refused request takes
nothing from any bucket.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from paperbroker.clock import VirtualClock

PUBLISHED_GLOBAL = 50.0
PUBLISHED_LIMITS: dict[str, float] = {
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
_WRITES = frozenset({'POST', 'PUT', 'PATCH', 'DELETE'})
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), family)
    for pattern, family in (
        (r'^/market-data/', 'market-data'),
        (r'^/(futures-)?option-chains/', 'option-chains'),
        (r'^/accounts/[^/]+/positions', 'positions'),
        (r'^/accounts/[^/]+/balances', 'balances'),
        (r'^/accounts/[^/]+/trading-status', 'trading-status'),
        (r'^/customers/me/accounts/?$', 'accounts'),
        (r'^/instruments/equities/[^/]+$', 'equity'),
        (r'^/instruments/equities', 'equities'),
        (r'^/instruments/futures', 'futures'),
        (r'^/instruments/future-(option-)?products', 'future-products'),
        (r'^/instruments/(equity|future)-options/', 'options'),
    )
)
_ORDERS = re.compile(r'^/accounts/[^/]+/(complex-)?orders')


def family_of(method: str, path: str) -> str | None:
    """The limited family of a request (None: only the global limit applies)."""
    if method in _WRITES and _ORDERS.match(path):
        return 'order-writes'
    for pattern, family in _PATTERNS:
        if pattern.match(path):
            return family
    return None


@dataclass
class _Bucket:
    rate: float
    tokens: float
    updated: datetime

    def refill(self, now: datetime) -> None:
        elapsed = max(0.0, (now - self.updated).total_seconds())
        self.tokens = min(max(1.0, self.rate), self.tokens + elapsed * self.rate)
        self.updated = now

    def wait(self) -> float:
        """Seconds until one token is there (0 when it is)."""
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


@dataclass
class Throttle:
    """The per-token limiter; :meth:`check` answers a request with None (go) or the seconds to wait."""

    clock: VirtualClock
    enabled: bool = False
    global_per_second: float = PUBLISHED_GLOBAL
    families: dict[str, float] = field(default_factory=lambda: dict(PUBLISHED_LIMITS))
    refused: int = 0
    _buckets: dict[tuple[str, str], _Bucket] = field(default_factory=dict)

    def configure(self, *, enabled: bool = True, global_per_second: float | None = None, **families: float) -> None:
        """Turn limiting on (or off) and change limits; buckets start full again."""
        for name, rate in {'global': global_per_second or self.global_per_second, **families}.items():
            if rate <= 0:
                raise ValueError(f'the rate of {name!r} must be positive, got {rate}')
        self.enabled = enabled
        if global_per_second is not None:
            self.global_per_second = global_per_second
        self.families.update({name.replace('_', '-'): float(rate) for name, rate in families.items()})
        self._buckets.clear()

    def reset(self) -> None:
        """Off, published limits, no buckets, no count (a scenario reset)."""
        self.enabled, self.global_per_second, self.refused = False, PUBLISHED_GLOBAL, 0
        self.families = dict(PUBLISHED_LIMITS)
        self._buckets.clear()

    def check(self, token: str, method: str, path: str) -> float | None:
        """Take a token from the request's buckets, or refuse (taking none) with the wait in seconds."""
        if not self.enabled or not token:
            return None
        now = self.clock.now()
        family = family_of(method, path)
        buckets = [self._bucket(token, 'global', self.global_per_second, now)]
        if family is not None and family in self.families:
            buckets.append(self._bucket(token, family, self.families[family], now))
        for bucket in buckets:
            bucket.refill(now)
        wait = max(bucket.wait() for bucket in buckets)
        if wait > 0:
            self.refused += 1
            return wait
        for bucket in buckets:
            bucket.tokens -= 1
        return None

    def _bucket(self, token: str, family: str, rate: float, now: datetime) -> _Bucket:
        key = (token, family)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(rate, max(1.0, rate), now)
        return bucket

    def as_json(self) -> dict[str, Any]:
        """The settings as the admin API shows them."""
        return {
            'enabled': self.enabled,
            'global': self.global_per_second,
            'families': dict(sorted(self.families.items())),
            'refused': self.refused,
        }


def retry_after_header(wait: float) -> str:
    """Whole seconds, at least 1 (as ``Retry-After`` is written)."""
    return str(max(1, math.ceil(wait)))
