"""OAuth refresh-token authentication with a shared cache, single-flight refresh and a breaker.

The refresh rule, in order:

1. Breaker open -> :class:`ReauthorizationRequired` at once; the token endpoint is not called.
2. A cached token with more than ``refresh_margin`` (60 s) left is used as is.
3. Otherwise one process refreshes: it takes the cache's refresh lock, re-checks the cache, calls
   ``POST /oauth/token`` (JSON body, no ``Authorization`` header) and stores the result. Processes that
   lose the lock keep using the old token while it is still valid, or wait briefly and re-load.
4. Token endpoint outcomes:

   * ``invalid_grant``, ``invalid_client``, ``unauthorized_client``, ``unsupported_grant_type``,
     ``access_denied`` -> **definitive**: trip the breaker for every process, raise
     :class:`ReauthorizationRequired` (retrying only risks tastytrade's IP block for failed logins);
   * 404/405 -> :class:`TokenEndpointNotFound` at once: the URL is wrong (a configuration error, not retried);
   * anything else (5xx, 429, timeouts, connection errors, HTML or malformed bodies, and
     ``invalid_request`` -- the sandbox intermittently answers "User is not a TastyTrade customer" for a
     valid grant, tastyware#351) -> **transient**: a few retries with jittered backoff inside this call,
     then :class:`TokenRefreshError`; the breaker stays closed and the next run tries again.

Nothing here logs a request or response body of the token endpoint.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import NoReturn

import httpx
from pydantic import BaseModel, ConfigDict, SecretStr

from tastyguard.broker.errors import ReauthorizationRequired, TokenEndpointNotFound, TokenRefreshError
from tastyguard.broker.responses import Redactor, error_fields, snippet
from tastyguard.broker.retry import RetryBudget, RetryPolicy, parse_retry_after
from tastyguard.broker.stats import BrokerStats
from tastyguard.broker.tokens import AccessToken, BreakerTrip, TokenCache

logger = logging.getLogger('tastyguard.broker')

TOKEN_PATH = '/oauth/token'  # noqa: S105 - a URL path, not a password
DEFINITIVE_CODES = frozenset(
    {'invalid_grant', 'invalid_client', 'unauthorized_client', 'unsupported_grant_type', 'access_denied'}
)
DEFAULT_LIFETIME = 900.0
DEFAULT_TOKEN_RETRY = RetryPolicy(max_attempts=3, base_delay=0.5, max_delay=4.0, max_total_wait=10.0)


class OAuthCredentials(BaseModel):
    """The OAuth client secret and the (non-expiring) refresh token of one environment."""

    model_config = ConfigDict(frozen=True, extra='forbid', defer_build=True)

    client_secret: SecretStr
    refresh_token: SecretStr
    scopes: tuple[str, ...] = ()


class _Transient(Exception):
    """A token-endpoint failure worth retrying; ``reason`` is secret-free."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class TokenProvider:
    """Hands out a valid access token, refreshing through the shared :class:`TokenCache` when needed."""

    def __init__(
        self,
        credentials: OAuthCredentials | Callable[[], OAuthCredentials],
        cache: TokenCache,
        http: httpx.Client,
        *,
        wall_clock: Callable[[], datetime],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        retry: RetryPolicy = DEFAULT_TOKEN_RETRY,
        stats: BrokerStats | None = None,
        redactor: Redactor | None = None,
        refresh_margin: float = 60.0,
        lock_ttl: float = 15.0,
        lock_wait: float = 20.0,
        poll_interval: float = 0.25,
    ) -> None:
        # A callable is asked at every refresh, so a new grant stored by the user is used without a restart.
        self._credentials = credentials
        self.cache = cache
        self._http = http
        self._now = wall_clock
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._retry = retry
        self._stats = stats or BrokerStats()
        self._redact = redactor or Redactor()
        if isinstance(credentials, OAuthCredentials):
            self._redact.add(credentials.client_secret)
            self._redact.add(credentials.refresh_token)
        self.refresh_margin = refresh_margin
        self._lock_ttl = lock_ttl
        self._lock_wait = lock_wait
        self._poll = poll_interval
        self._owner = os.urandom(8).hex()  # this process's refresh-lock identity

    def __repr__(self) -> str:
        return f'TokenProvider(cache={self.cache!r})'

    def renew_identity(self) -> None:
        """Take a new refresh-lock identity (after a SnapStart restore every resumed copy shares the old one)."""
        self._owner = os.urandom(8).hex()

    def token(self) -> AccessToken:
        """A token with more than ``refresh_margin`` seconds left (refreshing if needed)."""
        self._check_breaker()
        cached = self.cache.load()
        if cached is not None and cached.is_fresh(self._now(), self.refresh_margin):
            self._redact.add(cached.value)  # minted by another process: still never to appear in an error
            return cached
        return self._refresh(reject=None, current=cached)

    def invalidate(self, rejected: AccessToken) -> AccessToken:
        """After a 401 with ``rejected``: a different valid token (another process's or a fresh one)."""
        self._check_breaker()
        cached = self.cache.load()
        if cached is not None and not cached.same_as(rejected) and cached.is_fresh(self._now(), 0):
            return cached
        return self._refresh(reject=rejected, current=None)

    def _check_breaker(self) -> None:
        trip = self.cache.breaker()
        if trip is not None:
            raise ReauthorizationRequired(
                f'token refresh is stopped since {trip.tripped_at.isoformat()}: {trip.reason}', code='breaker_open'
            )

    def _usable(self, token: AccessToken | None, reject: AccessToken | None, margin: float) -> bool:
        return token is not None and not token.same_as(reject) and token.is_fresh(self._now(), margin)

    def _refresh(self, *, reject: AccessToken | None, current: AccessToken | None) -> AccessToken:
        deadline = self._clock() + self._lock_wait
        while True:
            if self.cache.try_lock(self._owner, self._lock_ttl):
                try:
                    cached = self.cache.load()
                    if self._usable(cached, reject, self.refresh_margin):
                        assert cached is not None
                        return cached
                    token = self._request_token()
                    self.cache.store(token)
                    return token
                finally:
                    self.cache.unlock(self._owner)
            # Another process is refreshing. Keep using a still-valid token rather than waiting.
            if current is not None and self._usable(current, reject, 5.0):
                return current
            self._sleep(self._poll)
            self._check_breaker()
            cached = self.cache.load()
            if self._usable(cached, reject, 0.0):
                assert cached is not None
                return cached
            if self._clock() >= deadline:
                raise TokenRefreshError('timed out waiting for another process to refresh the access token')

    def _request_token(self) -> AccessToken:
        budget = RetryBudget(self._retry, self._rng, self._sleep)
        while True:
            budget.start_attempt()
            try:
                token = self._call_endpoint()
            except _Transient as exc:
                self._stats.add('token_refresh_failures')
                delay = budget.next_delay(exc.retry_after)
                logger.warning('access token refresh failed (transient): %s', exc.reason)
                if delay is None:
                    raise TokenRefreshError(
                        f'could not refresh the access token after {budget.attempts} attempts: {exc.reason}',
                        method='POST',
                        path=TOKEN_PATH,
                    ) from None
                budget.wait(delay)
                continue
            self._stats.add('token_refreshes')
            logger.info('access token refreshed; valid until %s', token.expires_at.isoformat())
            return token

    def _call_endpoint(self) -> AccessToken:
        creds = self._credentials if isinstance(self._credentials, OAuthCredentials) else self._credentials()
        self._redact.add(creds.client_secret)
        self._redact.add(creds.refresh_token)
        body: dict[str, str] = {
            'grant_type': 'refresh_token',
            'client_secret': creds.client_secret.get_secret_value(),
            'refresh_token': creds.refresh_token.get_secret_value(),
        }
        if creds.scopes:
            body['scope'] = ' '.join(creds.scopes)
        try:
            response = self._http.post(TOKEN_PATH, content=json.dumps(body).encode())
        except httpx.TimeoutException:
            raise _Transient('the token endpoint timed out') from None
        except httpx.TransportError as exc:
            raise _Transient(f'connection to the token endpoint failed ({type(exc).__name__})') from None
        status = response.status_code
        if status in (404, 405):  # a wrong base URL (e.g. with /v1): a configuration error, never transient
            url = str(self._http.base_url).rstrip('/') + TOKEN_PATH
            raise TokenEndpointNotFound(
                f'POST {url} answered HTTP {status}: there is no token endpoint at this URL', status=status
            )
        if status >= 400:
            code, message, _ = error_fields(response, self._redact)
            reason = f'HTTP {status} {code or ""}: {message}'.replace('  ', ' ')
            if code in DEFINITIVE_CODES:
                self._trip(f'{code}: {message}'.rstrip(': '))
            retry_after = parse_retry_after(response.headers.get('retry-after'), self._now()) if status == 429 else None
            raise _Transient(reason, retry_after)
        return self._parse_token(response)

    def _parse_token(self, response: httpx.Response) -> AccessToken:
        try:
            payload = json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            raise _Transient(f'token endpoint sent a non-JSON body: {snippet(response, self._redact)!r}') from None
        value = payload.get('access_token') if isinstance(payload, dict) else None
        if not isinstance(value, str) or not value:
            keys = sorted(payload)[:6] if isinstance(payload, dict) else type(payload).__name__
            raise _Transient(f'token endpoint response has no access_token (got {keys})')
        lifetime = payload.get('expires_in', DEFAULT_LIFETIME)
        if not isinstance(lifetime, int | float) or lifetime <= 0:
            lifetime = DEFAULT_LIFETIME
        self._redact.add(value)
        return AccessToken(value=SecretStr(value), expires_at=self._now() + timedelta(seconds=float(lifetime)))

    def _trip(self, reason: str) -> NoReturn:
        self.cache.trip_breaker(BreakerTrip(reason=reason, tripped_at=self._now()))
        logger.error('token breaker tripped: %s', reason)
        raise ReauthorizationRequired(
            f'tastytrade rejected the refresh grant ({reason})', code='reauthorization_required', path=TOKEN_PATH
        )

    @property
    def redactor(self) -> Redactor:
        """The redactor that knows this provider's secrets (and every token it minted)."""
        return self._redact
