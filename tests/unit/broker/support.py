"""Helpers of the broker client's unit tests: a fake clock/sleep, credentials, a respx-mocked client."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import respx

from tastyguard.broker import Environment, OAuthCredentials, RateLimits, RetryPolicy, TastytradeClient

SANDBOX = 'https://api.cert.tastyworks.com'
CLIENT_SECRET = 'cs-unit-secret-7f3a9c'
REFRESH_TOKEN = 'rt-unit-secret-41b2e8'
ACCESS_PREFIX = 'at-unit-secret-'
ACCOUNT = '5WT00001'


class FakeTime:
    """Monotonic seconds, an aware wall clock and a sleep that only advances them (and records)."""

    def __init__(self) -> None:
        self.mono = 1000.0
        self.wall = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.mono

    def now(self) -> datetime:
        return self.wall

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += timedelta(seconds=seconds)


def credentials() -> OAuthCredentials:
    return OAuthCredentials(client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN)


def token_responder(lifetime: int = 900) -> Any:
    """A respx side effect minting ``at-unit-secret-1``, ``-2``... like the token endpoint."""
    counter = itertools.count(1)

    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={'access_token': f'{ACCESS_PREFIX}{next(counter)}', 'token_type': 'Bearer', 'expires_in': lifetime},
        )

    return respond


def make_client(
    router: respx.Router, fake_time: FakeTime, *, environment: Environment | None = None, **kwargs: Any
) -> TastytradeClient:
    kwargs.setdefault('retry', RetryPolicy(max_attempts=4, base_delay=0.25, max_delay=4.0, max_total_wait=30.0))
    kwargs.setdefault('rate_limits', RateLimits.disabled())
    return TastytradeClient(
        environment or Environment.sandbox(),
        credentials(),
        transport=httpx.MockTransport(router.handler),
        clock=fake_time.monotonic,
        wall_clock=fake_time.now,
        sleep=fake_time.sleep,
        rng=random.Random(7),
        **kwargs,
    )


def envelope(data: Any, **extra: Any) -> dict[str, Any]:
    return {'data': data, 'context': '/test', **extra}


def items(rows: list[Any], **extra: Any) -> dict[str, Any]:
    return envelope({'items': rows}, **extra)
