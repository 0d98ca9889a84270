"""One writer per account: a lease item taken with a conditional put and released on exit.

Scheduled runs, the fill fast path and the CLI all take the same lease before they change anything at the
broker. The lease expires on its own (``expires_at`` compared by the condition, not by DynamoDB's TTL
sweeper), so a crashed run blocks the account for at most the lease duration.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from types import TracebackType

from pydantic import BaseModel, ConfigDict

from tastyguard.store.keys import LEASE_SK, account_pk
from tastyguard.store.table import StateTable


class LeaseUnavailableError(RuntimeError):
    """Another run holds the account's lease; this run must not write."""

    def __init__(self, account: str, holder: str | None, until: datetime | None) -> None:
        self.account = account
        self.holder = holder
        self.until = until
        detail = f' by {holder} until {until.isoformat()}' if holder and until else ''
        super().__init__(
            f'account {account} is being worked on by another run{detail}; this run skips it '
            '(the lease expires on its own if that run died)'
        )


class LeaseRecord(BaseModel):
    """The stored lease."""

    model_config = ConfigDict(frozen=True)

    owner: str
    acquired_at: datetime
    lease_until: datetime
    lease_until_ms: int  # compared by the put condition (numbers compare exactly; ISO strings may not)


class AccountLease:
    """A context manager holding the account's lease for ``duration``."""

    def __init__(self, state: StateTable, account: str, owner: str, duration: timedelta) -> None:
        self._state = state
        self.account = account
        self.owner = owner
        self.duration = duration
        self.held = False

    def acquire(self) -> None:
        """Take the lease, or raise :class:`LeaseUnavailableError`."""
        now = self._state.clock()
        until = now + self.duration
        record = LeaseRecord(
            owner=self.owner, acquired_at=now, lease_until=until, lease_until_ms=int(until.timestamp() * 1000)
        )
        try:
            self._state.put_record(
                account_pk(self.account),
                LEASE_SK,
                record,
                ttl=self.duration + timedelta(days=1),
                ConditionExpression='attribute_not_exists(pk) OR lease_until_ms < :now OR #owner = :owner',
                ExpressionAttributeNames={'#owner': 'owner'},
                ExpressionAttributeValues={':now': int(now.timestamp() * 1000), ':owner': self.owner},
            )
        except Exception as error:
            if not self._state.is_conditional_failure(error):
                raise
            current = self._state.get_record(account_pk(self.account), LEASE_SK, LeaseRecord)
            raise LeaseUnavailableError(
                self.account, current.owner if current else None, current.lease_until if current else None
            ) from None
        self.held = True

    def renew(self) -> None:
        """Extend the lease by ``duration`` from now (only while we hold it)."""
        self.acquire()

    def release(self) -> None:
        """Give the lease back (only if it is still ours)."""
        if not self.held:
            return
        try:
            self._state.table.delete_item(
                Key={'pk': account_pk(self.account), 'sk': LEASE_SK},
                ConditionExpression='#owner = :owner',
                ExpressionAttributeNames={'#owner': 'owner'},
                ExpressionAttributeValues={':owner': self.owner},
            )
        except Exception as error:
            if not self._state.is_conditional_failure(error):
                raise
        self.held = False

    def __enter__(self) -> AccountLease:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
