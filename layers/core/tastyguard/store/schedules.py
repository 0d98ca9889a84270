"""The shared rate-budget schedules in the state table (see :mod:`tastyguard.broker.budget`).

One item per ``(grant, family)``, each in a partition of its own so no grant's budget is a hot key for
another. A claim is one ``UpdateItem``:

* the schedule is idle (its end is not after now): ``SET end = now + interval`` if ``end <= now``;
* it is busy: ``SET end = end + interval`` if ``now < end`` (and ``end <= now + horizon`` for a normal
  claim), returning the new end, so the slot is ``new end - interval``.

Which case applies is guessed from the end this process saw last; a wrong guess costs one more write
(the failed condition returns the item, so there is never a separate read). Times are integer
microseconds since the epoch.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tastyguard.broker.budget import Claim
from tastyguard.store.keys import RATE_SCHEDULE_SK, rate_schedule_pk
from tastyguard.store.table import StateTable

_US = 1_000_000
_TTL_SECONDS = 86_400


class DynamoScheduleStore:
    """A :class:`tastyguard.broker.budget.ScheduleStore` on the state table."""

    def __init__(self, state: StateTable) -> None:
        self._state = state
        self._seen: dict[str, int] = {}  # the end of each schedule as this process last saw it

    def __repr__(self) -> str:
        return f'DynamoScheduleStore(schedules={len(self._seen)})'

    def claim(self, key: str, *, now: float, interval: float, horizon: float | None) -> Claim:
        now_us, step = int(now * _US), max(1, round(interval * _US))
        limit = None if horizon is None else now_us + int(horizon * _US)
        end = self._seen.get(key, 0)
        for _ in range(3):  # a wrong guess costs one write; another process moving the end in between, one more
            result = self._busy(key, now_us, step, limit) if end > now_us else self._idle(key, now_us, step)
            if isinstance(result, Claim):
                return result
            end = result
            self._seen[key] = end
            if limit is not None and end > limit:
                break
        return Claim(False, end / _US, end / _US)

    def _idle(self, key: str, now_us: int, step: int) -> Claim | int:
        end = now_us + step
        failed = self._update(
            key,
            'SET end_us = :end, expires_at = :ttl',
            'attribute_not_exists(end_us) OR end_us <= :now',
            {':end': end, ':now': now_us, ':ttl': now_us // _US + _TTL_SECONDS},
        )
        if failed is not None:
            return failed
        self._seen[key] = end
        return Claim(True, now_us / _US, end / _US)

    def _busy(self, key: str, now_us: int, step: int, limit: int | None) -> Claim | int:
        condition = 'end_us > :now' + (' AND end_us <= :limit' if limit is not None else '')
        values: dict[str, int] = {':step': step, ':now': now_us, ':ttl': now_us // _US + _TTL_SECONDS}
        if limit is not None:
            values[':limit'] = limit
        response: dict[str, Any] = {}
        failed = self._update(key, 'SET end_us = end_us + :step, expires_at = :ttl', condition, values, response)
        if failed is not None:
            return failed
        end = int(response['Attributes']['end_us'])
        self._seen[key] = end
        return Claim(True, (end - step) / _US, end / _US)

    def _update(
        self,
        key: str,
        expression: str,
        condition: str,
        values: dict[str, int],
        response: dict[str, Any] | None = None,
    ) -> int | None:
        """Run the update; None on success (``response`` filled), else the schedule's end as it is now."""
        grant, _, family = key.rpartition('#')
        try:
            answer = self._state.table.update_item(
                Key={'pk': rate_schedule_pk(grant, family), 'sk': RATE_SCHEDULE_SK},
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeValues={name: Decimal(value) for name, value in values.items()},
                ReturnValues='UPDATED_NEW',
                ReturnValuesOnConditionCheckFailure='ALL_OLD',
            )
        except Exception as error:
            if not self._state.is_conditional_failure(error):
                raise
            return _end_of(getattr(error, 'response', {}).get('Item') or {})
        if response is not None:
            response.update(answer)
        return None


def _end_of(item: dict[str, Any]) -> int:
    """The ``end_us`` of an item returned with a failed condition (raw DynamoDB JSON or deserialized)."""
    value = item.get('end_us', 0)
    if isinstance(value, dict):
        value = value.get('N', 0)
    return int(value)
