"""The paper API's own state: API keys (one paper subscriber each), its settings and its default fill delay.

The broker's own key (``Tastyware.api_key``) survives resets like the OAuth credentials do; every reset binds it
to a fresh paper subscriber with no accounts. Keys issued through the admin API are forgotten at a reset.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from paperbroker.clock import VirtualClock, iso_ms
from paperbroker.core import Core
from paperbroker.errors import ApiError
from paperbroker.model import BrokerState
from paperbroker.seeding import add_user
from paperbroker.tastyware.limits import RateLimited, RateLimiter

DEFAULT_MAX_DELAY_SECONDS = 10.0
ACCOUNT_PREFIX = 'TW'
USER_PREFIX = 'UTW'


@dataclass
class TastywareSettings:
    """How closely the paper API follows the real service's limits (all off by default)."""

    rate_limit: int | None = None  # requests per second per key (the real service: 5)
    restrictions: bool = False  # equities and equity/index options only, no complex orders
    max_default_delay: float = DEFAULT_MAX_DELAY_SECONDS  # orders without `behavior` fill after U(0, this) s
    seed: int | None = None  # seeds the random default delay (reproducible runs)

    def as_json(self) -> dict[str, Any]:
        """The settings as the admin API shows them."""
        return {
            'rate-limit': self.rate_limit,
            'restrictions': self.restrictions,
            'max-default-delay': self.max_default_delay,
            'seed': self.seed,
        }


@dataclass(frozen=True)
class ApiKey:
    """A tastyware API key and the paper subscriber (user) it stands for."""

    key: str
    user_id: str
    created_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {'api-key': self.key, 'user-id': self.user_id, 'created-at': iso_ms(self.created_at)}


class Tastyware:
    """API keys, settings, the rate limiter and the random source of the default fill delay."""

    def __init__(self, clock: VirtualClock, api_key: str | None = None, settings: TastywareSettings | None = None):
        self.api_key = api_key or new_key()
        self.initial_settings = settings or TastywareSettings()
        self.settings = replace(self.initial_settings)
        self.keys: dict[str, ApiKey] = {}
        self.limiter = RateLimiter(clock)
        self.rng = random.Random(self.settings.seed)

    def reset(self, core: Core) -> None:
        """After a scenario reset: only the broker's own key, bound to a new subscriber; settings as started."""
        self.keys.clear()
        self.limiter.clear()
        self.settings = replace(self.initial_settings)
        self.rng = random.Random(self.settings.seed)
        self.issue(core, key=self.api_key)

    def configure(self, **changes: Any) -> TastywareSettings:
        """Change settings (admin API); a new ``seed`` restarts the random source."""
        self.settings = replace(self.settings, **changes)
        if 'seed' in changes:
            self.rng = random.Random(self.settings.seed)
        return self.settings

    def issue(self, core: Core, *, key: str | None = None, owner: str | None = None) -> ApiKey:
        """A key for a new paper subscriber, or (``owner="me"``) for the scenario's own user and accounts."""
        key = key or new_key()
        if key in self.keys:
            raise ValueError('that API key already exists')
        if not key.strip() or len(key) > 200:
            raise ValueError('an API key must be 1-200 non-blank characters')
        if owner in {'me', core.user_id}:
            user_id = core.user_id
        elif owner is None:
            user_id = _new_subscriber(core)
        else:
            raise ValueError(f'owner must be "me" (the scenario user {core.user_id}) or left out (a new subscriber)')
        issued = ApiKey(key, user_id, core.now())
        self.keys[key] = issued
        return issued

    def revoke(self, key: str) -> ApiKey:
        """Forget a key (its accounts stay, reachable by no key until a reset)."""
        if key not in self.keys:
            raise KeyError(key)
        return self.keys.pop(key)

    def authenticate(self, header: str | None) -> ApiKey:
        """The key behind an ``X-Api-Key`` header, or the paper API's 401."""
        if header is None or not header.strip():
            raise ApiError(
                401, 'missing_api_key', 'Missing X-Api-Key header: send your tastyware API key with every request'
            )
        for known, issued in self.keys.items():
            if secrets.compare_digest(known.encode(), header.strip().encode()):
                return issued
        raise ApiError(
            401,
            'invalid_api_key',
            'Invalid API key: check X-Api-Key (this paper broker issues keys at startup and through '
            'POST /_paper/tastyware/api-keys)',
        )

    def throttle(self, key: str) -> None:
        """Count a request against the rate limit (when one is set); raise its 429 when the key is over it."""
        limit = self.settings.rate_limit
        if limit is not None and (retry_after := self.limiter.admit(key, limit)) is not None:
            raise RateLimited(limit, retry_after)

    def default_delay(self) -> float:
        """Seconds until an order without ``behavior`` fills: uniform between 0 and ``max_default_delay``."""
        return round(self.rng.uniform(0, self.settings.max_default_delay), 3)


def new_key() -> str:
    """A random API key."""
    return f'tw-paper-{secrets.token_urlsafe(24)}'


def next_account_number(state: BrokerState) -> str:
    """The next free ``TW000001``-style paper account number."""
    index = 1 + sum(1 for number in state.accounts if number.startswith(ACCOUNT_PREFIX))
    while f'{ACCOUNT_PREFIX}{index:06d}' in state.accounts:
        index += 1
    return f'{ACCOUNT_PREFIX}{index:06d}'


def _new_subscriber(core: Core) -> str:
    index = 1 + sum(1 for user_id in core.state.users if user_id.startswith(USER_PREFIX))
    while f'{USER_PREFIX}{index:08d}' in core.state.users:
        index += 1
    user_id = f'{USER_PREFIX}{index:08d}'
    add_user(core, user_id, f'tastyware-paper-{index}', 'Paper', f'Subscriber {index}')
    return user_id
