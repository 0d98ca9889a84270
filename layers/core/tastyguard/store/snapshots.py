"""Position snapshots: the last positions read from the broker, and how long positions have been absent.

``sync_positions`` diffs the new read against the latest snapshot (opened / closed / changed). The
``absent_counts`` let the planner cancel an orphaned stop only after its position was missing on two
consecutive reads; ``human_cancels`` remember where a person cancelled one of tastyguard's stops (until that
position changes); ``events`` hold the expirations, assignments, exercises and splits recognised lately
(:mod:`tastyguard.store.position_events`); ``orders_seen`` is a digest of the orders the last run read and
recorded in the ledger, so the next run reads back only the entries of orders that changed (see
:func:`tastyguard.jobs.tracking.settled_orders`). A dated copy of every snapshot is kept for a month (without
the digest).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from tastyguard.store.keys import SNAPSHOT_SK, account_pk, snapshot_history_pk, snapshot_history_sk
from tastyguard.store.position_events import PositionEvent
from tastyguard.store.table import StateTable

HISTORY_TTL = timedelta(days=35)


class HeldPosition(BaseModel):
    """One position as stored (signed quantity: negative = short)."""

    model_config = ConfigDict(frozen=True)

    symbol: str
    instrument_type: str
    underlying_symbol: str | None = None
    quantity: Decimal
    average_open_price: Decimal | None = None
    multiplier: Decimal = Decimal(1)
    mark_price: Decimal | None = None


class PositionSnapshot(BaseModel):
    """The positions of one account at one read."""

    model_config = ConfigDict(frozen=True)

    account: str
    taken_at: datetime
    positions: list[HeldPosition] = Field(default_factory=list)
    absent_counts: dict[str, int] = Field(default_factory=dict)
    human_cancels: dict[str, Decimal] = Field(default_factory=dict)  # symbol → position quantity at the cancel
    events: list[PositionEvent] = Field(default_factory=list)  # recognised position events, oldest first
    orders_seen: dict[int, str] = Field(default_factory=dict)  # order id → its state when the ledger recorded it
    version: int = 0

    def by_symbol(self) -> dict[str, HeldPosition]:
        """Positions keyed by symbol."""
        return {position.symbol: position for position in self.positions}


class SnapshotConflictError(RuntimeError):
    """Another writer saved a snapshot in between; re-read and try again."""


class SnapshotStore:
    """Latest snapshot per account plus dated history."""

    def __init__(self, state: StateTable) -> None:
        self._state = state

    def latest(self, account: str) -> PositionSnapshot | None:
        """The latest snapshot of ``account``, or None before the first read."""
        return self._state.get_record(account_pk(account), SNAPSHOT_SK, PositionSnapshot)

    def save(self, snapshot: PositionSnapshot) -> PositionSnapshot:
        """Store ``snapshot`` as the latest (optimistic: only over the version it was derived from)."""
        stored = snapshot.model_copy(update={'version': snapshot.version + 1})
        pk = account_pk(snapshot.account)
        try:
            self._state.put_record(
                pk,
                SNAPSHOT_SK,
                stored,
                ConditionExpression='attribute_not_exists(pk) OR version = :v',
                ExpressionAttributeValues={':v': snapshot.version},
            )
        except Exception as error:
            if self._state.is_conditional_failure(error):
                raise SnapshotConflictError(f'snapshot of {snapshot.account} changed while this run worked') from None
            raise
        dated = stored.model_copy(update={'orders_seen': {}})
        self._state.put_record(
            snapshot_history_pk(snapshot.account), snapshot_history_sk(snapshot.taken_at), dated, ttl=HISTORY_TTL
        )
        return stored
