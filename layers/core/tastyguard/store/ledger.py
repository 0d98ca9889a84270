"""The order ledger: what tastyguard last knew about every order of an account.

``reconcile_orders`` compares the broker's orders with the ledger to see what changed since the last run
(fills, partial fills, cancels and by whom, rejections, expirations). Working orders are kept until they
end; terminal orders expire from the table a couple of weeks after they ended.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from tastyguard.store.keys import account_pk, order_sk
from tastyguard.store.table import StateTable, to_record

TERMINAL_TTL = timedelta(days=14)


class SentLeg(BaseModel):
    """One leg of an order as tastyguard sent it."""

    model_config = ConfigDict(frozen=True)

    symbol: str
    action: str
    quantity: Decimal


class SentShape(BaseModel):
    """What tastyguard sent: an order of ours that no longer looks like this was changed by a person."""

    model_config = ConfigDict(frozen=True)

    order_type: str
    stop_trigger: Decimal | None = None
    price: Decimal | None = None
    time_in_force: str | None = None
    legs: tuple[SentLeg, ...] = ()


class LedgerEntry(BaseModel):
    """One order as last seen (only what reconciliation and reporting need).

    ``ours`` is the ownership verdict (:mod:`tastyguard.jobs.ownership`), not just the ``tg-`` prefix: an
    order a person edited is theirs (``disowned_because`` says why). ``sent`` is the shape tastyguard sent.
    """

    model_config = ConfigDict(frozen=True)

    account: str
    order_id: int
    status: str
    ours: bool
    sent: SentShape | None = None
    disowned_because: str | None = None
    symbol: str
    underlying_symbol: str | None = None
    order_type: str
    action: str
    quantity: Decimal
    remaining_quantity: Decimal
    filled_quantity: Decimal = Decimal(0)
    stop_trigger: Decimal | None = None
    price: Decimal | None = None
    time_in_force: str | None = None
    external_identifier: str | None = None
    complex_order_id: int | None = None
    replaces_order_id: int | None = None
    replacing_order_id: int | None = None
    cancelled_by: str | None = None
    reject_reason: str | None = None
    updated_at_ms: int = 0
    terminal: bool = False
    closed_by_intent: str | None = None  # tastyguard's replace that was sent for this order (its intent key)
    first_seen: datetime
    last_seen: datetime


class OrderLedger:
    """Ledger entries of every account, in the state table."""

    def __init__(self, state: StateTable) -> None:
        self._state = state

    def get(self, account: str, order_id: int) -> LedgerEntry | None:
        """One entry, or None."""
        return self._state.get_record(account_pk(account), order_sk(order_id), LedgerEntry)

    def all(self, account: str) -> dict[int, LedgerEntry]:
        """Every entry still kept for ``account``, by order id (expired-but-unswept items left out)."""
        return self._kept(self._state.query_prefix(account_pk(account), 'ORDER#'))

    def some(self, account: str, order_ids: Iterable[int]) -> dict[int, LedgerEntry]:
        """The entries of ``order_ids`` only (consistent BatchGetItem): what a run that touched a few orders needs.

        A key DynamoDB leaves unprocessed is read on its own, so an entry is never taken for missing.
        """
        pk = account_pk(account)
        items, left = self._state.get_items([(pk, order_sk(order_id)) for order_id in order_ids])
        for key in left:
            item = self._state.table.get_item(Key={'pk': key[0], 'sk': key[1]}, ConsistentRead=True).get('Item')
            if item is not None:
                items.append(item)
        return self._kept(items)

    def _kept(self, items: Iterable[Mapping[str, Any]]) -> dict[int, LedgerEntry]:
        """Entries by order id, expired-but-unswept items left out."""
        now = int(self._state.clock().timestamp())
        entries: dict[int, LedgerEntry] = {}
        for item in items:
            expires = item.get('expires_at')
            if expires is not None and int(str(expires)) < now:
                continue
            entry = to_record(item, LedgerEntry)
            entries[entry.order_id] = entry
        return entries

    def save(self, entries: list[LedgerEntry]) -> None:
        """Write (insert or overwrite) entries; terminal ones get an expiry."""
        with self._state.table.batch_writer(overwrite_by_pkeys=['pk', 'sk']) as batch:
            for entry in entries:
                item = {
                    **entry.model_dump(mode='json', exclude_none=True),
                    'pk': account_pk(entry.account),
                    'sk': order_sk(entry.order_id),
                }
                if entry.terminal:
                    item['expires_at'] = self._state.expiry(TERMINAL_TTL)
                batch.put_item(Item=item)
