"""Notification state per problem, so the same problem is not re-announced every run."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from tastyguard.store.keys import account_pk, alert_sk
from tastyguard.store.table import StateTable, to_record

RESOLVED_TTL = timedelta(days=30)


class AlertRecord(BaseModel):
    """One problem as last notified."""

    model_config = ConfigDict(frozen=True)

    account: str
    dedupe_key: str
    kind: str
    severity: str
    symbol: str | None = None
    message: str
    first_seen: datetime
    last_seen: datetime
    last_sent: datetime | None = None
    times_sent: int = 0
    resolved_at: datetime | None = None

    @property
    def open(self) -> bool:
        """True while the problem is still present."""
        return self.resolved_at is None


class AlertStateStore:
    """Alert records in the state table."""

    def __init__(self, state: StateTable) -> None:
        self._state = state

    def all(self, account: str) -> dict[str, AlertRecord]:
        """Every alert record of ``account`` by dedupe key (open and recently resolved)."""
        records = (to_record(item, AlertRecord) for item in self._state.query_prefix(account_pk(account), 'ALERT#'))
        return {record.dedupe_key: record for record in records}

    def save(self, records: list[AlertRecord]) -> None:
        """Write records; resolved ones expire after a while."""
        for record in records:
            ttl = RESOLVED_TTL if not record.open else None
            self._state.put_record(account_pk(record.account), alert_sk(record.dedupe_key), record, ttl=ttl)
