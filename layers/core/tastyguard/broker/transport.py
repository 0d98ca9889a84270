"""The request loop: rate limit, bearer token, send, classify, retry or raise.

Retry and safety rules:

* **401** -> refresh the token once (force) and resend once, for reads and writes alike (a 401 was not
  processed); a second 401 is an :class:`AuthenticationError`.
* **429** -> wait (``Retry-After`` if sent, else jittered backoff) and resend, reads and writes alike.
* **connection not established** (connect error/timeout, pool timeout) -> nothing was sent: retry.
* **reads** (and dry-runs): 5xx, timeouts and dropped connections are retried with backoff up to the
  :class:`RetryPolicy`; then :class:`ServerError` / :class:`BrokerTimeoutError` /
  :class:`BrokerConnectionError`.
* **order writes**: a timeout after sending, a dropped connection, a 5xx, or a 2xx whose body is not what
  the API sends -> :class:`AmbiguousOrderError` at once, never a resend.
* other 4xx -> the typed error at once (422 on a write: :class:`OrderRejectedError`).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from tastyguard.broker.auth import TokenProvider
from tastyguard.broker.errors import (
    AmbiguousOrderError,
    BrokerConnectionError,
    BrokerError,
    BrokerTimeoutError,
    RateLimitedError,
)
from tastyguard.broker.ratelimit import Limiter, endpoint_family
from tastyguard.broker.responses import Redactor, api_error, decode_json
from tastyguard.broker.retry import RetryBudget, RetryPolicy, parse_retry_after
from tastyguard.broker.stats import BrokerStats
from tastyguard.broker.tokens import AccessToken

logger = logging.getLogger('tastyguard.broker')

Params = Mapping[str, str | int | list[str]]
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True, slots=True)
class WriteIntent:
    """Marks a request as an order write and says how to find its result if the outcome is unknown."""

    operation: str
    account_number: str
    external_identifier: str | None = None
    order_id: int | None = None


class ApiTransport:
    """Sends API requests with the rules in the module docstring."""

    def __init__(
        self,
        http: httpx.Client,
        tokens: TokenProvider,
        *,
        retry: RetryPolicy,
        limiter: Limiter,
        stats: BrokerStats,
        rng: random.Random,
        sleep: Callable[[float], None],
        wall_clock: Callable[[], datetime],
        redactor: Redactor,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http
        self.tokens = tokens
        self.retry = retry
        self.limiter = limiter
        self.stats = stats
        self._rng = rng
        self._sleep = sleep
        self._now = wall_clock
        self._clock = clock
        self.redact = redactor

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Mapping[str, Any] | None = None,
        write: WriteIntent | None = None,
        orders: bool = False,
    ) -> Any:
        """Send one logical request and return its decoded JSON body (None for an empty 2xx).

        ``write`` marks an order write (never resent when ambiguous); ``orders`` marks an order route
        (place, dry-run, replace, cancel) whose 422 is an :class:`OrderRejectedError`.
        """
        family = endpoint_family(method, path)
        content = json.dumps(body, separators=(',', ':')).encode() if body is not None else None
        budget = RetryBudget(self.retry, self._rng, self._sleep)
        token: AccessToken | None = None
        reauthorized = False
        counted = True
        while True:
            if counted:
                budget.start_attempt()
            counted = True
            token = token or self.tokens.token()  # before the limiter: nothing slow between a slot and its send
            self.limiter.acquire(family)
            response = self._send(method, path, params, content, token, family=family, budget=budget, write=write)
            if response is None:  # no HTTP response, and the failure was retryable
                token = None
                continue
            if response.status_code == 401:
                self.stats.add('unauthorized_responses')
                if reauthorized:
                    raise api_error(response, method=method, path=path, redact=self.redact)
                reauthorized, counted = True, False  # one forced refresh; the resend is not a retry
                token = self.tokens.invalidate(token)
                continue
            token = None
            if self._retry_status(response, budget, method=method, path=path, write=write, orders=orders):
                continue
            return self._decode(response, method=method, path=path, write=write)

    def _send(
        self,
        method: str,
        path: str,
        params: Params | None,
        content: bytes | None,
        token: AccessToken,
        *,
        family: str,
        budget: RetryBudget,
        write: WriteIntent | None,
    ) -> httpx.Response | None:
        """One HTTP exchange; None when it failed without a response and may be retried."""
        self.stats.call(family)
        started = self._clock()
        try:
            response = self.http.request(
                method, path, params=params, content=content, headers={'Authorization': token.authorization}
            )
        except httpx.TransportError as exc:
            self._log(method, path, outcome=type(exc).__name__, started=started, family=family, attempt=budget.attempts)
            self._transport_failure(exc, budget, method, path, write)
            return None
        self._log(method, path, outcome=response.status_code, started=started, family=family, attempt=budget.attempts)
        return response

    def _retry_status(
        self,
        response: httpx.Response,
        budget: RetryBudget,
        *,
        method: str,
        path: str,
        write: WriteIntent | None,
        orders: bool,
    ) -> bool:
        """True to resend after a 429 or a read's 5xx; raises for other errors; False for a 2xx/3xx."""
        status = response.status_code
        if status == 429:
            self.stats.add('rate_limited_responses')
            self._backoff_or_raise(budget, response, method, path)
            return True
        if status >= 500:
            self.stats.add('server_errors')
            error = api_error(response, method=method, path=path, redact=self.redact)
            if write is not None:
                raise self.ambiguous(write, error, method=method, path=path)
            self._retry_or_raise(budget, error)
            return True
        if status >= 400:
            raise api_error(response, method=method, path=path, redact=self.redact, order_write=orders)
        return False

    def _decode(self, response: httpx.Response, *, method: str, path: str, write: WriteIntent | None) -> Any:
        if not response.content.strip():
            return None
        try:
            return decode_json(response, method=method, path=path, redact=self.redact)
        except BrokerError as error:
            if write is not None:
                raise self.ambiguous(write, error, method=method, path=path) from error
            raise

    def ambiguous(self, write: WriteIntent, cause: BrokerError, *, method: str, path: str) -> AmbiguousOrderError:
        """The error for an order write whose outcome is unknown (``cause`` says why)."""
        self.stats.add('ambiguous_writes')
        logger.warning(
            'order write outcome unknown: %s on %s (external-identifier=%s, order-id=%s): %s',
            write.operation,
            write.account_number,
            write.external_identifier,
            write.order_id,
            cause.message,
        )
        error = AmbiguousOrderError(
            f'{type(cause).__name__}: {cause.message}',
            operation=write.operation,
            account_number=write.account_number,
            external_identifier=write.external_identifier,
            order_id=write.order_id,
            status=cause.status,
            code=cause.code,
            method=method,
            path=path,
        )
        error.__cause__ = cause
        return error

    def _transport_failure(
        self,
        exc: httpx.TransportError,
        budget: RetryBudget,
        method: str,
        path: str,
        write: WriteIntent | None,
    ) -> None:
        """Retry (returns) or raise for a request that got no HTTP response."""
        timed_out = isinstance(exc, httpx.TimeoutException)
        if timed_out:
            self.stats.add('timeouts')
        error: BrokerError
        if timed_out:
            error = BrokerTimeoutError(f'no response in time ({type(exc).__name__})', method=method, path=path)
        else:
            error = BrokerConnectionError(f'connection failed ({type(exc).__name__})', method=method, path=path)
        if write is not None and not isinstance(exc, _NOT_SENT):
            raise self.ambiguous(write, error, method=method, path=path) from exc
        self._retry_or_raise(budget, error)

    def _retry_or_raise(self, budget: RetryBudget, error: BrokerError, retry_after: float | None = None) -> None:
        delay = budget.next_delay(retry_after)
        if delay is None:
            raise error
        self.stats.add('retries')
        self.stats.add('backoff_wait_seconds', delay)
        logger.info('retrying %s %s in %.2f s after: %s', error.method, error.path, delay, error.message)
        budget.wait(delay)

    def _backoff_or_raise(self, budget: RetryBudget, response: httpx.Response, method: str, path: str) -> None:
        retry_after = parse_retry_after(response.headers.get('retry-after'), self._now())
        base = api_error(response, method=method, path=path, redact=self.redact)
        error = RateLimitedError(
            base.message,
            retry_after=retry_after,
            status=429,
            code=base.code,
            errors=base.errors,
            method=method,
            path=path,
        )
        self._retry_or_raise(budget, error, retry_after)

    def _log(self, method: str, path: str, *, outcome: object, started: float, family: str, attempt: int) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            elapsed = (self._clock() - started) * 1000
            logger.debug('%s %s -> %s in %.0f ms [%s, attempt %d]', method, path, outcome, elapsed, family, attempt)
