"""Job runs: one record per job per account, written when the run starts and completed when it ends.

A run that dies half-way stays ``running`` (and ``tastyguard history`` shows it), its intents say which
writes were attempted, and the next run picks up from the broker's state.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tastyguard.store.keys import account_pk, run_sk
from tastyguard.store.table import StateTable, to_record

RUN_TTL = timedelta(days=90)


class RunStatus(enum.StrEnum):
    """How a run ended."""

    RUNNING = 'running'
    OK = 'ok'
    SKIPPED = 'skipped'  # e.g. the lease was held or a broker read failed: nothing was changed
    FAILED = 'failed'


class RunRecord(BaseModel):
    """What one job run did (no secrets, no raw broker payloads)."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    job: str
    account: str
    mode: str
    environment: str
    started_at: datetime
    finished_at: datetime | None = None
    status: RunStatus = RunStatus.RUNNING
    summary: dict[str, Any] = Field(default_factory=dict)
    actions: list[dict[str, Any]] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)


class RunStore:
    """Run records per account."""

    def __init__(self, state: StateTable) -> None:
        self._state = state

    def _key(self, run: RunRecord) -> tuple[str, str]:
        return account_pk(run.account), run_sk(run.started_at, run.job, run.run_id)

    def start(self, run: RunRecord) -> None:
        """Record that ``run`` started."""
        pk, sk = self._key(run)
        self._state.put_record(pk, sk, run, ttl=RUN_TTL)

    def finish(self, run: RunRecord) -> None:
        """Store the completed ``run`` (same key as at start)."""
        pk, sk = self._key(run)
        self._state.put_record(pk, sk, run, ttl=RUN_TTL)

    def recent(self, account: str, limit: int = 20) -> list[RunRecord]:
        """The newest runs of ``account``, newest first."""
        items = self._state.query_prefix(account_pk(account), 'RUN#', newest_first=True, limit=limit)
        return [to_record(item, RunRecord) for item in items]
