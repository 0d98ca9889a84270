"""Position events: what changed a position without an order (an expiration, an assignment, an exercise, a
split), as recognised from the broker's transactions and position reads.

They are kept in the account's position snapshot: the job that first sees an event records it, and
``ensure_stops`` announces it once, together with what it did about it (``announced_at``). A split stays in
force (its pre-split stops are re-derived) for :data:`EVENT_RETENTION` after it was recognised.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from pydantic import BaseModel, ConfigDict, Field

EVENT_RETENTION = timedelta(days=7)
"""How long an announced event is remembered (so it is never announced twice, and a split keeps applying)."""


class EventKind(enum.StrEnum):
    """What happened to the position."""

    EXPIRATION = 'expiration'
    ASSIGNMENT = 'assignment'
    EXERCISE = 'exercise'
    CASH_SETTLEMENT = 'cash_settlement'
    SPLIT = 'split'


class Delivery(BaseModel):
    """Stock or a future that an exercise or assignment moved into (+) or out of (−) the account."""

    model_config = ConfigDict(frozen=True)

    symbol: str
    instrument_type: str
    quantity: Decimal
    price: Decimal


class PositionEvent(BaseModel):
    """One event on one position of an account."""

    model_config = ConfigDict(frozen=True)

    event_id: str = Field(description='tx:<transaction id>, or split:<symbol>:<date> when seen in positions only')
    kind: EventKind
    symbol: str = Field(description='the option that ended, or the stock (or old option contract) that split')
    underlying_symbol: str
    quantity: Decimal = Field(description='signed: the option quantity removed, or the quantity before a split')
    occurred_at: datetime
    recognised_at: datetime
    strike: Decimal | None = None
    deliveries: tuple[Delivery, ...] = ()
    cash: Decimal = Decimal(0)
    new_quantity: Decimal | None = None
    new_symbol: str | None = Field(default=None, description="a split option's adjusted contract (OCC: strike ÷ r)")
    ratio_numerator: int | None = None
    ratio_denominator: int | None = None
    old_average_open_price: Decimal | None = None
    new_average_open_price: Decimal | None = None
    source: str = 'transactions'
    announced_at: datetime | None = None

    @property
    def ratio(self) -> Fraction | None:
        """A split's new shares per old share."""
        if self.ratio_numerator is None or self.ratio_denominator is None:
            return None
        return Fraction(self.ratio_numerator, self.ratio_denominator)

    @property
    def symbols(self) -> frozenset[str]:
        """Every position symbol the event touched."""
        adjusted = (self.new_symbol,) if self.new_symbol else ()
        return frozenset({self.symbol, *adjusted, *(delivery.symbol for delivery in self.deliveries)})

    def expired(self, now: datetime) -> bool:
        """True once the event is older than :data:`EVENT_RETENTION` and was announced."""
        return self.announced_at is not None and now - self.recognised_at > EVENT_RETENTION
