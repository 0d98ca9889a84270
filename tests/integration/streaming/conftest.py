"""Fixtures for the streaming tests: an event/state recorder, a feed runner, quote-token sources."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from paperbroker.server import PaperBroker
from tastyguard.broker import Environment, OAuthCredentials, TastytradeClient
from tastyguard.streaming import Clock
from tastyguard.streaming.dxlink import DXLinkFeed, FeedConfig, from_broker
from tests.integration.streaming.support import NoJitter, Recorder


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


FeedFactory = Callable[..., contextlib.AbstractAsyncContextManager[DXLinkFeed]]


@pytest.fixture
def running_feed(recorder: Recorder) -> FeedFactory:
    """``async with running_feed(tokens, clock=..., **config) as feed`` runs a feed and stops it afterwards."""

    @contextlib.asynccontextmanager
    async def run(tokens: Any, clock: Clock | None = None, **config: Any) -> AsyncIterator[DXLinkFeed]:
        feed = DXLinkFeed(
            tokens,
            on_event=recorder.on_event,
            on_state=recorder.on_state,
            config=FeedConfig(**config),
            clock=clock,
            rng=NoJitter(),
        )
        task = asyncio.create_task(feed.run())
        try:
            yield feed
        finally:
            await asyncio.wait_for(feed.stop(), 10)
            with contextlib.suppress(Exception):
                await task

    return run


@pytest.fixture
def broker_client(paper_broker: PaperBroker) -> Iterator[TastytradeClient]:
    client = TastytradeClient(
        Environment.paper(paper_broker.api_url, paper_broker.account_streamer_url),
        OAuthCredentials(client_secret=paper_broker.client_secret, refresh_token=paper_broker.refresh_token),
        timeout=5.0,
    )
    yield client
    client.close()


@pytest.fixture
def paper_tokens(broker_client: TastytradeClient) -> Any:
    return from_broker(broker_client)
