"""Fan-out bookkeeping: one record per dispatched tick, the sweep cursors, the accounts grants discovered, and
when each account was last verified by a sweep.

A tick record counts the account runs it expects and the ones that finished (workers add one each, whatever
the outcome), so the dispatcher can tell at the next tick whether the previous one finished in its period,
and the last worker can report how long the whole tick took. A verified item (``ACCOUNT#<n> / VERIFIED#<job>``)
holds when the last scheduled run of the job on the account began that ended ``ok``: the dispatcher reads
them to leave out, for a while, the accounts the streamer watches and nothing happened on (decision 60).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Key
from pydantic import BaseModel, ConfigDict, Field

from tastyguard.store.keys import GLOBAL_PK, account_pk
from tastyguard.store.table import StateTable, to_record

TICK_TTL = timedelta(days=3)
VERIFIED_TTL = timedelta(days=7)
DISCOVERY_TTL = timedelta(days=7)


def _tick_pk(job: str) -> str:
    return f'TICK#{job}'


class TickRecord(BaseModel):
    """One dispatched tick of one job."""

    model_config = ConfigDict(frozen=True)

    job: str
    scheduled_time: datetime
    dispatched_at: datetime
    expected: int
    done: int = 0
    deferred: int = 0
    grants: dict[str, int] = Field(default_factory=dict)  # accounts dispatched per grant
    stopped_grants: list[str] = Field(default_factory=list)

    @property
    def finished(self) -> bool:
        """Every dispatched account run has finished."""
        return self.done >= self.expected


class DiscoveredAccounts(BaseModel):
    """The accounts a grant's login had at its last successful discovery."""

    model_config = ConfigDict(frozen=True)

    grant: str
    accounts: list[str]
    discovered_at: datetime


class TickStore:
    """Tick records, sweep cursors and discovered accounts in the state table."""

    def __init__(self, state: StateTable) -> None:
        self._state = state

    # -- ticks -----------------------------------------------------------------------------------------------
    def start(self, record: TickRecord) -> TickRecord:
        """Store a new tick (a re-dispatch of the same tick keeps the first record and its counts)."""
        try:
            self._state.put_record(
                _tick_pk(record.job),
                record.scheduled_time.isoformat(),
                record,
                ttl=TICK_TTL,
                ConditionExpression='attribute_not_exists(pk)',
            )
        except Exception as error:
            if not self._state.is_conditional_failure(error):
                raise
            existing = self.get(record.job, record.scheduled_time)
            return existing or record
        return record

    def get(self, job: str, scheduled_time: datetime) -> TickRecord | None:
        """One tick record."""
        return self._state.get_record(_tick_pk(job), scheduled_time.isoformat(), TickRecord)

    def previous(self, job: str, before: datetime) -> TickRecord | None:
        """The latest tick of ``job`` scheduled before ``before``."""
        page = self._state.table.query(
            KeyConditionExpression=Key('pk').eq(_tick_pk(job)) & Key('sk').lt(before.isoformat()),
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        items = page.get('Items', [])
        return to_record(dict(items[0]), TickRecord) if items else None

    def latest(self, job: str) -> TickRecord | None:
        """The most recently scheduled tick of ``job``."""
        page = self._state.table.query(
            KeyConditionExpression=Key('pk').eq(_tick_pk(job)), ScanIndexForward=False, Limit=1, ConsistentRead=True
        )
        items = page.get('Items', [])
        return to_record(dict(items[0]), TickRecord) if items else None

    def account_finished(self, job: str, scheduled_time: datetime) -> TickRecord | None:
        """Count one finished account run; returns the record as updated (None if the tick is unknown)."""
        try:
            answer = self._state.table.update_item(
                Key={'pk': _tick_pk(job), 'sk': scheduled_time.isoformat()},
                UpdateExpression='ADD done :one',
                ConditionExpression='attribute_exists(pk)',
                ExpressionAttributeValues={':one': 1},
                ReturnValues='ALL_NEW',
            )
        except Exception as error:
            if self._state.is_conditional_failure(error):
                return None
            raise
        attributes: dict[str, Any] = dict(answer.get('Attributes', {}))
        return to_record(attributes, TickRecord)

    # -- sweep cursors ---------------------------------------------------------------------------------------
    def cursor(self, job: str, grant: str) -> int:
        """Where the next sweep of ``grant``'s accounts starts."""
        item = self._state.table.get_item(Key={'pk': GLOBAL_PK, 'sk': f'SWEEP#{job}#{grant}'}).get('Item')
        return int(str(item['cursor'])) if item else 0

    def save_cursor(self, job: str, grant: str, cursor: int) -> None:
        """Remember where the next sweep starts."""
        self._state.table.put_item(Item={'pk': GLOBAL_PK, 'sk': f'SWEEP#{job}#{grant}', 'cursor': cursor})

    # -- discovery -------------------------------------------------------------------------------------------
    def discovered(self, grant: str) -> DiscoveredAccounts | None:
        """The last successful discovery of ``grant``."""
        return self._state.get_record(GLOBAL_PK, f'DISCOVERED#{grant}', DiscoveredAccounts)

    def save_discovered(self, found: DiscoveredAccounts) -> None:
        """Remember a successful discovery."""
        self._state.put_record(GLOBAL_PK, f'DISCOVERED#{found.grant}', found, ttl=DISCOVERY_TTL)

    # -- verification ----------------------------------------------------------------------------------------
    def verified(self, job: str, accounts: Iterable[str], config: str) -> dict[str, datetime]:
        """``account → start of its last scheduled run of job that left nothing to do``, under the configuration
        whose fingerprint is ``config`` (accounts never verified, verified under another configuration, or whose
        keys DynamoDB could not serve are absent, which makes them due: never the other way round)."""
        sk = _verified_sk(job)
        items, _left = self._state.get_items([(account_pk(a), sk) for a in accounts], consistent=False)
        found: dict[str, datetime] = {}
        for item in items:
            if item.get('config') == config:
                found[str(item['pk']).removeprefix('ACCOUNT#')] = datetime.fromisoformat(str(item['verified_at']))
        return found

    def save_verified(self, job: str, account: str, started_at: datetime, config: str) -> None:
        """Remember that a scheduled run of ``job`` that began at ``started_at`` under the configuration whose
        fingerprint is ``config`` verified ``account``."""
        self._state.table.put_item(
            Item={
                'pk': account_pk(account),
                'sk': _verified_sk(job),
                'verified_at': started_at.isoformat(),
                'config': config,
                'expires_at': self._state.expiry(VERIFIED_TTL),
            }
        )


def _verified_sk(job: str) -> str:
    return f'VERIFIED#{job}'
