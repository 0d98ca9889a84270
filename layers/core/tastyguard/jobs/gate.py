"""Whether this run may write orders: the kill switch, the configured switch and the circuit breaker.

Checked once per run (the switch) and once per write (the breaker). A blocked write is reported, never
queued, and nothing is cancelled because writes are blocked.
"""

from __future__ import annotations

from tastyguard.config.models import Mode
from tastyguard.jobs.context import JobContext
from tastyguard.store.control import WritesBlockedError


class WriteGate:
    """Order writes for one account in one run."""

    def __init__(self, ctx: JobContext, account: str, mode: Mode) -> None:
        self._ctx = ctx
        self._account = account
        self.mode = mode
        self.blocked_reason: str | None = None
        self.writes = 0
        if mode is not Mode.LIVE:
            return
        if ctx.config.safety.kill_switch:
            self.blocked_reason = 'the kill switch is on in the configuration (safety.kill_switch)'
            return
        switch = ctx.stores.kill_switch.read()
        if switch.engaged:
            by = f' by {switch.changed_by}' if switch.changed_by else ''
            self.blocked_reason = f'the kill switch is engaged{by}: {switch.reason or "no reason given"}'
            return
        tripped = ctx.stores.breaker.tripped(account)
        if tripped is not None:
            self.blocked_reason = (
                f'the circuit breaker is tripped since {tripped.tripped_at:%Y-%m-%d %H:%M}: {tripped.reason}'
            )

    def admit(self, symbol: str | None = None) -> str | None:
        """Count one write (on ``symbol``); returns why it may not happen (None: go ahead)."""
        if self.blocked_reason is not None:
            return self.blocked_reason
        try:
            self._ctx.stores.breaker.record_write(self._account, symbol)
        except WritesBlockedError as error:
            self.blocked_reason = str(error)
            return self.blocked_reason
        self.writes += 1
        return None
