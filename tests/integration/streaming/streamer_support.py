"""Running a whole streamer in-process against the paper broker (the fast path runs locally)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from paperbroker.server import PaperBroker
from tastyguard.jobs.context import JobContext
from tastyguard.store.quotes import QuoteStore
from tastyguard.store.table import StateTable, utc_now
from tastyguard.streaming.account import AccountStreamConfig
from tastyguard.streaming.dxlink.config import FeedConfig
from tastyguard.streaming.follow import FollowSettings
from tastyguard.streaming.publish import InProcessPublisher
from tastyguard.streaming.quotes import QuoteBook
from tastyguard.streaming.supervisor import JobThread, Streamer, StreamerParts, fast_path


@dataclass
class Running:
    """A streamer under test, its fast-path sink, and a ready signal."""

    streamer: Streamer
    sink: InProcessPublisher
    ready: asyncio.Event
    task: asyncio.Task[None]
    ready_info: dict[str, Any] = field(default_factory=dict)

    async def settle(self, condition: Callable[[], bool], timeout: float = 10.0, *, drain: bool = True) -> None:
        """Wait until ``condition()`` holds (the streamer reacts to the broker's own websocket events), then
        (``drain``) until the fast path has run everything it was handed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            if loop.time() > deadline:
                raise AssertionError('the streamer did not get there in time')
            await asyncio.sleep(0.02)
        if drain:
            await self.sink.drain()


@contextlib.asynccontextmanager
async def running_streamer(
    ctx: JobContext,
    broker: PaperBroker,
    accounts: list[str],
    *,
    catch_up: bool = True,
    account_config: AccountStreamConfig | None = None,
    dxlink_config: FeedConfig | None = None,
    follow_settings: FollowSettings | None = None,
) -> AsyncIterator[Running]:
    jobs = JobThread()
    handle = fast_path(ctx)
    sink = InProcessPublisher(lambda event: jobs.call(handle, event))
    ready = asyncio.Event()
    info: dict[str, Any] = {}

    def on_ready(names: Any, symbols: int) -> None:
        info.update(accounts=list(names), symbols=symbols)
        ready.set()

    parts = StreamerParts(
        ctx=ctx,
        client=ctx.broker,
        accounts=accounts,
        sink=sink,
        quotes=QuoteBook(QuoteStore(StateTable()), utc_now, interval=0.2),
        jobs=jobs,
        catch_up=catch_up,
        account_config=account_config,
        dxlink_config=dxlink_config,
        follow_settings=follow_settings or FollowSettings(rebuild_debounce_seconds=0.1, mark_write_seconds=0.2),
        on_ready=on_ready,
    )
    streamer = Streamer(parts)
    task = asyncio.create_task(streamer.run())
    running = Running(streamer, sink, ready, task, info)
    try:
        await asyncio.wait_for(ready.wait(), 15)
        await sink.drain()
        yield running
    finally:
        await streamer.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 20)
        await sink.close()
        jobs.close()
