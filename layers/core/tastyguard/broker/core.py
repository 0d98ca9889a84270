"""The client's plumbing: construction, headers, the shared request helpers. Methods live in subclasses."""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from tastyguard import __version__
from tastyguard.broker.auth import DEFAULT_TOKEN_RETRY, OAuthCredentials, TokenProvider
from tastyguard.broker.environments import Environment
from tastyguard.broker.errors import BrokerError, MalformedResponseError
from tastyguard.broker.ratelimit import ChainedLimiter, Limiter, RateLimiter, RateLimits
from tastyguard.broker.responses import Redactor, parse_model, unwrap_data, unwrap_items
from tastyguard.broker.retry import RetryPolicy
from tastyguard.broker.stats import BrokerStats
from tastyguard.broker.tokens import AccessToken, MemoryTokenCache, TokenCache
from tastyguard.broker.transport import ApiTransport, Params, WriteIntent

M = TypeVar('M', bound=BaseModel)

USER_AGENT = f'tastyguard/{__version__}'
"""Sent on every request; tastytrade's nginx answers an HTML 401 without a ``product/version`` agent."""

_ACCOUNT = re.compile(r'^[A-Za-z0-9]{1,32}$')


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ClientCore:
    """Construction and shared helpers of :class:`~tastyguard.broker.client.TastytradeClient`.

    Parameters
    ----------
    environment
        Where to connect (no default: production must be chosen explicitly).
    credentials
        OAuth client secret and refresh token, or a callable returning them (asked at every token refresh,
        so a newly stored grant is picked up by a long-lived process).
    token_cache
        The shared token cache (a private in-memory one if omitted).
    timeout
        Seconds (or an ``httpx.Timeout``) per request.
    retry, token_retry
        Retry policies for API requests and for the token endpoint.
    rate_limits
        Per-family limits (tastytrade's published ones if omitted; ``RateLimits.disabled()`` for none).
    shared_limiter
        A budget shared with other processes of the same grant (acquired after the per-process limiter).
    stats
        The counters to fill (a new :class:`BrokerStats` if omitted; pass one to share it with a budget).
    transport
        An ``httpx`` transport (``httpx.MockTransport``, respx) for tests.
    clock, wall_clock, sleep, rng
        Monotonic seconds, aware "now", sleep and jitter source; inject them for deterministic tests.
    instrument_cache_ttl
        Seconds an instrument (and its tick table) is cached.
    refresh_margin
        Refresh the access token when fewer seconds than this remain.
    """

    def __init__(
        self,
        environment: Environment,
        credentials: OAuthCredentials | Callable[[], OAuthCredentials],
        *,
        token_cache: TokenCache | None = None,
        timeout: float | httpx.Timeout = 10.0,
        retry: RetryPolicy | None = None,
        token_retry: RetryPolicy = DEFAULT_TOKEN_RETRY,
        rate_limits: RateLimits | None = None,
        shared_limiter: Limiter | None = None,
        stats: BrokerStats | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        instrument_cache_ttl: float = 3600.0,
        refresh_margin: float = 60.0,
    ) -> None:
        self.environment = environment
        self.stats = stats if stats is not None else BrokerStats()
        self._clock = clock
        self._now = wall_clock
        known = (
            [credentials.client_secret, credentials.refresh_token] if isinstance(credentials, OAuthCredentials) else []
        )
        self._redact = Redactor(known)
        headers = {'User-Agent': USER_AGENT, 'Accept': 'application/json', 'Content-Type': 'application/json'}
        if environment.accept_version:
            headers['Accept-Version'] = environment.accept_version
        self._http = httpx.Client(
            base_url=environment.api_url,
            headers=headers,
            timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
        )
        rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._rng = rng
        self._tokens = TokenProvider(
            credentials,
            token_cache if token_cache is not None else MemoryTokenCache(wall_clock),
            self._http,
            wall_clock=wall_clock,
            clock=clock,
            sleep=sleep,
            rng=rng,
            retry=token_retry,
            stats=self.stats,
            redactor=self._redact,
            refresh_margin=refresh_margin,
        )
        limiter: Limiter = RateLimiter(rate_limits or RateLimits(), clock=clock, sleep=sleep, stats=self.stats)
        if shared_limiter is not None:
            limiter = ChainedLimiter(limiter, shared_limiter)
        self._api = ApiTransport(
            self._http,
            self._tokens,
            retry=retry or RetryPolicy(),
            limiter=limiter,
            stats=self.stats,
            rng=rng,
            sleep=sleep,
            wall_clock=wall_clock,
            redactor=self._redact,
            clock=clock,
        )
        self.instrument_cache_ttl = instrument_cache_ttl
        self._instrument_cache: dict[tuple[str, str], tuple[float, BaseModel]] = {}
        self._instrument_lock = threading.Lock()

    def __repr__(self) -> str:
        return f'{type(self).__name__}(environment={self.environment.name}, api_url={self.environment.api_url!r})'

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def renew_after_restore(self) -> None:
        """Make this client unique again in an environment resumed from a SnapStart snapshot.

        Every environment restored from one snapshot starts with the same memory: the jitter generator
        would draw the same backoff everywhere (retries in lockstep) and every copy would hold the same
        token-refresh lock identity (two of them could both believe they own the lock). Both are renewed
        from the OS's entropy. The snapshot holds no connection and no token: the client is built without
        any network call.
        """
        self._rng.seed()
        self._tokens.renew_identity()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    @property
    def token_cache(self) -> TokenCache:
        """The token cache this client refreshes through."""
        return self._tokens.cache

    def access_token(self) -> AccessToken:
        """A valid access token (for the account streamer's ``auth-token``); refreshes if needed."""
        return self._tokens.token()

    def replace_access_token(self, rejected: AccessToken) -> AccessToken:
        """The account streamer refused ``rejected``: another valid token (the shared cache's, or a new one)."""
        return self._tokens.invalidate(rejected)

    # -- helpers shared by the method mixins ------------------------------------------------------------

    @staticmethod
    def _account(account: str) -> str:
        if not _ACCOUNT.match(account):
            raise ValueError(f'not an account number: {account!r}')
        return account

    @staticmethod
    def _segment(value: str) -> str:
        """A path segment, percent-encoded (option symbols hold spaces, some symbols a slash)."""
        if not value.strip():
            raise ValueError('a symbol or id must not be empty')
        return quote(value, safe='')

    def _get_data(self, model: type[M], path: str, params: Params | None = None) -> M:
        body = self._api.request('GET', path, params=params)
        return parse_model(model, unwrap_data(body, method='GET', path=path), method='GET', path=path)

    def _get_items(self, model: type[M], path: str, params: Params | None = None) -> list[M]:
        body = self._api.request('GET', path, params=params)
        items = unwrap_items(body, method='GET', path=path)
        return [parse_model(model, item, method='GET', path=path) for item in items]

    def _get_raw(self, path: str, params: Params | None = None) -> Any:
        return self._api.request('GET', path, params=params)

    def _get_pages(
        self, model: type[M], path: str, params: dict[str, Any], *, per_page: int, max_pages: int, what: str
    ) -> list[M]:
        """Every item of a paginated list (``data.items`` + top-level ``pagination``), all pages.

        Raises :class:`MalformedResponseError` past ``max_pages`` (partial results are never returned).
        """
        found: list[M] = []
        for page in range(max_pages):
            body = self._get_raw(path, {**params, 'per-page': per_page, 'page-offset': page})
            items = unwrap_items(body, method='GET', path=path)
            found.extend(parse_model(model, item, method='GET', path=path) for item in items)
            pagination = body.get('pagination') if isinstance(body, dict) else None
            total_pages = pagination.get('total-pages') if isinstance(pagination, dict) else None
            if not items or not isinstance(total_pages, int) or page + 1 >= total_pages:
                return found
        raise MalformedResponseError(f'{what} returned more than {max_pages} pages; narrow it', method='GET', path=path)

    def _dry_run(self, model: type[M], path: str, body: dict[str, Any]) -> M:
        raw = self._api.request('POST', path, body=body, orders=True)
        return parse_model(model, unwrap_data(raw, method='POST', path=path), method='POST', path=path)

    def _write(
        self,
        model: type[M],
        method: str,
        path: str,
        write: WriteIntent,
        body: dict[str, Any] | None = None,
        *,
        unwrap: str | None = None,
    ) -> M:
        """Send an order write; anything but a well-formed answer is an :class:`AmbiguousOrderError`."""
        raw = self._api.request(method, path, body=body, write=write, orders=True)
        try:
            if raw is None:
                raise MalformedResponseError('expected a JSON body, got an empty one', method=method, path=path)
            data = unwrap_data(raw, method=method, path=path)
            if unwrap and isinstance(data, dict) and isinstance(data.get(unwrap), dict):
                data = data[unwrap]  # PUT/DELETE answer with the object itself; tolerate a wrapped one too
            return parse_model(model, data, method=method, path=path)
        except BrokerError as error:
            raise self._api.ambiguous(write, error, method=method, path=path) from error
