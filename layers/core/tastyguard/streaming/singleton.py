"""One streamer at a time: a DynamoDB lease with a fencing token.

ECS with a 0 % / 100 % deployment stops the old task before starting the new one, but a task that is slow to
stop, partitioned, or started by hand could still overlap. The lease (``pk = GLOBAL``, ``sk =
STREAMER#LEASE``) is a conditional put: taken when absent, expired, or already ours; renewed every
``renew_every`` seconds for ``duration`` seconds. Each new holder increments ``version``, the fencing token
every published event carries. A holder that fails to renew (another streamer took over, or the table is
unreachable for longer than the lease) stops publishing and ends, so two streamers never both act.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from tastyguard.store.keys import GLOBAL_PK
from tastyguard.store.table import StateTable

logger = logging.getLogger('tastyguard.streaming')

STREAMER_LEASE_SK = 'STREAMER#LEASE'


class StreamerLeaseRecord(BaseModel):
    """Who holds the streamer lease, since when, until when, and its fencing version."""

    model_config = ConfigDict(frozen=True)

    owner: str
    version: int
    acquired_at: datetime
    lease_until_ms: int


class LeaseLostError(RuntimeError):
    """Another streamer holds the lease (or it could not be renewed in time): stop acting."""


class StreamerLease:
    """The singleton lease (see the module docstring)."""

    def __init__(self, state: StateTable, owner: str, *, duration: float = 30.0, renew_every: float = 10.0) -> None:
        if renew_every >= duration:
            raise ValueError('the lease must be renewed well before it expires')
        self._state = state
        self.owner = owner
        self.duration = duration
        self.renew_every = renew_every
        self.version: int | None = None

    def current(self) -> StreamerLeaseRecord | None:
        """The stored lease, or None."""
        return self._state.get_record(GLOBAL_PK, STREAMER_LEASE_SK, StreamerLeaseRecord)

    def try_acquire(self) -> bool:
        """Take or renew the lease; False when another live streamer holds it."""
        now = self._state.clock()
        held = self.current()
        mine = held is not None and held.owner == self.owner
        version = held.version if mine and held is not None else (held.version + 1 if held else 1)
        until = int((now + timedelta(seconds=self.duration)).timestamp() * 1000)
        record = StreamerLeaseRecord(owner=self.owner, version=version, acquired_at=now, lease_until_ms=until)
        condition = 'attribute_not_exists(pk) OR lease_until_ms < :now OR #owner = :owner'
        values: dict[str, Any] = {':now': int(now.timestamp() * 1000), ':owner': self.owner}
        if held is not None and not mine:
            condition = f'({condition}) AND version = :seen'
            values[':seen'] = held.version
        try:
            self._state.put_record(
                GLOBAL_PK,
                STREAMER_LEASE_SK,
                record,
                ttl=timedelta(days=1),
                ConditionExpression=condition,
                ExpressionAttributeNames={'#owner': 'owner'},
                ExpressionAttributeValues=values,
            )
        except Exception as error:
            if not self._state.is_conditional_failure(error):
                raise
            return False
        if self.version != version:
            logger.info('streamer lease taken (version %d)', version)
        self.version = version
        return True

    def release(self) -> None:
        """Give the lease back (only if it is still ours)."""
        try:
            self._state.table.delete_item(
                Key={'pk': GLOBAL_PK, 'sk': STREAMER_LEASE_SK},
                ConditionExpression='#owner = :owner',
                ExpressionAttributeNames={'#owner': 'owner'},
                ExpressionAttributeValues={':owner': self.owner},
            )
        except Exception as error:
            if not self._state.is_conditional_failure(error):
                raise
        self.version = None

    async def acquire(self, stop: asyncio.Event, *, poll: float = 5.0) -> bool:
        """Wait until the lease is ours (True) or ``stop`` is set (False)."""
        waited = False
        while not stop.is_set():
            if await asyncio.to_thread(self.try_acquire):
                return True
            if not waited:
                holder = await asyncio.to_thread(self.current)
                logger.warning('another streamer holds the lease (%s); waiting', holder.owner if holder else '?')
                waited = True
            try:
                await asyncio.wait_for(stop.wait(), poll)
            except TimeoutError:
                continue
        return False

    async def keep(self, stop: asyncio.Event) -> None:
        """Renew until ``stop``; raises :class:`LeaseLostError` when a renewal is refused or too late."""
        last_ok = asyncio.get_running_loop().time()
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), self.renew_every)
                return
            except TimeoutError:
                pass
            try:
                renewed = await asyncio.to_thread(self.try_acquire)
            except Exception as error:
                logger.warning('could not renew the streamer lease: %s', error)
                renewed = None
            now = asyncio.get_running_loop().time()
            if renewed:
                last_ok = now
            elif renewed is False or now - last_ok >= self.duration - self.renew_every:
                raise LeaseLostError('another streamer holds the lease now; this one stops')
