"""Read-only commands over a real store: copy what they read, then work on the copy.

``plan`` and ``status`` run the same code as a job (so they see what the next run would see), and that code
remembers things as it goes (position snapshots, the order ledger, trailing marks). Against a persistent store
they therefore read the account partitions, the process-wide items and the kill switch once, and run against an
embedded store seeded with that copy: the real store is only ever read. With the embedded store there is
nothing to protect and no copy is made.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3

from tastyguard.cli.stores import EMBEDDED_STORE, StoreSession, embedded_aws
from tastyguard.store.keys import GLOBAL_PK, INSTRUMENTS_PK, account_pk
from tastyguard.store.schema import STATE_TABLE

BATCH = 25  # DynamoDB's BatchWriteItem limit


@dataclass(frozen=True)
class StoreCopy:
    """The items a read-only command needs, in DynamoDB's wire form, and the kill switch's value."""

    items: tuple[dict[str, Any], ...]
    kill_switch: str | None
    kill_switch_parameter: str


def _partition(dynamodb: Any, pk: str) -> Iterator[dict[str, Any]]:
    paginator = dynamodb.get_paginator('query')
    pages = paginator.paginate(
        TableName=STATE_TABLE.name,
        KeyConditionExpression='pk = :pk',
        ExpressionAttributeValues={':pk': {'S': pk}},
        ConsistentRead=True,
    )
    for page in pages:
        yield from page.get('Items', [])


def copy_store(session: StoreSession, accounts: Iterable[str]) -> StoreCopy:
    """Read (only read) the partitions of ``accounts``, the global items and the kill switch."""
    dynamodb = session.client('dynamodb')
    items: list[dict[str, Any]] = []
    for pk in [account_pk(account) for account in accounts] + [GLOBAL_PK, INSTRUMENTS_PK]:
        items.extend(_partition(dynamodb, pk))
    ssm = session.client('ssm')
    try:
        value: str | None = ssm.get_parameter(Name=session.kill_switch_parameter)['Parameter']['Value']
    except ssm.exceptions.ParameterNotFound:
        value = None
    return StoreCopy(tuple(items), value, session.kill_switch_parameter)


@contextlib.contextmanager
def embedded_copy(copy: StoreCopy) -> Iterator[StoreSession]:
    """An embedded store holding ``copy``; whatever the block writes is discarded with it."""
    with embedded_aws():
        dynamodb = boto3.client('dynamodb')
        for start in range(0, len(copy.items), BATCH):
            requests = [{'PutRequest': {'Item': item}} for item in copy.items[start : start + BATCH]]
            pending: dict[str, Any] = {STATE_TABLE.name: requests}
            while pending:
                pending = dynamodb.batch_write_item(RequestItems=pending).get('UnprocessedItems') or {}
        if copy.kill_switch is not None:
            boto3.client('ssm').put_parameter(
                Name=copy.kill_switch_parameter, Value=copy.kill_switch, Type='String', Overwrite=True
            )
        yield StoreSession(EMBEDDED_STORE, region='us-east-1')
