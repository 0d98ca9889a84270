"""The tastyware paper API's part of the admin client: ``broker.admin.tastyware``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Call = Callable[..., Any]


class TastywareAdmin:
    """Wraps ``/_paper/tastyware/*`` (shares the admin client's connection)."""

    def __init__(self, call: Call) -> None:
        self._call = call

    def overview(self) -> dict[str, Any]:
        """The broker's own key, the two SDK URLs, every key and the settings."""
        result: dict[str, Any] = self._call('GET', '/tastyware')
        return result

    def create_api_key(self, api_key: str | None = None, *, owner: str | None = None) -> str:
        """Issue a key: a new paper subscriber, or with ``owner="me"`` the scenario user and its accounts."""
        body = {k: v for k, v in {'api-key': api_key, 'owner': owner}.items() if v is not None}
        return str(self._call('POST', '/tastyware/api-keys', body)['api-key'])

    def revoke_api_key(self, api_key: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call('DELETE', '/tastyware/api-keys', {'api-key': api_key})
        return result

    def settings(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call('GET', '/tastyware/settings')
        return result

    def configure(self, **changes: Any) -> dict[str, Any]:
        """``configure(rate_limit=5, restrictions=True, max_default_delay=10, seed=7)`` (until the next reset)."""
        body = {key.replace('_', '-'): value for key, value in changes.items()}
        result: dict[str, Any] = self._call('POST', '/tastyware/settings', body)
        return result
