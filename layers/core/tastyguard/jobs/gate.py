"""Whether this run may write orders: the kill switch, the configured switch and the circuit breaker.

Checked once per run (the switch) and once per write (the breaker). A blocked write is reported, never
queued, and nothing is cancelled because writes are blocked.

The gate also says *what* blocked the writes (:attr:`WriteGate.blocked_by`): each cause is its own alert, so
a tripped breaker is never hidden behind an earlier kill-switch message (they used to share one alert key).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping

from tastyguard.config.models import Mode
from tastyguard.jobs.context import JobContext
from tastyguard.store.control import WritesBlockedError

logger = logging.getLogger('tastyguard.jobs')


class BlockCause(enum.StrEnum):
    """What stopped the order writes of a run."""

    CONFIG_KILL_SWITCH = 'config_kill_switch'
    KILL_SWITCH = 'kill_switch'
    BREAKER = 'breaker'


class WriteGate:
    """Order writes for one account in one run."""

    def __init__(self, ctx: JobContext, account: str, mode: Mode) -> None:
        self._ctx = ctx
        self._account = account
        self.mode = mode
        self.blocked_reason: str | None = None
        self.blocked_by: BlockCause | None = None
        self.trip_id: str | None = None  # the breaker trip's time: each trip is announced once
        self.writes = 0
        self.last_window = 0  # the breaker window of the last admission
        if mode is not Mode.LIVE:
            return
        if ctx.config.safety.kill_switch:
            self._block(
                BlockCause.CONFIG_KILL_SWITCH, 'the kill switch is on in the configuration (safety.kill_switch)'
            )
            return
        switch = ctx.stores.kill_switch.read()
        if switch.engaged:
            by = f' by {switch.changed_by}' if switch.changed_by else ''
            self._block(BlockCause.KILL_SWITCH, f'the kill switch is engaged{by}: {switch.reason or "no reason given"}')
            return
        tripped = ctx.stores.breaker.tripped(account)
        if tripped is not None:
            self.trip_id = tripped.tripped_at.isoformat()
            self._block(
                BlockCause.BREAKER,
                f'the circuit breaker is tripped since {tripped.tripped_at:%Y-%m-%d %H:%M}: {tripped.reason}',
            )

    def _block(self, cause: BlockCause, reason: str) -> None:
        self.blocked_by = cause
        self.blocked_reason = reason

    @property
    def alert_key(self) -> str | None:
        """The de-duplication key of this run's "writes blocked" alert: one per cause (and per breaker trip)."""
        if self.blocked_by is None:
            return None
        key = f'writes_blocked:{self._account}:{self.blocked_by}'
        return f'{key}:{self.trip_id}' if self.trip_id else key

    def admit(self, on_symbols: Mapping[str, int]) -> str | None:
        """Count the writes of one change at once, per symbol; returns why they may not happen (None: go ahead).
        ``last_window`` is the breaker window they were counted in (for :meth:`release`)."""
        if self.blocked_reason is not None:
            return self.blocked_reason
        breaker = self._ctx.stores.breaker
        self.last_window = breaker.current_window()
        try:
            breaker.record_writes(self._account, on_symbols, window=self.last_window)
        except WritesBlockedError as error:
            trip = self._ctx.stores.breaker.tripped(self._account)
            self.trip_id = (trip.tripped_at if trip is not None else self._ctx.clock()).isoformat()
            self._block(BlockCause.BREAKER, str(error))
            return self.blocked_reason
        self.writes += sum(on_symbols.values())
        return None

    def release(self, on_symbols: Mapping[str, int], window: int) -> None:
        """Take back admitted writes that were never sent (the rest of a change held back for the next run), so the
        next run's writes are not counted twice; a failure only leaves them counted."""
        try:
            self._ctx.stores.breaker.release_writes(self._account, on_symbols, window=window)
        except Exception as error:
            logger.warning('could not take back %d unsent order writes: %s', sum(on_symbols.values()), error)
            return
        self.writes -= sum(on_symbols.values())
