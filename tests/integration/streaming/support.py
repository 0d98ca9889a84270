"""Helpers for the streaming tests: an event/state recorder, no-jitter backoff, scripted quote tokens."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from pydantic import SecretStr

from tastyguard.broker import QuoteToken
from tastyguard.streaming import Clock, ManualClock
from tastyguard.streaming.dxlink import FeedEvent, FeedState, FeedStatus


class NoJitter(random.Random):
    """Backoff draws its lower bound: reconnects happen at once (the delays are tested on their own)."""

    def uniform(self, a: float, b: float) -> float:
        return a


class Recorder:
    """Collects what a feed reports; ``await rec.until(...)`` waits (bounded) for a condition."""

    def __init__(self) -> None:
        self.events: list[FeedEvent] = []
        self.states: list[FeedState] = []
        self._changed = asyncio.Condition()

    async def on_event(self, events: Sequence[FeedEvent]) -> None:
        self.events.extend(events)
        async with self._changed:
            self._changed.notify_all()

    async def on_state(self, state: FeedState) -> None:
        self.states.append(state)
        async with self._changed:
            self._changed.notify_all()

    async def until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    def connected(self) -> int:
        return sum(1 for s in self.states if s.status is FeedStatus.CONNECTED)

    def reasons(self) -> list[str]:
        return [s.reason.value for s in self.states if s.status is FeedStatus.DISCONNECTED and s.reason]

    def of(self, cls: type[Any], symbol: str | None = None) -> list[Any]:
        return [e for e in self.events if isinstance(e, cls) and (symbol is None or e.symbol == symbol)]


class StaticTokens:
    """Quote tokens for a scripted server: ``token-1``, ``token-2``... valid 24 h on the given clock."""

    def __init__(self, url: str, clock: Clock | None = None, lifetime: timedelta = timedelta(hours=24)) -> None:
        self.url = url
        self.clock = clock or ManualClock()
        self.lifetime = lifetime
        self.calls = 0
        self.failures: list[BaseException] = []

    async def __call__(self) -> QuoteToken:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        now = self.clock.wall()
        return QuoteToken(
            token=SecretStr(f'scripted-quote-token-{self.calls}'),
            dxlink_url=self.url,
            issued_at=now,
            expires_at=now + self.lifetime,
        )


async def eventually(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait (bounded) for a condition nothing signals, such as a message the other side has read."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError('the condition never became true')
        await asyncio.sleep(0.002)
