"""Fixtures for the broker client against the in-process paper broker."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from paperbroker.server import PaperBroker
from tastyguard.broker import Environment, OAuthCredentials, RateLimits, RetryPolicy, TastytradeClient
from tests.integration.broker.support import Sleeps


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_client(paper_broker: PaperBroker, sleeps: Sleeps) -> Iterator[Callable[..., TastytradeClient]]:
    """Build clients of the paper broker (closed after the test); keyword arguments override the defaults."""
    clients: list[TastytradeClient] = []

    def make(**overrides: Any) -> TastytradeClient:
        options: dict[str, Any] = {
            'timeout': 5.0,
            'retry': RetryPolicy(max_attempts=4, base_delay=0.25, max_delay=4.0, max_total_wait=30.0),
            'rate_limits': RateLimits.disabled(),
            'sleep': sleeps,
            'rng': random.Random(3),
        }
        options.update(overrides)
        client = TastytradeClient(
            Environment.paper(paper_broker.api_url, paper_broker.account_streamer_url),
            OAuthCredentials(client_secret=paper_broker.client_secret, refresh_token=paper_broker.refresh_token),
            **options,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def tt(make_client: Callable[..., TastytradeClient]) -> TastytradeClient:
    return make_client()
