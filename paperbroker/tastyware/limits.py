"""The real paper API's limits, emulated on request: 5 requests/second per key and its instrument restrictions.

Both are off by default (the paper broker does more than the service); turn them on so code that must also run
against the real paper API is tested against its limits. Time is the broker's virtual clock, so a test can move
past a throttled second with ``POST /_paper/clock`` instead of sleeping.
"""

from __future__ import annotations

import math
from collections import deque
from datetime import datetime, timedelta
from typing import Any

from starlette.responses import JSONResponse

from paperbroker.clock import VirtualClock
from paperbroker.errors import ApiError

WINDOW = timedelta(seconds=1)
# tastytrade files index options (SPX, NDX, RUT, ...) under "Equity Option", like equity options.
SUPPORTED_INSTRUMENT_TYPES = ('Equity', 'Equity Option')


class RateLimiter:
    """At most ``limit`` requests in any one-second window of virtual time, counted per API key."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self._seen: dict[str, deque[datetime]] = {}

    def admit(self, key: str, limit: int) -> float | None:
        """Count a request; None if it is admitted, else the seconds until one would be."""
        now = self.clock.now()
        seen = self._seen.setdefault(key, deque())
        while seen and seen[0] <= now - WINDOW:
            seen.popleft()
        if len(seen) < limit:
            seen.append(now)
            return None
        return max((seen[0] + WINDOW - now).total_seconds(), 0.001)

    def clear(self) -> None:
        """Forget every request."""
        self._seen.clear()


class RateLimited(ApiError):
    """The 429 of a key over its limit, with ``Retry-After`` (whole seconds, rounded up, as HTTP wants)."""

    def __init__(self, limit: int, retry_after: float) -> None:
        super().__init__(
            429,
            'too_many_requests',
            f'Rate limit exceeded: this API key may make {limit} requests per second; retry in {retry_after:.2f} s',
        )
        self.retry_after = retry_after

    def response(self) -> JSONResponse:
        response = super().response()
        response.headers['Retry-After'] = str(max(1, math.ceil(self.retry_after)))
        return response


def check_supported_order(body: Any) -> None:
    """Raise the paper API's 422 for an order on an instrument type it does not trade (futures, crypto, ...)."""
    if not isinstance(body, dict) or not isinstance(body.get('legs'), list):
        return  # the order validation names what is missing
    for leg in body['legs']:
        kind = leg.get('instrument-type') if isinstance(leg, dict) else None
        if isinstance(kind, str) and kind not in SUPPORTED_INSTRUMENT_TYPES:
            symbol = leg.get('symbol', '?')
            raise ApiError(
                422,
                'unsupported_instrument_type',
                f'The paper API trades equities and equity/index options only; {kind} {symbol} is not supported',
            )


def complex_orders_unsupported() -> ApiError:
    """The paper API has no complex orders (OCO / OTO / OTOCO)."""
    return ApiError(
        422,
        'complex_orders_not_supported',
        'The paper API does not support complex orders (OCO, OTO, OTOCO) yet; place the orders one by one',
    )
