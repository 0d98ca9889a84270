"""A receive-side silence watchdog: "no inbound message for N seconds" means the socket is dead.

Half-open connections are real (a NAT forgets the flow, the server's process freezes): the socket stays
open, nothing arrives, nothing fails. Every inbound frame, data or protocol, calls :meth:`SilenceWatchdog.touch`;
:meth:`SilenceWatchdog.expired` returns once the socket has been quiet for ``timeout`` seconds. It watches
liveness, not market activity: an illiquid symbol may be quiet for hours, but the server's keepalives are not.

    watchdog = SilenceWatchdog(60, clock)
    ...on every message: watchdog.touch()
    await watchdog.expired()   # then close and reconnect
"""

from __future__ import annotations

from tastyguard.streaming.clock import Clock


class SilenceWatchdog:
    """Tracks the last inbound message on a :class:`~tastyguard.streaming.clock.Clock`."""

    def __init__(self, timeout: float, clock: Clock) -> None:
        if timeout <= 0:
            raise ValueError('the silence timeout must be positive')
        self.timeout = timeout
        self.clock = clock
        self.last_inbound_at = clock.monotonic()

    def touch(self) -> None:
        """A message arrived."""
        self.last_inbound_at = self.clock.monotonic()

    def silent_for(self) -> float:
        """Seconds since the last inbound message (or since the watchdog started)."""
        return self.clock.monotonic() - self.last_inbound_at

    async def expired(self) -> float:
        """Wait until nothing has arrived for ``timeout`` seconds; returns how long it has been quiet."""
        while True:
            remaining = self.timeout - self.silent_for()
            if remaining <= 0:
                return self.silent_for()
            await self.clock.sleep(remaining)
