"""Transaction history: ``GET /accounts/{n}/transactions`` (paginated, every page read).

The transaction models load on first use (most runs never read the ledger).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from tastyguard.broker.core import ClientCore

if TYPE_CHECKING:
    from tastyguard.broker.models.transactions import Transaction, TransactionSubType, TransactionType

TRANSACTIONS_PAGE_SIZE = 250
TRANSACTIONS_MAX_PAGES = 40


class TransactionsApi(ClientCore):
    """The account's ledger: trades, deliveries (expirations, assignments, exercises, splits), money."""

    def transactions(
        self,
        account: str,
        *,
        types: Iterable[TransactionType | str] = (),
        sub_types: Iterable[TransactionSubType | str] = (),
        symbol: str | None = None,
        underlying_symbol: str | None = None,
        start_date: date | None = None,
        end_date: date | None = None,
        start_at: datetime | None = None,
        end_at: datetime | None = None,
        sort: str = 'Desc',
        per_page: int = TRANSACTIONS_PAGE_SIZE,
        max_pages: int = TRANSACTIONS_MAX_PAGES,
    ) -> list[Transaction]:
        """Every matching transaction, newest first unless ``sort='Asc'`` (a read: retried like any other).

        Raises
        ------
        MalformedResponseError
            When there are more than ``max_pages`` pages (narrow the dates; partial results are never returned).
        """
        from tastyguard.broker.models.transactions import (  # noqa: PLC0415 - loaded on first use
            Transaction,
            TransactionSubType,
            TransactionType,
        )

        if sort not in ('Asc', 'Desc'):
            raise ValueError("sort must be 'Asc' or 'Desc'")
        params: dict[str, Any] = {'sort': sort}
        optional: dict[str, Any] = {
            'types[]': [str(TransactionType(t)) for t in types] or None,
            'sub-type[]': [str(TransactionSubType(t)) for t in sub_types] or None,
            'symbol': symbol,
            'underlying-symbol': underlying_symbol,
            'start-date': start_date.isoformat() if start_date else None,
            'end-date': end_date.isoformat() if end_date else None,
            'start-at': start_at.isoformat() if start_at else None,
            'end-at': end_at.isoformat() if end_at else None,
        }
        params.update({key: value for key, value in optional.items() if value is not None})
        path = f'/accounts/{self._account(account)}/transactions'
        return self._get_pages(Transaction, path, params, per_page=per_page, max_pages=max_pages, what='transactions')
