"""DXLink quote tokens: fetched through the broker client, kept until shortly before they expire.

A quote token (``GET /api-quote-tokens``) lives 24 hours and comes with the ``dxlink-url`` to connect to (always
use it: tastytrade moves hosts). :class:`QuoteTokens` hands out the current one and fetches a new one when it is
within ``renew_before`` of expiry (default one hour), when the server refused it (:meth:`QuoteTokens.invalidate`)
or when none was fetched yet. Fetching goes through the broker client, so its access-token cache and its
invalid-grant breaker apply: a dead grant raises
:class:`~tastyguard.broker.errors.ReauthorizationRequired` at once, without calling the token endpoint.

The token is a secret: it lives in a :class:`~pydantic.SecretStr`, is registered with :mod:`tastyguard.redact`,
and is never logged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from tastyguard.broker.models.quotes import QuoteToken
from tastyguard.redact import register_secret
from tastyguard.streaming.clock import Clock

TOKEN_LIFETIME = timedelta(hours=24)
DEFAULT_RENEW_BEFORE = timedelta(hours=1)

QuoteTokenSource = Callable[[], Awaitable[QuoteToken]]
"""Anything that fetches a fresh quote token (see :func:`from_broker`)."""


class QuoteTokenClient(Protocol):
    """The part of :class:`~tastyguard.broker.TastytradeClient` this module needs."""

    def quote_token(self) -> QuoteToken:
        """``GET /api-quote-tokens``."""


def from_broker(client: QuoteTokenClient) -> QuoteTokenSource:
    """A token source that calls the (synchronous) broker client in a worker thread."""

    async def fetch() -> QuoteToken:
        return await asyncio.to_thread(client.quote_token)

    return fetch


@dataclass(frozen=True)
class HeldToken:
    """A token, where to use it, and when to stop using it (monotonic seconds)."""

    token: QuoteToken
    renew_at: float

    @property
    def url(self) -> str:
        return self.token.dxlink_url

    def secret(self) -> str:
        return self.token.token.get_secret_value()


class QuoteTokens:
    """The current quote token, renewed ``renew_before`` its expiry."""

    def __init__(
        self, source: QuoteTokenSource, clock: Clock, *, renew_before: timedelta = DEFAULT_RENEW_BEFORE
    ) -> None:
        self._source = source
        self._clock = clock
        self._renew_before = renew_before
        self._held: HeldToken | None = None
        self.fetched = 0

    async def get(self) -> HeldToken:
        """The token to connect with (fetching one when none is usable)."""
        held = self._held
        if held is not None and self._clock.monotonic() < held.renew_at:
            return held
        token = await self._source()
        register_secret(token.token.get_secret_value())
        self.fetched += 1
        self._held = HeldToken(token, self._renew_at(token))
        return self._held

    def invalidate(self) -> None:
        """The server refused the token: fetch a new one next time."""
        self._held = None

    def _renew_at(self, token: QuoteToken) -> float:
        now = self._clock.wall()
        expires = token.expires_at or (token.issued_at or now) + TOKEN_LIFETIME
        left = (_aware(expires, now) - now - self._renew_before).total_seconds()
        return self._clock.monotonic() + max(left, 60.0)  # a token already due is still used once


def _aware(moment: datetime, like: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=like.tzinfo)
