"""Time for long-lived sockets: a monotonic clock for timers, a wall clock for token expiry, and sleep.

Everything in :mod:`tastyguard.streaming` that waits (keepalives, silence watchdogs, reconnect backoff, token
renewal) goes through a :class:`Clock`, so tests and simulations can drive hours of socket life in
milliseconds with :class:`ManualClock` instead of sleeping.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the streaming code needs from time."""

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps (timers, last-message ages)."""

    def wall(self) -> datetime:
        """The current aware UTC time (token expiry)."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (returns at once for zero or less)."""


class SystemClock:
    """The real clocks and :func:`asyncio.sleep`."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that moves only when told to (tests, simulations).

    ``await clock.advance(61)`` moves both clocks forward and wakes every sleeper whose deadline has come, in
    deadline order, giving the woken tasks a chance to run after each one.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start or datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
        self._now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def monotonic(self) -> float:
        return self._now

    def wall(self) -> datetime:
        return self._start + timedelta(seconds=self._now)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), future))
        await future

    @property
    def sleepers(self) -> int:
        """How many tasks are waiting on this clock."""
        return sum(1 for _, _, future in self._sleepers if not future.done())

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` and run everything that became due."""
        target = self._now + seconds
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, future = heapq.heappop(self._sleepers)
            self._now = max(self._now, deadline)
            if not future.done():
                future.set_result(None)
                await _settle()
        self._now = target
        await _settle()


async def _settle(rounds: int = 5) -> None:
    """Let woken tasks run a few steps (each step may wake the next)."""
    for _ in range(rounds):
        await asyncio.sleep(0)
