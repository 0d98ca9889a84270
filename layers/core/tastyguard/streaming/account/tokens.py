"""Access tokens for the account streamer, from the broker client's shared token cache.

Every ``connect`` and ``heartbeat`` carries ``auth-token: "Bearer <access token>"``. The token comes from
the same cache the Lambdas use (the broker client's :class:`~tastyguard.broker.tokens.TokenCache`), so the
streamer causes no extra refreshes; a refused token is replaced through the cache, and a dead grant raises
:class:`~tastyguard.broker.errors.ReauthorizationRequired` (the invalid-grant breaker: no retry storm).
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from tastyguard.broker.tokens import AccessToken


class AccessTokenClient(Protocol):
    """The part of :class:`~tastyguard.broker.TastytradeClient` the account stream needs."""

    def access_token(self) -> AccessToken:
        """A valid access token."""

    def replace_access_token(self, rejected: AccessToken) -> AccessToken:
        """Another valid token after ``rejected`` was refused."""


class AccessTokens:
    """Async access to a (synchronous) broker client's tokens, in a worker thread."""

    def __init__(self, client: AccessTokenClient) -> None:
        self._client = client

    async def current(self) -> AccessToken:
        """A valid token (refreshed by the shared cache when near expiry)."""
        return await asyncio.to_thread(self._client.access_token)

    async def replace(self, rejected: AccessToken) -> AccessToken:
        """A token other than ``rejected``."""
        return await asyncio.to_thread(self._client.replace_access_token, rejected)


def bearer(token: AccessToken) -> str:
    """The ``auth-token`` value (never logged)."""
    return f'Bearer {token.value.get_secret_value()}'
