"""Where fast-path events go: the event bus (deployed), or an in-process ``ensure_stops`` run (local).

* :class:`BusPublisher` puts events on the EventBridge bus (10 per ``PutEvents`` call, failed entries
  retried with backoff, never silently dropped: what cannot be sent is logged as an error, and the next
  catch-up or scheduled run protects the position anyway). The bus rule runs the fast-path function.
* :class:`InProcessPublisher` runs the symbol-scoped ``ensure_stops`` itself, one run at a time
  (``run_event`` puts it on the streamer's job thread: the job code is synchronous), coalescing events for
  the same account and symbol that arrive while one is waiting. ``tastyguard stream`` without AWS uses
  it, and so do the tests and the latency bench.

Both keep the time from "seen on the socket" to "handed over / run finished" for the latency numbers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from tastyguard.streaming.events import SOURCE, StreamEvent

logger = logging.getLogger('tastyguard.streaming')

MAX_ENTRIES = 10  # PutEvents' limit per call


class EventSink(Protocol):
    """What the supervisor hands fast-path events to."""

    async def publish(self, events: Sequence[StreamEvent]) -> None:
        """Hand ``events`` over (returns once accepted, not once protected)."""

    async def drain(self) -> None:
        """Wait until everything handed over is sent (or run)."""

    async def close(self) -> None:
        """Finish what was handed over, then release what the sink holds (its worker task)."""


@dataclass
class SinkStats:
    """Counters and latencies (milliseconds from seen to sent or run)."""

    published: int = 0
    failed: int = 0
    coalesced: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    def record(self, started: float) -> None:
        self.latencies_ms.append((time.monotonic() - started) * 1000)
        del self.latencies_ms[:-1000]  # bounded: the last thousand


class BusPublisher:
    """Events to the EventBridge bus (``events:PutEvents`` is all the task role may do there)."""

    def __init__(self, client: Any, bus_name: str, *, attempts: int = 4, base_delay: float = 0.2) -> None:
        self._client = client
        self._bus = bus_name
        self._attempts = attempts
        self._base_delay = base_delay
        self._inflight: set[asyncio.Task[None]] = set()
        self.stats = SinkStats()

    async def publish(self, events: Sequence[StreamEvent]) -> None:
        for start in range(0, len(events), MAX_ENTRIES):
            task = asyncio.create_task(self._send(list(events[start : start + MAX_ENTRIES]), time.monotonic()))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

    async def drain(self) -> None:
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)

    async def close(self) -> None:
        await self.drain()

    async def _send(self, events: list[StreamEvent], started: float) -> None:
        pending = events
        for attempt in range(self._attempts):
            entries = [
                {
                    'Source': SOURCE,
                    'DetailType': e.detail_type.value,
                    'Detail': json.dumps(e.detail()),
                    'EventBusName': self._bus,
                }
                for e in pending
            ]
            try:
                response = await asyncio.to_thread(self._client.put_events, Entries=entries)
            except Exception as error:
                logger.warning('PutEvents failed (%s); attempt %d', type(error).__name__, attempt + 1)
                await asyncio.sleep(self._base_delay * 2**attempt)
                continue
            results = response.get('Entries', [])
            failed = [e for e, r in zip(pending, results, strict=False) if r.get('ErrorCode')]
            self.stats.published += len(pending) - len(failed)
            if not failed:
                self.stats.record(started)
                return
            pending = failed
            await asyncio.sleep(self._base_delay * 2**attempt)
        self.stats.failed += len(pending)
        logger.error(
            'could not publish %d fast-path events after %d attempts: %s (the next catch-up or scheduled run '
            'protects these positions)',
            len(pending),
            self._attempts,
            ', '.join(f'{e.account}/{e.symbol}' for e in pending),
        )


RunEvent = Callable[[StreamEvent], Awaitable[object]]


class InProcessPublisher:
    """Runs the fast path itself: one symbol-scoped ``ensure_stops`` at a time, coalescing duplicates."""

    def __init__(self, run_event: RunEvent) -> None:
        self._run_event = run_event
        self._queue: asyncio.Queue[tuple[StreamEvent, float]] = asyncio.Queue()
        self._waiting: set[tuple[str, str]] = set()
        self._worker: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self.stats = SinkStats()
        self.results: list[object] = []

    async def publish(self, events: Sequence[StreamEvent]) -> None:
        if self._worker is None:
            self._worker = asyncio.create_task(self._work(), name='fast-path')
        for event in events:
            key = (event.account, event.symbol)
            if key in self._waiting:
                self.stats.coalesced += 1  # a run for this position is already waiting: it reads fresh data
                continue
            self._waiting.add(key)
            self._idle.clear()
            self._queue.put_nowait((event, time.monotonic()))

    async def drain(self) -> None:
        await self._idle.wait()

    async def close(self) -> None:
        """Finish what is queued, then stop the worker."""
        await self.drain()
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None

    async def _work(self) -> None:
        while True:
            event, started = await self._queue.get()
            self._waiting.discard((event.account, event.symbol))
            try:
                result = await self._run_event(event)
            except Exception:
                self.stats.failed += 1
                logger.exception('the fast path failed for %s %s', event.account, event.symbol)
            else:
                self.stats.published += 1
                self.stats.record(started)
                self.results.append(result)
                del self.results[:-100]
            if self._queue.empty():
                self._idle.set()
