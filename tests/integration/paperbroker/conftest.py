"""Fixtures for the paper broker's integration tests: a logged-in HTTP client of the running broker."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from paperbroker.server import PaperBroker

USER_AGENT = 'tastyguard-tests/1.0'


def login(broker: PaperBroker, client: httpx.Client) -> str:
    grant = {
        'grant_type': 'refresh_token',
        'client_secret': broker.client_secret,
        'refresh_token': broker.refresh_token,
    }
    response = client.post('/oauth/token', json=grant)
    response.raise_for_status()
    token: str = response.json()['access_token']
    return token


@pytest.fixture
def api(paper_broker: PaperBroker) -> Iterator[httpx.Client]:
    """An httpx client of the broker's REST API with a valid bearer token."""
    with httpx.Client(base_url=paper_broker.api_url, headers={'User-Agent': USER_AGENT}, timeout=10) as client:
        client.headers['Authorization'] = f'Bearer {login(paper_broker, client)}'
        yield client


def stop_body(symbol: str, quantity: int, trigger: str, action: str = 'Sell to Close', **extra: Any) -> dict[str, Any]:
    """A single-leg equity stop order body."""
    leg = {'instrument-type': 'Equity', 'symbol': symbol, 'quantity': quantity, 'action': action}
    return {'time-in-force': 'GTC', 'order-type': 'Stop', 'stop-trigger': trigger, 'legs': [leg], **extra}


@pytest.fixture
def stop() -> Any:
    """Build a stop order body: ``stop('AAPL', 100, '170.00')``."""
    return stop_body


@pytest.fixture
def relogin(paper_broker: PaperBroker, api: httpx.Client) -> Any:
    """Refresh the ``api`` client's token (after advancing the clock past its lifetime)."""

    def again() -> None:
        api.headers['Authorization'] = f'Bearer {login(paper_broker, api)}'

    return again
