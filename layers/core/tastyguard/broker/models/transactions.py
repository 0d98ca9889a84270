"""Transactions (``GET /accounts/{n}/transactions``).

``transaction-type`` / ``transaction-sub-type`` as tastytrade writes them. Position changes without an order
are ``Receive Deliver`` rows: an option's removal (``Expiration``, ``Assignment``, ``Exercise``, ``Cash Settled
Assignment`` / ``Cash Settled Exercise``), the stock or future it delivers (sub-type = the action, e.g.
``Buy to Open``), and corporate actions (``Forward Split``, ``Reverse Split``, ``Symbol Change``, ``Stock
Merger``...). Both enums tolerate values they have never seen.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from tastyguard.broker.models.common import ApiEnum, BrokerModel, InstrumentType, OptDecimal, PriceEffect, signed


class TransactionType(ApiEnum):
    """The top-level category of a transaction."""

    TRADE = 'Trade'
    RECEIVE_DELIVER = 'Receive Deliver'
    MONEY_MOVEMENT = 'Money Movement'
    FEE = 'Fee'


class TransactionSubType(ApiEnum):
    """The sub-category (for trades and deliveries, the action)."""

    BUY_TO_OPEN = 'Buy to Open'
    BUY_TO_CLOSE = 'Buy to Close'
    SELL_TO_OPEN = 'Sell to Open'
    SELL_TO_CLOSE = 'Sell to Close'
    BUY = 'Buy'
    SELL = 'Sell'
    EXPIRATION = 'Expiration'
    ASSIGNMENT = 'Assignment'
    EXERCISE = 'Exercise'
    CASH_SETTLED_ASSIGNMENT = 'Cash Settled Assignment'
    CASH_SETTLED_EXERCISE = 'Cash Settled Exercise'
    FORWARD_SPLIT = 'Forward Split'
    REVERSE_SPLIT = 'Reverse Split'
    SYMBOL_CHANGE = 'Symbol Change'
    STOCK_MERGER = 'Stock Merger'
    SPECIAL_DIVIDEND = 'Special Dividend'
    FUTURES_SETTLEMENT = 'Futures Settlement'
    ACAT = 'ACAT'
    TRANSFER = 'Transfer'
    DEPOSIT = 'Deposit'
    WITHDRAWAL = 'Withdrawal'
    BALANCE_ADJUSTMENT = 'Balance Adjustment'
    CREDIT_INTEREST = 'Credit Interest'
    DEBIT_INTEREST = 'Debit Interest'
    DIVIDEND = 'Dividend'
    MARK_TO_MARKET = 'Mark to Market'
    CASH_IN_LIEU = 'Cash In Lieu'


OPTION_REMOVALS = frozenset(
    {
        TransactionSubType.EXPIRATION,
        TransactionSubType.ASSIGNMENT,
        TransactionSubType.EXERCISE,
        TransactionSubType.CASH_SETTLED_ASSIGNMENT,
        TransactionSubType.CASH_SETTLED_EXERCISE,
    }
)
"""Sub-types of the ``Receive Deliver`` row that removes an option position."""

SPLITS = frozenset({TransactionSubType.FORWARD_SPLIT, TransactionSubType.REVERSE_SPLIT})
"""Sub-types of the two ``Receive Deliver`` rows (close old quantity, open new) of a split."""


class Transaction(BrokerModel):
    """One ledger entry (a trade, a delivery, a money movement...)."""

    id: int
    account_number: str
    transaction_type: TransactionType | None = None
    transaction_sub_type: TransactionSubType | None = None
    action: str | None = None
    description: str | None = None
    symbol: str | None = None
    underlying_symbol: str | None = None
    instrument_type: InstrumentType | None = None
    quantity: OptDecimal = None
    price: OptDecimal = None
    value: OptDecimal = None
    value_effect: PriceEffect | None = None
    net_value: OptDecimal = None
    net_value_effect: PriceEffect | None = None
    commission: OptDecimal = None
    commission_effect: PriceEffect | None = None
    clearing_fees: OptDecimal = None
    clearing_fees_effect: PriceEffect | None = None
    regulatory_fees: OptDecimal = None
    regulatory_fees_effect: PriceEffect | None = None
    proprietary_index_option_fees: OptDecimal = None
    proprietary_index_option_fees_effect: PriceEffect | None = None
    is_estimated_fee: bool | None = None
    currency: str | None = None
    order_id: int | None = None
    exec_id: str | None = None
    destination_venue: str | None = None
    executed_at: datetime | None = None
    created_at: datetime | None = None
    transaction_date: date | None = None

    @property
    def signed_net_value(self) -> Decimal | None:
        """Net value, negative for a debit."""
        return signed(self.net_value, self.net_value_effect)

    @property
    def signed_value(self) -> Decimal | None:
        """Value, negative for a debit."""
        return signed(self.value, self.value_effect)

    @property
    def is_receive_deliver(self) -> bool:
        """A position change that no order of the account made (expiration, assignment, split...)."""
        return self.transaction_type == TransactionType.RECEIVE_DELIVER
