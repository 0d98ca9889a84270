"""The broker's state: users, accounts, positions, orders, complex orders, quotes and transactions.

Plain mutable dataclasses. Only the event loop thread touches them (every endpoint is async), so no locks.
Quantities are signed on positions (negative = short) and positive everywhere else.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from paperbroker.registry import Registry

WORKING = frozenset({'Received', 'Routed', 'In Flight', 'Live', 'Cancel Requested', 'Replace Requested'})
TERMINAL = frozenset({'Filled', 'Cancelled', 'Expired', 'Rejected', 'Removed', 'Partially Removed'})


@dataclass
class User:
    """A tastytrade login (customer)."""

    id: str  # external id, e.g. U0000012345
    username: str
    email: str
    first_name: str
    last_name: str
    created_at: datetime


@dataclass
class Account:
    """A brokerage account and its cash."""

    number: str
    owner_id: str
    nickname: str
    type_name: str
    margin_or_cash: str
    cash: Decimal
    opened_at: datetime


@dataclass
class Position:
    """An open (or today-closed) position; ``quantity`` is signed."""

    account_number: str
    symbol: str
    instrument_type: str
    underlying_symbol: str
    quantity: Decimal
    average_open_price: Decimal
    multiplier: Decimal
    created_at: datetime
    updated_at: datetime
    realized_day_gain: Decimal = Decimal(0)
    realized_date: date | None = None
    close_price: Decimal | None = None


@dataclass
class Fill:
    """One execution of one leg."""

    fill_id: str
    quantity: Decimal
    price: Decimal
    filled_at: datetime


@dataclass
class Leg:
    """An order leg."""

    instrument_type: str
    symbol: str
    action: str
    quantity: Decimal
    remaining: Decimal
    fills: list[Fill] = field(default_factory=list)

    @property
    def is_buy(self) -> bool:
        return self.action.startswith('Buy')

    @property
    def is_closing(self) -> bool:
        return self.action.endswith('to Close')


@dataclass
class Order:
    """An order, placed or dry-run. Wire fields plus the engine's bookkeeping (``behavior`` onwards)."""

    account_number: str
    time_in_force: str
    order_type: str
    legs: list[Leg]
    underlying_symbol: str
    underlying_instrument_type: str
    size: Decimal
    id: int | None = None
    status: str = 'Received'
    price: Decimal | None = None
    price_effect: str | None = None
    stop_trigger: Decimal | None = None
    value: Decimal | None = None
    value_effect: str | None = None
    gtc_date: date | None = None
    contingent_status: str | None = None
    received_at: datetime | None = None
    live_at: datetime | None = None
    updated_ms: int = 0
    cancelled_at: datetime | None = None
    terminal_at: datetime | None = None
    cancel_user_id: str | None = None
    cancel_username: str | None = None
    reject_reason: str | None = None
    replaces_order_id: int | None = None
    replacing_order_id: int | None = None
    complex_order_id: int | None = None
    complex_order_tag: str | None = None
    preflight_id: int | None = None
    source: str | None = None
    external_identifier: str | None = None
    advanced_instructions: dict[str, Any] | None = None
    user_id: str | None = None
    username: str | None = None
    edited: bool = False
    ext_client_order_id: str | None = None
    global_request_id: str | None = None
    # engine bookkeeping, never on the wire
    behavior: str = 'immediate'
    eligible_at: datetime | None = None
    triggered: bool = False
    next_fill_at: datetime | None = None
    pending: str | None = None  # 'cancel' or 'replace' while the request is in flight

    @property
    def working(self) -> bool:
        return self.status in WORKING

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def strict(self) -> bool:
        return bool((self.advanced_instructions or {}).get('strict-position-effect-validation'))

    @property
    def is_stop(self) -> bool:
        return self.order_type in {'Stop', 'Stop Limit'}

    @property
    def filled_quantity(self) -> Decimal:
        return sum((leg.quantity - leg.remaining for leg in self.legs), Decimal(0))


@dataclass
class ComplexOrder:
    """An OCO / OTO / OTOCO group."""

    id: int
    account_number: str
    type: str
    order_ids: list[int]
    trigger_order_id: int | None = None
    terminal_at: datetime | None = None


@dataclass
class Quote:
    """The market for one symbol."""

    symbol: str
    bid: Decimal | None = None
    ask: Decimal | None = None
    last: Decimal | None = None
    bid_size: Decimal = Decimal(100)
    ask_size: Decimal = Decimal(100)
    open: Decimal | None = None
    high: Decimal | None = None
    low: Decimal | None = None
    prev_close: Decimal | None = None
    volume: Decimal = Decimal(0)
    updated_at: datetime | None = None

    @property
    def mark(self) -> Decimal | None:
        if self.bid is not None and self.ask is not None:
            return (self.bid + self.ask) / 2
        return self.last if self.last is not None else (self.bid if self.bid is not None else self.ask)


@dataclass
class Transaction:
    """A ledger entry: a trade (one per fill) or a money movement."""

    id: int
    account_number: str
    transaction_type: str
    sub_type: str
    description: str
    executed_at: datetime
    value: Decimal  # signed: positive = credit
    net_value: Decimal
    symbol: str | None = None
    instrument_type: str | None = None
    underlying_symbol: str | None = None
    action: str | None = None
    quantity: Decimal | None = None
    price: Decimal | None = None
    order_id: int | None = None
    fees: dict[str, Decimal] = field(default_factory=dict)
    exec_id: str | None = None


@dataclass
class BrokerState:
    """Everything a scenario seeds and the engine changes."""

    registry: Registry
    users: dict[str, User] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    positions: dict[tuple[str, str], Position] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    complex_orders: dict[int, ComplexOrder] = field(default_factory=dict)
    quotes: dict[str, Quote] = field(default_factory=dict)
    transactions: list[Transaction] = field(default_factory=list)
    # Accounts whose time in force is a formality (Day / GTD orders never expire): the tastyware paper API's.
    no_expiry_accounts: set[str] = field(default_factory=set)
    instructions: dict[tuple[str, str], str] = field(default_factory=dict)
    """(account, option symbol) → the holder's expiration instruction: exercise / expire / assign."""
    expirations_checked_at: datetime | None = None
    """The last virtual time the expiration run looked for session closes (None before the first tick)."""
    next_order_id: int = 100001
    next_complex_id: int = 5001
    next_fill_id: int = 9001
    next_transaction_id: int = 700001

    def new_order_id(self) -> int:
        self.next_order_id += 1
        return self.next_order_id - 1

    def new_complex_id(self) -> int:
        self.next_complex_id += 1
        return self.next_complex_id - 1

    def new_fill_id(self) -> str:
        self.next_fill_id += 1
        return str(self.next_fill_id - 1)

    def new_transaction_id(self) -> int:
        self.next_transaction_id += 1
        return self.next_transaction_id - 1

    def account_positions(self, account_number: str, *, include_closed: bool = False) -> list[Position]:
        """Positions of one account in symbol order (closed ones only when asked)."""
        found = [p for (n, _), p in self.positions.items() if n == account_number]
        if not include_closed:
            found = [p for p in found if p.quantity != 0]
        return sorted(found, key=lambda p: p.symbol)

    def account_orders(self, account_number: str) -> list[Order]:
        """Orders of one account, newest first."""
        return sorted(
            (o for o in self.orders.values() if o.account_number == account_number),
            key=lambda o: o.id or 0,
            reverse=True,
        )

    def user_accounts(self, user_id: str) -> list[Account]:
        """Accounts owned by a user, in number order."""
        return sorted((a for a in self.accounts.values() if a.owner_id == user_id), key=lambda a: a.number)


def new_request_id() -> str:
    """A ``global-request-id`` in the recorded shape (``<uuid>=order-api=<12 hex>``)."""
    return f'{uuid.uuid4()}=order-api={secrets.token_hex(6)}'
