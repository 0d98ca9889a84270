"""Reconnect delays: exponential backoff with full jitter, reset only after a healthy connection.

``delay = uniform(0, min(cap, base * factor ** attempt))`` ("full jitter": many clients that lost the same
server at the same moment do not come back in lockstep). The attempt counter grows with every failed or short
connection and goes back to zero only when the last connection stayed healthy for ``healthy_after`` seconds, so
a server that accepts the socket and drops it at once (or answers SETUP and closes) is not hammered every second.

    backoff = Backoff()
    delay = backoff.next_delay(healthy_for=seconds_the_last_connection_was_up)
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Jittered exponential backoff (defaults: 1 s base, doubling, 30 s cap, reset after 60 s healthy)."""

    base: float = 1.0
    factor: float = 2.0
    cap: float = 30.0
    healthy_after: float = 60.0
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def __post_init__(self) -> None:
        if self.base <= 0 or self.factor < 1 or self.cap < self.base or self.healthy_after < 0:
            raise ValueError('backoff needs base > 0, factor >= 1, cap >= base and healthy_after >= 0')

    def ceiling(self) -> float:
        """The largest delay the next attempt can draw."""
        return min(self.cap, self.base * self.factor ** min(self.attempt, 64))

    def next_delay(self, healthy_for: float = 0.0) -> float:
        """The wait before the next connection attempt; ``healthy_for`` is how long the last one was up."""
        if healthy_for >= self.healthy_after:
            self.attempt = 0
        delay = self.rng.uniform(0, self.ceiling())
        self.attempt += 1
        return delay

    def reset(self) -> None:
        """Start again from the first attempt."""
        self.attempt = 0
