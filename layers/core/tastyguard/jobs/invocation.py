"""What starts a job: a schedule tick, a streamer event, or a person at the CLI."""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class JobName(enum.StrEnum):
    """The four jobs."""

    SYNC_POSITIONS = 'sync_positions'
    ENSURE_STOPS = 'ensure_stops'
    RECONCILE_ORDERS = 'reconcile_orders'
    DIGEST = 'digest'


class JobInvocation(BaseModel):
    """The event a job handler receives.

    From EventBridge Scheduler (through the dispatcher, one message per account): ``{"job", "scheduled_time",
    "schedule_arn", "account", "grant"}``. From the streamer's event rule: ``{"job": "ensure_stops", "account",
    "symbol", "event_id"}``. The idempotency key is the scheduled time plus the account (a retry of the same
    tick for the same account is the same run) or the event id. ``grant`` names the login that discovered an
    account the configuration does not list; it never widens what the configuration allows. The mode is never
    taken from an event: only the configuration (or a person at the CLI) decides whether orders are submitted.
    """

    model_config = ConfigDict(frozen=True, extra='ignore')

    job: JobName
    scheduled_time: datetime | None = None
    schedule_arn: str | None = None
    account: str | None = Field(None, max_length=32)
    symbol: str | None = Field(None, max_length=64)
    event_id: str | None = Field(None, max_length=128)
    grant: str | None = Field(None, max_length=32)
    force: bool = False  # run even when the market is closed (CLI only; events never set it)

    @property
    def idempotency_key(self) -> str | None:
        """What makes two deliveries the same run (None: no de-duplication possible)."""
        if self.event_id:
            return f'{self.job}:event:{self.event_id}'
        if self.scheduled_time:
            tick = f'{self.job}:tick:{self.scheduled_time.isoformat()}'
            return f'{tick}:{self.account.strip().upper()}' if self.account else tick
        return None

    def salt(self, run_id: str) -> str:
        """The seed of this run's order identifiers: stable across retries of the same tick or event.

        The job is part of it: a reconcile that re-protects in the same minute as an ensure-stops tick must
        not re-derive that tick's identifiers.
        """
        if self.scheduled_time:
            return f'{self.job}:{self.scheduled_time.isoformat()}'
        if self.event_id:
            return f'{self.job}:event:{self.event_id}'
        return run_id
