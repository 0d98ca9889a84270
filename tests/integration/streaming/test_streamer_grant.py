"""A dead grant stops the streamer's sockets with one "re-authorize" message and no retry storm; after the
breaker is closed (``tastyguard token reset``) the service streams again on its own."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from paperbroker.server import PaperBroker
from tastyguard.broker.errors import ReauthorizationRequired
from tastyguard.store.table import StateTable
from tastyguard.streaming import service as service_module
from tastyguard.streaming.account import AccountStreamConfig
from tastyguard.streaming.dxlink.config import FeedConfig
from tastyguard.streaming.publish import InProcessPublisher
from tastyguard.streaming.service import GrantStream, StreamerService
from tastyguard.streaming.supervisor import JobThread, fast_path
from tests.integration.jobs.conftest import Harness, make_harness

pytestmark = [pytest.mark.integration, pytest.mark.anyio, pytest.mark.paper_scenario('empty')]
A = '5WT00001'
QUICK_ACCOUNT = AccountStreamConfig(heartbeat_interval=0.2, silence_timeout=1.5, backoff_base=0.02, backoff_cap=0.1)
QUICK_DXLINK = FeedConfig(keepalive_interval=0.25, silence_timeout=1.5, backoff_base=0.02, backoff_cap=0.1)


@pytest.fixture
def harness(paper_broker: PaperBroker, aws: None) -> Iterator[Harness]:
    yield make_harness(paper_broker, accounts=[{'account_number': A}])


async def _until(condition: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, 'timed out'
        await asyncio.sleep(0.02)


async def test_a_revoked_grant_stops_the_sockets_once_and_resumes_after_token_reset(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service_module, 'BREAKER_POLL_SECONDS', 0.1)
    broker, ctx = harness.broker, harness.ctx
    ready = asyncio.Event()

    def sink(jobs: JobThread) -> InProcessPublisher:
        handle = fast_path(ctx)
        return InProcessPublisher(lambda event: jobs.call(handle, event))

    service = StreamerService(
        ctx=ctx,
        grants=[GrantStream('default', ctx.broker, [A])],
        sink=sink,
        state=StateTable,
        on_ready=lambda *_: ready.set(),
        account_config=QUICK_ACCOUNT,
        dxlink_config=QUICK_DXLINK,
    )
    task = asyncio.create_task(service.run())
    try:
        await asyncio.wait_for(ready.wait(), 15)
        streamer = service.streamers['default']
        # When tastytrade revokes the grant (every token, and the refresh token answers invalid_grant)
        await asyncio.to_thread(broker.admin.fault, 'revoke_token', scope='grant', path='.*', count=1)
        with contextlib.suppress(ReauthorizationRequired):  # the request the fault rides on trips the breaker
            await asyncio.to_thread(ctx.broker.positions, A)
        await _until(lambda: streamer.account.state.status.value == 'stopped', 20)
        token_calls = len(await asyncio.to_thread(broker.admin.requests, path='/oauth/token'))
        # Then one message says re-authorize, and the token endpoint is not hammered while it waits
        await asyncio.sleep(1.0)
        assert len(await asyncio.to_thread(broker.admin.requests, path='/oauth/token')) == token_calls
        titles = [n.title for n in harness.notifier.sent]
        assert sum('re-authorize' in t for t in titles) == 1, titles
        # When the person stores a new grant (the paper broker restores it) and resets the breaker
        broker.broker.auth.grant_revoked = False
        ctx.broker.token_cache.reset_breaker()
        # Then the service streams again on its own
        await _until(lambda: service.streamers['default'] is not streamer, 10)
        restarted = service.streamers['default']
        await _until(lambda: restarted.account.state.status.value == 'connected', 15)
        assert sum('re-authorize' in n.title for n in harness.notifier.sent) == 1
    finally:
        service.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 20)
