"""What the planner decides: actions, each with a one-sentence reason, and per-position coverage."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

from tastyguard.config.models import Severity
from tastyguard.engine.types import InstrumentType, OrderAction, OrderType, TimeInForce


class AlertKind(enum.StrEnum):
    """Why the planner wants a person to know something."""

    BREACHED = 'breached'
    UNPROTECTABLE = 'unprotectable'
    NO_QUOTE = 'no_quote'
    BLOCKED_BY_HUMAN_ORDERS = 'blocked_by_human_orders'
    BLOCKED_BY_PENDING_ORDERS = 'blocked_by_pending_orders'
    HUMAN_OVER_COVERAGE = 'human_over_coverage'
    FUTURES_OPTION = 'futures_option'
    SPREAD = 'spread'
    ALERT_ONLY = 'alert_only'
    HUMAN_CANCELLED = 'human_cancelled'
    PENDING_ABSENCE = 'pending_absence'
    STOP_TRIGGERING = 'stop_triggering'
    SOFTWARE_STOP = 'software_stop'
    FRACTIONAL = 'fractional'
    EXPIRING = 'expiring'


class PriceEffect(enum.StrEnum):
    """The ``price-effect`` of a limit price: a sell receives a credit, a buy pays a debit."""

    CREDIT = 'Credit'
    DEBIT = 'Debit'


class CoverageStatus(enum.StrEnum):
    """How well a position is protected."""

    PROTECTED = 'protected'
    PARTIAL = 'partial'
    UNPROTECTED = 'unprotected'
    HANDS_OFF = 'hands_off'
    ALERT_ONLY = 'alert_only'
    SOFTWARE_STOP = 'software_stop'  # the broker holds no stop; the streamer watches the level


@dataclass(frozen=True, slots=True)
class StopLeg:
    """One leg of an order tastyguard sends (always a closing action)."""

    symbol: str
    instrument_type: InstrumentType
    action: OrderAction
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class StopSpec:
    """A complete protective order: what the job sends as a new order or as a replacement."""

    legs: tuple[StopLeg, ...]
    order_type: OrderType
    stop_trigger: Decimal
    limit_price: Decimal | None
    price_effect: PriceEffect | None
    time_in_force: TimeInForce
    external_identifier: str

    @property
    def quantity(self) -> Decimal:
        """The quantity of a single-leg order (the structure count of a multi-leg one)."""
        return self.legs[0].quantity


@dataclass(frozen=True, slots=True)
class PlaceStop:
    """Send a new protective stop. ``symbol`` is the position's symbol (the underlying for a structure)."""

    symbol: str
    spec: StopSpec
    reason: str

    @property
    def instrument_type(self) -> InstrumentType:
        """The first leg's instrument type."""
        return self.spec.legs[0].instrument_type

    @property
    def action(self) -> OrderAction:
        """The first leg's action (the only one for a single-leg stop)."""
        return self.spec.legs[0].action

    @property
    def quantity(self) -> Decimal:
        """The first leg's quantity."""
        return self.spec.quantity


@dataclass(frozen=True, slots=True)
class ReplaceStop:
    """Replace one of tastyguard's stops with ``spec`` (new quantity, trigger, limit and/or type).

    ``in_place`` is True when the legs (symbols, actions, quantities) stay the same, so the broker's
    cancel-replace (which changes only prices, order type and time in force) can do it; otherwise the job
    cancels the order and places ``spec`` as a new one, in that order.
    """

    order_id: str
    symbol: str
    spec: StopSpec
    reason: str
    in_place: bool = True
    trail_limit: int | None = None
    """Set on a trailing move (only the trigger tightens): the policy's ``trail_max_moves`` per window."""


@dataclass(frozen=True, slots=True)
class CancelOrder:
    """Cancel one of tastyguard's orders."""

    order_id: str
    symbol: str
    reason: str


@dataclass(frozen=True, slots=True)
class Alert:
    """Something a person should know. ``dedupe_key`` is stable across runs for the same condition."""

    kind: AlertKind
    severity: Severity
    symbol: str | None
    reason: str
    dedupe_key: str


@dataclass(frozen=True, slots=True)
class Report:
    """A person's order that tastyguard saw and left alone."""

    order_id: str
    symbol: str
    reason: str


Action = PlaceStop | ReplaceStop | CancelOrder | Alert | Report
WriteAction = PlaceStop | ReplaceStop | CancelOrder


@dataclass(frozen=True, slots=True)
class PositionCoverage:
    """How one position is covered by working closing stops, now and once the plan is applied.

    ``protected_*`` is the remaining quantity of working closing stops (the person's and tastyguard's).
    ``price`` is the mark (or mid, last, average open price) used for money at risk.
    """

    symbol: str
    instrument_type: InstrumentType
    quantity: Decimal
    multiplier: Decimal
    price: Decimal
    protected_now: Decimal
    protected_after: Decimal
    status: CoverageStatus

    @property
    def unprotected_now(self) -> Decimal:
        """The quantity without a stop at the broker right now."""
        return max(Decimal(0), abs(self.quantity) - self.protected_now)

    @property
    def unprotected_after(self) -> Decimal:
        """The quantity still without a stop once the plan is applied."""
        return max(Decimal(0), abs(self.quantity) - self.protected_after)

    @property
    def money_at_risk_now(self) -> Decimal:
        """Unprotected quantity × price × multiplier, right now."""
        return self.unprotected_now * self.price * self.multiplier

    @property
    def money_at_risk_after(self) -> Decimal:
        """Unprotected quantity × price × multiplier once the plan is applied."""
        return self.unprotected_after * self.price * self.multiplier


@dataclass(frozen=True, slots=True)
class Plan:
    """The planner's answer for one account: ordered actions (cancels, replaces, places, alerts, reports)."""

    account_number: str
    salt: str
    actions: tuple[Action, ...]
    coverage: tuple[PositionCoverage, ...]

    @property
    def writes(self) -> tuple[WriteAction, ...]:
        """The actions that change orders at the broker."""
        return tuple(a for a in self.actions if isinstance(a, PlaceStop | ReplaceStop | CancelOrder))

    @property
    def alerts(self) -> tuple[Alert, ...]:
        """The alerts, in plan order."""
        return tuple(a for a in self.actions if isinstance(a, Alert))

    @property
    def reports(self) -> tuple[Report, ...]:
        """The human orders seen."""
        return tuple(a for a in self.actions if isinstance(a, Report))
