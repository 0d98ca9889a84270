"""The stop-policy part of the configuration: what a stop looks like, per account, instrument type and symbol.

Every field of a policy layer is optional; a layer only changes what it sets. :mod:`tastyguard.config.effective`
stacks the layers into one complete :class:`~tastyguard.config.effective.EffectivePolicy` per position.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from tastyguard.config.distance import Distance, DistanceField, DistanceUnit
from tastyguard.config.levels import PriceLevelField


class StopKind(enum.StrEnum):
    """What tastyguard does for a position."""

    STOP = 'stop'
    STOP_LIMIT = 'stop_limit'
    ALERT_ONLY = 'alert_only'
    NONE = 'none'


class Basis(enum.StrEnum):
    """The price a stop distance is measured from."""

    ENTRY = 'entry'
    MARK = 'mark'
    HIGH_WATER = 'high_water'


class WhenBreached(enum.StrEnum):
    """What to do when the computed stop is already through the market."""

    ALERT = 'alert'
    CLAMP = 'clamp'
    SKIP = 'skip'


class StopTimeInForce(enum.StrEnum):
    """The time in force of protective stops (the broker's wire values)."""

    GTC = 'GTC'
    GTC_EXT = 'GTC Ext'


class OnHumanCancel(enum.StrEnum):
    """What to do after a person cancels one of tastyguard's stops."""

    RESPECT = 'respect'
    REPLACE = 'replace'


class TrailPrice(enum.StrEnum):
    """The price that moves a trailing stop's high-water mark."""

    BID_ASK = 'bid_ask'  # the bid for a long, the ask for a short: the price the position could be closed at
    MARK = 'mark'  # the mid of bid and ask
    LAST = 'last'  # the last trade


class SoftwareTrigger(enum.StrEnum):
    """What the streamer does when a software stop (a level the broker cannot hold a stop for) is crossed."""

    ALERT = 'alert'  # one critical alert: the person decides
    CLOSE_LIMIT = 'close_limit'  # a closing limit order at software_collar through the market, placed once


class PolicyScope(enum.StrEnum):
    """The instrument-type keys of ``instrument_types`` (``spread`` = a multi-leg option structure)."""

    EQUITY = 'equity'
    EQUITY_OPTION = 'equity_option'
    FUTURE = 'future'
    FUTURE_OPTION = 'future_option'
    CRYPTO = 'crypto'
    SPREAD = 'spread'


ALLOWED_KINDS: dict[PolicyScope, frozenset[StopKind]] = {
    PolicyScope.SPREAD: frozenset({StopKind.STOP_LIMIT, StopKind.ALERT_ONLY, StopKind.NONE}),
    PolicyScope.FUTURE_OPTION: frozenset({StopKind.ALERT_ONLY, StopKind.NONE}),
}
"""Scopes where the broker restricts order types (no stop-market on spreads, no stops on futures options)."""

EXT_SCOPES = frozenset({PolicyScope.EQUITY})
"""Scopes where ``GTC Ext`` is allowed (extended-hours orders are single-leg equity only)."""

CLEARABLE = frozenset({'min_distance', 'max_distance', 'expiry_day_kind'})
"""Fields where an explicit ``null`` removes what a lower layer set."""

MAX_EXPIRY_CUTOFF_MINUTES = 390
"""A whole regular session."""

_ONE = Decimal(1)
_HUNDRED = Decimal(100)

Symbol = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=40)]


class PolicyOverride(BaseModel):
    """One layer of stop policy; unset fields inherit from the layer below."""

    model_config = ConfigDict(frozen=True, extra='forbid')

    kind: StopKind | None = Field(None, description='stop, stop_limit, alert_only (never place, only alert) or none')
    distance: DistanceField | None = Field(None, description="how far from the basis the stop sits: '10%' or 2.50")
    basis: Basis | None = Field(None, description='entry (average open price), mark, or high_water (trailing)')
    credit_multiple: Decimal | None = Field(
        None, description='short options: the buy stop sits at this multiple of the premium (2 = 2x the credit)'
    )
    min_distance: DistanceField | None = Field(None, description='never closer to the current price than this')
    max_distance: DistanceField | None = Field(None, description='never further from the current price than this')
    trail_min_step: DistanceField | None = Field(None, description='high_water: move the stop only by at least this')
    when_breached: WhenBreached | None = Field(None, description='alert (no order), clamp, or skip')
    clamp_distance: DistanceField | None = Field(None, description='when_breached clamp: distance from the market')
    limit_offset: DistanceField | None = Field(None, description='stop_limit: limit price this far past the trigger')
    time_in_force: StopTimeInForce | None = Field(None, description="'GTC' or 'GTC Ext' (equities only)")
    on_human_cancel: OnHumanCancel | None = Field(None, description='respect (leave it, tell once) or replace')
    expiry_day_kind: StopKind | None = Field(
        None, description="options on their expiration day: another kind (e.g. alert_only); null: the same as 'kind'"
    )
    expiry_cutoff_minutes: int | None = Field(
        None,
        ge=0,
        le=MAX_EXPIRY_CUTOFF_MINUTES,
        description='no new or larger option stop within this many minutes of its expiry (existing stops stay)',
    )
    trail_price: TrailPrice | None = Field(
        None, description='high_water: bid_ask (the bid for a long, the ask for a short), mark (the mid) or last'
    )
    trail_max_moves: int | None = Field(
        None, ge=1, le=100, description='high_water: at most this many stop moves per position per safety window'
    )
    trail_quote_max_age_seconds: int | None = Field(
        None, ge=1, le=3600, description='high_water: a quote older than this never moves the mark'
    )
    on_software_trigger: SoftwareTrigger | None = Field(
        None, description='futures options (a software stop), when the level is crossed: alert or close_limit'
    )
    software_collar: DistanceField | None = Field(
        None, description="close_limit: the closing limit's distance through the current price ('2%' or 0.50)"
    )
    price_alerts: tuple[PriceLevelField, ...] | None = Field(
        None, description="alert levels: 'below 150', 'above 212.50', '-5%' or '+10%' from the average open price"
    )

    @field_validator('distance', 'min_distance', 'max_distance', 'clamp_distance', 'software_collar')
    @classmethod
    def _positive_distance(cls, value: Distance | None) -> Distance | None:
        if value is None:
            return value
        if value.value <= 0:
            raise ValueError(f'{value} must be greater than 0')
        if value.unit is DistanceUnit.PERCENT and value.value >= _HUNDRED:
            raise ValueError(f'{value} must be below 100% (a stop 100% below the price is no stop)')
        return value

    @field_validator('limit_offset', 'trail_min_step')
    @classmethod
    def _below_hundred_percent(cls, value: Distance | None) -> Distance | None:
        if value is not None and value.unit is DistanceUnit.PERCENT and value.value >= _HUNDRED:
            raise ValueError(f'{value} must be below 100%')
        return value

    @field_validator('credit_multiple')
    @classmethod
    def _multiple_above_one(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and not (_ONE < value <= _HUNDRED):
            raise ValueError(f'{value} must be greater than 1 and at most 100 (2 = stop at twice the credit)')
        return value

    @model_validator(mode='after')
    def _min_not_above_max(self) -> Self:
        low, high = self.min_distance, self.max_distance
        if low is not None and high is not None and low.unit is high.unit and low.value > high.value:
            raise ValueError(f'min_distance {low} is larger than max_distance {high}')
        return self

    def set_fields(self) -> dict[str, object]:
        """The policy fields this layer sets. ``null`` means "inherit", except for the distance guards,
        where an explicit ``null`` clears a guard set by a lower layer."""
        return {
            name: value
            for name in POLICY_FIELDS
            if name in self.model_fields_set and ((value := getattr(self, name)) is not None or name in CLEARABLE)
        }


POLICY_FIELDS: tuple[str, ...] = tuple(PolicyOverride.model_fields)
"""The names of the stop-policy fields, in declaration order."""


class ScopedOverride(PolicyOverride):
    """A policy layer for one instrument type; checks what the broker allows for that type."""

    def check_scope(self, scope: PolicyScope) -> list[str]:
        """Problems with this layer when it applies to ``scope`` (empty when fine)."""
        problems: list[str] = []
        allowed = ALLOWED_KINDS.get(scope)
        for name, kind in (('kind', self.kind), ('expiry_day_kind', self.expiry_day_kind)):
            if allowed is not None and kind is not None and kind not in allowed:
                names = ', '.join(sorted(allowed))
                problems.append(f"{name} '{kind}' is not available for {scope} (tastytrade allows: {names})")
        if self.time_in_force is StopTimeInForce.GTC_EXT and scope not in EXT_SCOPES:
            problems.append(f"time_in_force 'GTC Ext' is for equities only, not {scope}")
        if self.on_software_trigger is SoftwareTrigger.CLOSE_LIMIT and scope is PolicyScope.SPREAD:
            problems.append(
                "on_software_trigger 'close_limit' is not available for spread: a structure's software stop only "
                'alerts (for an order that closes it, set kind: stop_limit, a multi-leg stop the broker holds)'
            )
        return problems


class SymbolOverride(ScopedOverride):
    """A policy layer for one symbol (the position's symbol, its underlying or its futures product)."""

    applies_to: tuple[PolicyScope, ...] | None = Field(
        None, description='only for these instrument types (default: every position on this symbol)'
    )

    @model_validator(mode='after')
    def _check_applies_to(self) -> Self:
        problems = [p for scope in self.applies_to or () for p in self.check_scope(scope)]
        if problems:
            raise ValueError('; '.join(problems))
        return self


class PolicySet(PolicyOverride):
    """Policy defaults plus per-instrument-type and per-symbol overrides (the top level or one account)."""

    instrument_types: dict[PolicyScope, ScopedOverride] = Field(
        default_factory=dict, description='overrides per instrument type'
    )
    symbols: dict[Symbol, SymbolOverride] = Field(default_factory=dict, description='overrides per symbol')

    @field_validator('instrument_types')
    @classmethod
    def _check_scopes(cls, value: dict[PolicyScope, ScopedOverride]) -> dict[PolicyScope, ScopedOverride]:
        problems = [f'{scope}: {problem}' for scope, layer in value.items() for problem in layer.check_scope(scope)]
        if problems:
            raise ValueError('; '.join(problems))
        return value
