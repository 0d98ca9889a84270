"""A thin wrapper around the state table: key handling, record (de)serialisation, the clock."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
from boto3.dynamodb.conditions import Key
from pydantic import BaseModel

from tastyguard.store.schema import STATE_TABLE

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

Clock = Callable[[], datetime]
M = TypeVar('M', bound=BaseModel)

_KEY_ATTRS = ('pk', 'sk', 'expires_at')
MAX_BATCH_GET = 100
"""DynamoDB's limit of keys per BatchGetItem request."""


def utc_now() -> datetime:
    """The real clock (aware, UTC)."""
    return datetime.now(UTC)


class StateTable:
    """The state table plus the clock every repository shares."""

    def __init__(self, table: Table | None = None, *, clock: Clock = utc_now) -> None:
        self.table: Table = table if table is not None else boto3.resource('dynamodb').Table(STATE_TABLE.name)
        self.clock = clock

    @property
    def client(self) -> Any:
        """The low-level client (for exception classes)."""
        return self.table.meta.client

    def is_conditional_failure(self, error: Exception) -> bool:
        """True when ``error`` is DynamoDB's ConditionalCheckFailedException."""
        code = getattr(error, 'response', {}).get('Error', {}).get('Code')
        return bool(code == 'ConditionalCheckFailedException')

    def expiry(self, ttl: timedelta) -> int:
        """The TTL attribute value ``ttl`` from now (epoch seconds)."""
        return int((self.clock() + ttl).timestamp())

    def claim_once(self, pk: str, sk: str, ttl: timedelta) -> bool:
        """Create the item (pk, sk) unless it exists: True for the one caller that created it."""
        try:
            self.table.put_item(
                Item={'pk': pk, 'sk': sk, 'claimed_at': self.clock().isoformat(), 'expires_at': self.expiry(ttl)},
                ConditionExpression='attribute_not_exists(pk)',
            )
        except Exception as error:
            if self.is_conditional_failure(error):
                return False
            raise
        return True

    def put_record(
        self, pk: str, sk: str, record: BaseModel, *, ttl: timedelta | None = None, **put_kwargs: Any
    ) -> None:
        """Store a pydantic record under (pk, sk); values are stored in their JSON form."""
        # through JSON with floats as Decimal: DynamoDB takes no float, anywhere in a nested value
        body = json.loads(record.model_dump_json(exclude_none=True), parse_float=Decimal)
        item: dict[str, Any] = {**body, 'pk': pk, 'sk': sk}
        if ttl is not None:
            item['expires_at'] = self.expiry(ttl)
        self.table.put_item(Item=item, **put_kwargs)

    def get_record(self, pk: str, sk: str, model: type[M], *, consistent: bool = True) -> M | None:
        """Load one record, or None."""
        item = self.table.get_item(Key={'pk': pk, 'sk': sk}, ConsistentRead=consistent).get('Item')
        return None if item is None else to_record(item, model)

    def query_prefix(
        self, pk: str, prefix: str, *, newest_first: bool = False, limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of partition ``pk`` whose sort key starts with ``prefix`` (all pages)."""
        kwargs: dict[str, Any] = {
            'KeyConditionExpression': Key('pk').eq(pk) & Key('sk').begins_with(prefix),
            'ScanIndexForward': not newest_first,
            'ConsistentRead': True,
        }
        returned = 0
        while True:
            page = self.table.query(**kwargs)
            for item in page.get('Items', []):
                yield item
                returned += 1
                if limit is not None and returned >= limit:
                    return
            if 'LastEvaluatedKey' not in page:
                return
            kwargs['ExclusiveStartKey'] = page['LastEvaluatedKey']

    def get_items(
        self, keys: Sequence[tuple[str, str]], *, consistent: bool = True, attempts: int = 5
    ) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
        """The items of ``(pk, sk)`` keys by BatchGetItem, 100 keys per request (missing ones are simply absent).

        Keys DynamoDB leaves unprocessed (throttling) are asked again, up to ``attempts`` requests per batch;
        the ones still unprocessed after that are returned second, for the caller to read another way or do
        without: they are never silently dropped.
        """
        client: Any = self.table.meta.client  # the resource's client: plain values in and out
        name = self.table.name
        wanted = list(dict.fromkeys(keys))
        found: list[dict[str, Any]] = []
        left: list[tuple[str, str]] = []
        for start in range(0, len(wanted), MAX_BATCH_GET):
            batch = [{'pk': pk, 'sk': sk} for pk, sk in wanted[start : start + MAX_BATCH_GET]]
            request: dict[str, Any] = {name: {'Keys': batch, 'ConsistentRead': consistent}}
            for _ in range(attempts):
                response = client.batch_get_item(RequestItems=request)
                found.extend(response.get('Responses', {}).get(name, []))
                pending = response.get('UnprocessedKeys', {}).get(name)
                if not pending:
                    break
                request = {name: pending}
            else:
                left.extend((key['pk'], key['sk']) for key in request[name]['Keys'])
        return found, left


def to_record(item: Mapping[str, Any], model: type[M]) -> M:
    """Turn a stored item back into its record model (key attributes dropped)."""
    return model.model_validate({k: v for k, v in item.items() if k not in _KEY_ATTRS})
