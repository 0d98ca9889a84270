"""Table definitions shared by the CDK stack and ``tastyguard store init``.

One *state* table holds everything tastyguard remembers (single-table design, ``pk``/``sk`` strings, TTL
attribute ``expires_at``); Powertools idempotency keeps its records in a table of its own, with the key and
TTL attribute names Powertools expects.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True, slots=True)
class TableSpec:
    """What a table looks like: key attributes (strings), TTL attribute, on-demand billing."""

    logical_id: str
    default_name: str
    env_var: str
    partition_key: str
    sort_key: str | None
    ttl_attribute: str

    @property
    def name(self) -> str:
        """The table name for this process: from the environment (set by the stack) or the default."""
        return os.environ.get(self.env_var) or self.default_name


STATE_TABLE = TableSpec(
    logical_id='StateTable',
    default_name='tastyguard-state',
    env_var='TASTYGUARD_STATE_TABLE',
    partition_key='pk',
    sort_key='sk',
    ttl_attribute='expires_at',
)
IDEMPOTENCY_TABLE = TableSpec(
    logical_id='IdempotencyTable',
    default_name='tastyguard-idempotency',
    env_var='TASTYGUARD_IDEMPOTENCY_TABLE',
    partition_key='id',
    sort_key=None,
    ttl_attribute='expiration',
)
TABLES = (STATE_TABLE, IDEMPOTENCY_TABLE)


def create_table(client: DynamoDBClient, spec: TableSpec) -> bool:
    """Create ``spec``'s table if it does not exist yet (with TTL enabled). Returns True when created."""
    existing = client.list_tables().get('TableNames', [])
    if spec.name in existing:
        return False
    keys: list[tuple[str, Literal['HASH', 'RANGE']]] = [(spec.partition_key, 'HASH')]
    if spec.sort_key:
        keys.append((spec.sort_key, 'RANGE'))
    client.create_table(
        TableName=spec.name,
        KeySchema=[{'AttributeName': name, 'KeyType': kind} for name, kind in keys],
        AttributeDefinitions=[{'AttributeName': name, 'AttributeType': 'S'} for name, _ in keys],
        BillingMode='PAY_PER_REQUEST',
    )
    client.get_waiter('table_exists').wait(TableName=spec.name, WaiterConfig={'Delay': 1, 'MaxAttempts': 30})
    client.update_time_to_live(
        TableName=spec.name,
        TimeToLiveSpecification={'Enabled': True, 'AttributeName': spec.ttl_attribute},
    )
    return True


def create_tables(client: DynamoDBClient) -> list[str]:
    """Create every tastyguard table that is missing; returns the names created."""
    return [spec.name for spec in TABLES if create_table(client, spec)]
