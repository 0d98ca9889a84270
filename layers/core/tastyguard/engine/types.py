"""The planner's own inputs: small immutable views of positions, orders, quotes and instruments.

The engine never imports the broker client; the jobs map the broker's wire models onto these types.
String enums carry tastytrade's wire values so that mapping is a plain lookup.

Ownership: an order is tastyguard's **iff its external identifier starts with** ``tg-``
(:data:`OWN_PREFIX`) **and it is still what tastyguard sent** (:attr:`WorkingOrder.authored`, decided by the
jobs from their records: a person's edit keeps the identifier but makes the order the person's). The
``source`` field is informational only and never trusted for ownership (anyone can send any ``source``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from tastyguard.config.effective import AccountPolicy
from tastyguard.ticks import Tick

OWN_PREFIX = 'tg-'
"""External identifiers of tastyguard's orders start with this."""


class InstrumentType(enum.StrEnum):
    """What a position or an order leg is (tastytrade's ``instrument-type`` values)."""

    EQUITY = 'Equity'
    EQUITY_OPTION = 'Equity Option'
    FUTURE = 'Future'
    FUTURE_OPTION = 'Future Option'
    CRYPTO = 'Cryptocurrency'
    OTHER = 'Other'


class OrderAction(enum.StrEnum):
    """A leg's action."""

    BUY_TO_OPEN = 'Buy to Open'
    BUY_TO_CLOSE = 'Buy to Close'
    SELL_TO_OPEN = 'Sell to Open'
    SELL_TO_CLOSE = 'Sell to Close'
    BUY = 'Buy'
    SELL = 'Sell'

    @property
    def is_buy(self) -> bool:
        """True for the three buying actions."""
        return self in (OrderAction.BUY_TO_OPEN, OrderAction.BUY_TO_CLOSE, OrderAction.BUY)


class OrderType(enum.StrEnum):
    """tastytrade's ``order-type`` values."""

    LIMIT = 'Limit'
    MARKET = 'Market'
    MARKETABLE_LIMIT = 'Marketable Limit'
    STOP = 'Stop'
    STOP_LIMIT = 'Stop Limit'
    NOTIONAL_MARKET = 'Notional Market'

    @property
    def is_stop(self) -> bool:
        """True for Stop and Stop Limit."""
        return self in (OrderType.STOP, OrderType.STOP_LIMIT)


class OrderStatus(enum.StrEnum):
    """tastytrade's order statuses."""

    RECEIVED = 'Received'
    ROUTED = 'Routed'
    IN_FLIGHT = 'In Flight'
    LIVE = 'Live'
    CONTINGENT = 'Contingent'
    CANCEL_REQUESTED = 'Cancel Requested'
    REPLACE_REQUESTED = 'Replace Requested'
    FILLED = 'Filled'
    CANCELLED = 'Cancelled'
    EXPIRED = 'Expired'
    REJECTED = 'Rejected'
    REMOVED = 'Removed'
    PARTIALLY_REMOVED = 'Partially Removed'


class TimeInForce(enum.StrEnum):
    """tastytrade's ``time-in-force`` values."""

    DAY = 'Day'
    GTC = 'GTC'
    GTD = 'GTD'
    EXT = 'Ext'
    EXT_OVERNIGHT = 'Ext Overnight'
    GTC_EXT = 'GTC Ext'
    GTC_EXT_OVERNIGHT = 'GTC Ext Overnight'
    IOC = 'IOC'


class OptionType(enum.StrEnum):
    """Call or put."""

    CALL = 'C'
    PUT = 'P'


@dataclass(frozen=True, slots=True)
class OptionDetails:
    """What is known about an option position's contract."""

    option_type: OptionType
    strike: Decimal
    expiration: date


@dataclass(frozen=True, slots=True)
class Holding:
    """One position. ``quantity`` is signed: positive long, negative short."""

    account_number: str
    symbol: str
    instrument_type: InstrumentType
    underlying_symbol: str
    quantity: Decimal
    average_open_price: Decimal
    multiplier: Decimal = Decimal(1)
    expires_at: datetime | None = None
    option: OptionDetails | None = None
    root_symbol: str | None = None
    """The futures product (``/ES``) or option root, when known; config symbol overrides may name it."""
    opened_at: datetime | None = None
    """When the broker says the position was opened (``created-at``): a reopened position is a new one."""

    @property
    def is_long(self) -> bool:
        """True for a long position."""
        return self.quantity > 0

    @property
    def size(self) -> Decimal:
        """The unsigned quantity."""
        return abs(self.quantity)


@dataclass(frozen=True, slots=True)
class OrderLeg:
    """One leg of a working order."""

    symbol: str
    instrument_type: InstrumentType
    action: OrderAction
    quantity: Decimal
    remaining_quantity: Decimal


@dataclass(frozen=True, slots=True)
class WorkingOrder:
    """An order at the broker, as the planner needs to see it."""

    id: str
    status: OrderStatus
    order_type: OrderType
    time_in_force: TimeInForce
    legs: tuple[OrderLeg, ...]
    stop_trigger: Decimal | None = None
    price: Decimal | None = None
    external_identifier: str | None = None
    source: str | None = None
    complex_order_id: str | None = None
    complex_order_tag: str | None = None
    """E.g. ``OCO::order`` or ``OTOCO::oco-1-order``: children of one OCO cancel each other."""
    replaces_order_id: str | None = None
    """Set on the new order of a cancel-replace while the old one is still ``Replace Requested``."""
    received_at: datetime | None = None
    authored: bool = True
    """False when a ``tg-`` order is no longer what tastyguard sent (a person edited or replaced it)."""

    @property
    def is_ours(self) -> bool:
        """True iff tastyguard placed this order (``tg-`` identifier) and nobody has changed it since."""
        own_prefix = bool(self.external_identifier) and str(self.external_identifier).startswith(OWN_PREFIX)
        return own_prefix and self.authored


@dataclass(frozen=True, slots=True)
class QuoteView:
    """The latest prices of one symbol; any of them may be missing."""

    symbol: str
    bid: Decimal | None = None
    ask: Decimal | None = None
    last: Decimal | None = None
    mark: Decimal | None = None


EQUITY_TICKS: tuple[Tick, ...] = (Tick(Decimal('0.0001'), Decimal(1)), Tick(Decimal('0.01')))
"""The standard US equity schedule, used for an equity whose instrument data is missing."""


@dataclass(frozen=True, slots=True)
class InstrumentView:
    """What the planner needs to know about an instrument.

    ``ticks`` is the schedule for *this instrument's prices*: an equity's ``tick-sizes``, an equity option's
    underlying ``option-tick-sizes``, a future's product ``tick-size``, a futures option's future's
    ``option-tick-sizes``; for a multi-leg structure, the underlying's spread schedule goes in ``spread_ticks`` of
    the first leg's view (else ``ticks`` is used).
    """

    symbol: str
    ticks: tuple[Tick, ...]
    tradeable: bool = True
    closing_only: bool = False
    spread_ticks: tuple[Tick, ...] | None = None


@dataclass(frozen=True, slots=True)
class PlanInputs:
    """Everything :func:`tastyguard.engine.planner.plan` reads, for one account.

    ``absent_counts`` maps a symbol to the number of consecutive reads (this one included) in which the
    position was absent while tastyguard had a stop for it; the job keeps it in its store. ``human_cancels``
    holds the symbols on which a person cancelled one of tastyguard's stops (the policy's
    ``on_human_cancel`` decides what that means). ``high_water`` holds, per symbol, the best price seen since
    the position opened (the highest for a long, the lowest for a short) for trailing stops. ``salt`` makes
    the order identifiers of one run unique and reproducible: use the scheduled time of the run, so a retry of
    the same run derives the same identifiers.
    """

    account_number: str
    holdings: Sequence[Holding]
    orders: Sequence[WorkingOrder]
    quotes: Mapping[str, QuoteView]
    instruments: Mapping[str, InstrumentView]
    policy: AccountPolicy
    salt: str
    now: datetime
    absent_counts: Mapping[str, int] = field(default_factory=dict)
    human_cancels: frozenset[str] = frozenset()
    high_water: Mapping[str, Decimal] = field(default_factory=dict)
