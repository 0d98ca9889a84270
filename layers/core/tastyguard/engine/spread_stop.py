"""One multi-leg Stop Limit per option structure, when the ``spread`` policy is ``stop_limit``.

tastytrade offers no stop-market on multi-leg orders; a Stop Limit triggers on the structure's implied
natural price. The planner prices a structure per *unit* (leg quantities divided by their greatest common
divisor): the net open price ``P = Σ ±ratio × average open price`` (+ long legs, − short legs).

* ``P > 0`` (opened for a debit, e.g. a long vertical): closing sells it for a credit, so the stop sits
  ``distance`` below the basis and triggers when the natural credit (long legs' bids − short legs' asks)
  falls to it; the limit is ``limit_offset`` lower, price effect Credit.
* ``P < 0`` (opened for a credit, e.g. an iron condor): closing buys it back for a debit, so the stop sits
  at ``credit_multiple`` × the credit and triggers when the natural debit (short legs' asks − long legs'
  bids) rises to it; the limit is ``limit_offset`` higher, price effect Debit.

Prices are rounded on the spread tick table (``spread_ticks`` of the first leg's instrument, else its
``ticks``). tastyguard does not add a structure stop when the person has closing orders on any leg, when the
structure has more than four legs, or while any leg is missing a bid or ask. A working multi-leg stop of
ours is kept when its legs match the structure exactly; otherwise it is cancelled and a new one placed
(a replace cannot change legs). Without a ``stop_limit`` policy, our multi-leg orders are kept only while
every leg is held, closes it and fits its position.

An ``alert_only`` structure gets a **software stop** instead (:func:`structure_level`): the same level per unit,
unrounded, which the streamer watches against the structure's natural closing price from its legs' quotes;
reaching it sends one critical alert (a structure is never closed by tastyguard without a stop-limit policy).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from tastyguard.config.effective import EffectivePolicy
from tastyguard.config.models import Severity
from tastyguard.config.policy import OnHumanCancel, StopKind
from tastyguard.engine.actions import (
    Action,
    AlertKind,
    CancelOrder,
    PlaceStop,
    PriceEffect,
    ReplaceStop,
    StopLeg,
    StopSpec,
)
from tastyguard.engine.context import Context
from tastyguard.engine.coverage import CANCELLABLE_STATUSES, REPLACEABLE_STATUSES, Entry, closes, closing_action
from tastyguard.engine.expiry import minutes_left
from tastyguard.engine.multi_leg import settle_multi_leg, staying_quantity
from tastyguard.engine.settle import id_key, improves
from tastyguard.engine.trigger import NoStop, StopPrice, compute_stop, limit_price, stop_level
from tastyguard.engine.types import Holding, InstrumentType, OrderType, QuoteView, TimeInForce, WorkingOrder
from tastyguard.engine.wording import approx, cents, money, order_text, qty
from tastyguard.ticks import TickLike

MAX_LEGS = 4
_ZERO = Decimal(0)
_TWO = Decimal(2)


def _legs_text(legs: Sequence[Holding]) -> str:
    return ' / '.join(f'{"+" if leg.is_long else "-"}{qty(leg.size)} {leg.symbol.strip()}' for leg in legs)


def _matches(order: WorkingOrder, legs: Sequence[Holding]) -> bool:
    """True when ``order`` closes exactly these legs in full."""
    if len(order.legs) != len(legs):
        return False
    by_symbol = {leg.symbol: leg for leg in legs}
    return all(
        (held := by_symbol.get(leg.symbol)) is not None
        and closes(leg.action, held.is_long)
        and leg.remaining_quantity == held.size
        for leg in order.legs
    )


Shape = tuple[tuple[str, Decimal, bool], ...]
"""A structure's legs per unit: ``(symbol, contracts per unit, long)``."""


def _per_unit(legs: Sequence[Holding]) -> tuple[Decimal, Shape, Decimal]:
    """Units (the legs' greatest common divisor), the legs per unit, and the net open price per unit (+ debit)."""
    units = Decimal(math.gcd(*(int(leg.size) for leg in legs)))
    shape = tuple((leg.symbol, leg.size / units, leg.is_long) for leg in legs)
    opened = sum(((1 if leg.is_long else -1) * leg.size / units * leg.average_open_price for leg in legs), _ZERO)
    return units, shape, opened


def _natural(shape: Shape, quotes: Mapping[str, QuoteView]) -> tuple[Decimal, Decimal] | None:
    """(natural closing price, mid) per unit, signed so a debit structure is positive; None without quotes."""
    natural = mid = _ZERO
    for symbol, ratio, long in shape:
        quote = quotes.get(symbol)
        if quote is None or quote.bid is None or quote.ask is None or quote.bid <= 0 or quote.ask <= 0:
            return None
        sign = 1 if long else -1
        natural += sign * ratio * (quote.bid if long else quote.ask)
        mid += sign * ratio * (quote.bid + quote.ask) / _TWO
    return natural, mid


@dataclass(frozen=True, slots=True)
class StructureLevel:
    """An alert-only structure's software stop: the natural closing price per unit the streamer watches.

    ``legs`` are ``(symbol, contracts per unit, long)``; ``debit`` says the structure was opened for a debit
    (closing it sells for a credit: the stop is reached when that credit falls to ``level``), else for a credit
    (closing it pays a debit: reached when that debit rises to ``level``).
    """

    underlying: str
    legs: Shape
    units: Decimal
    debit: bool
    entry: Decimal
    level: Decimal
    how: str

    @property
    def side(self) -> str:
        """What the level is measured on, in words."""
        return 'natural credit' if self.debit else 'natural debit'


def structure_level(
    underlying: str, legs: Sequence[Holding], policy: EffectivePolicy, high_water: Decimal | None = None
) -> StructureLevel | str:
    """The software stop of a structure per unit (as :func:`_price` measures it, unrounded), or why there is none."""
    if any(leg.size != int(leg.size) for leg in legs):
        return 'leg quantities are not whole contracts'
    units, shape, opened = _per_unit(legs)
    if opened == 0:
        return 'it was opened for a net price of zero; no basis for a stop'
    debit = opened > 0
    level = stop_level(policy, long=debit, option=True, entry=abs(opened), mark=None, high_water=high_water)
    if isinstance(level, NoStop):
        return level.explanation
    price, how = level
    if price <= 0:
        return f'its stop level {approx(price)} is not above zero'
    return StructureLevel(underlying, shape, units, debit, abs(opened), price, how)


def natural_price(level: StructureLevel, quotes: Mapping[str, QuoteView]) -> Decimal | None:
    """The structure's natural closing price per unit, positive (a credit for a debit structure, else a debit).

    Long legs are sold at their bids, short legs bought at their asks; None when any leg lacks a sane book
    (missing, zero or crossed).
    """
    for symbol, _, _ in level.legs:
        quote = quotes.get(symbol)
        if quote is not None and quote.bid is not None and quote.ask is not None and quote.bid > quote.ask:
            return None  # crossed
    prices = _natural(level.legs, quotes)
    if prices is None:
        return None
    return prices[0] if level.debit else -prices[0]


def _software_structure(ctx: Context, underlying: str, legs: Sequence[Holding], policy: EffectivePolicy) -> Action:
    """What the plan says about an alert-only structure: its software stop, or why it has none."""
    found = structure_level(underlying, legs, policy, ctx.inputs.high_water.get(underlying))
    label = f'{underlying} structure {_legs_text(legs)}'
    if isinstance(found, str):
        text = f'{label}: no software stop ({found}); spreads are alert-only: protect it by hand'
        return ctx.alert(AlertKind.SPREAD, Severity.WARNING, underlying, text)
    moves = 'falls' if found.debit else 'rises'
    text = (
        f'{label}: software stop at a {found.side} of {cents(found.level)} per unit ({found.how}): spreads are '
        f"alert-only (kind: {policy.kind}), so no order is placed; the streamer watches the legs' quotes and, when "
        f'the {found.side} to close {moves} to the level, sends one critical alert (a structure is not closed by '
        'tastyguard: close it yourself, or set the spread policy to stop_limit)'
    )
    return ctx.alert(AlertKind.SOFTWARE_STOP, Severity.INFO, underlying, text)


@dataclass(frozen=True, slots=True)
class _Priced:
    """A structure's stop per unit (or why there is none), with what is needed to write the order."""

    stop: StopPrice | NoStop
    units: Decimal = Decimal(1)
    debit: bool = True
    ticks: tuple[TickLike, ...] = ()


def _unpriced(text: str, kind: AlertKind = AlertKind.UNPROTECTABLE) -> _Priced:
    return _Priced(NoStop(kind, Severity.WARNING, text))


def _price(ctx: Context, underlying: str, legs: Sequence[Holding], policy: EffectivePolicy) -> _Priced:
    """The structure's stop per unit, or why it cannot be priced."""
    if len(legs) > MAX_LEGS:
        return _unpriced(f'more than {MAX_LEGS} legs; tastytrade takes at most {MAX_LEGS}', AlertKind.SPREAD)
    if any(leg.size != int(leg.size) for leg in legs):
        return _unpriced('leg quantities are not whole contracts')
    units, shape, opened = _per_unit(legs)
    view = ctx.inputs.instruments.get(legs[0].symbol)
    ticks = (view.spread_ticks or view.ticks) if view is not None else None
    prices = _natural(shape, ctx.inputs.quotes)
    if opened == 0:
        return _unpriced('it was opened for a net price of zero; no basis for a stop')
    if not ticks:
        return _unpriced('no instrument data (spread tick table) for its first leg')
    if prices is None:
        return _unpriced('a leg has no bid or ask, so it cannot be priced', AlertKind.NO_QUOTE)
    debit = opened > 0
    natural, mid = prices if debit else (-prices[0], -prices[1])
    if natural <= 0:
        return _unpriced(f'its natural closing price {money(natural)} is not usable')
    quote = QuoteView(underlying, bid=natural, mark=mid) if debit else QuoteView(underlying, ask=natural, mark=mid)
    high = ctx.inputs.high_water.get(underlying)
    stop = compute_stop(policy, long=debit, option=True, entry=abs(opened), quote=quote, ticks=ticks, high_water=high)
    return _Priced(stop, units, debit, ticks)


def _place_or_keep(
    ctx: Context, underlying: str, legs: Sequence[Holding], policy: EffectivePolicy, mine: list[WorkingOrder]
) -> tuple[list[Action], bool]:
    """Actions for one stop_limit structure, and whether it will carry our stop afterwards.

    Of several matching stops of ours the tightest is kept (then the lowest id); the rest are cancelled.
    """
    label = f'{underlying} structure {_legs_text(legs)}'
    priced = _price(ctx, underlying, legs, policy)
    debit, stop = priced.debit, priced.stop
    ranked = sorted(
        mine, key=lambda o: (-(o.stop_trigger or _ZERO) if debit else o.stop_trigger or _ZERO, id_key(o.id))
    )
    keeper = ranked[0] if ranked else None
    actions: list[Action] = [
        CancelOrder(
            o.id,
            underlying,
            f'{label}: duplicate of our stop #{ranked[0].id}; cancelling our {order_text(o, o.legs[0].symbol)}',
        )
        for o in ranked[1:]
    ]
    if isinstance(stop, NoStop):
        if keeper is None:
            return [*actions, ctx.alert(stop.kind, stop.severity, underlying, f'{label}: {stop.explanation}')], False
        text = f'{label}: {stop.explanation}; our stop #{keeper.id} stays'
        return [*actions, ctx.alert(stop.kind, Severity.INFO, underlying, text)], True
    trigger = stop.trigger
    if keeper is not None and keeper.stop_trigger is not None:
        trigger = trigger if improves(trigger, keeper.stop_trigger, policy, debit) else keeper.stop_trigger
    limit = limit_price(policy, trigger, priced.ticks, debit)
    if keeper is not None and (keeper.stop_trigger, keeper.price, keeper.order_type) == (
        trigger,
        limit,
        OrderType.STOP_LIMIT,
    ):
        return actions, True
    effect = PriceEffect.CREDIT if debit else PriceEffect.DEBIT
    name = f'{underlying}:' + '+'.join(leg.symbol for leg in legs)
    purpose = 'place' if keeper is None else f'replace:{keeper.id}'
    stop_legs = tuple(
        StopLeg(leg.symbol, InstrumentType.EQUITY_OPTION, closing_action(leg.is_long), leg.size) for leg in legs
    )
    ident = ctx.identifier(name, effect.value, purpose, priced.units, trigger)
    spec = StopSpec(stop_legs, OrderType.STOP_LIMIT, trigger, limit, effect, TimeInForce.GTC, ident)
    text = f'{qty(priced.units)}x Stop Limit @ {money(trigger)} limit {money(limit)} {effect}'
    if keeper is None:
        return [*actions, PlaceStop(underlying, spec, f'{label}: no stop; placing {text} ({stop.explanation})')], True
    old = f'{money(keeper.stop_trigger or _ZERO)} limit {money(keeper.price or _ZERO)}'
    reason = f'{label}: replacing our stop #{keeper.id} ({old}) with {text} ({stop.explanation})'
    return [*actions, ReplaceStop(keeper.id, underlying, spec, reason)], True


@dataclass(frozen=True, slots=True)
class StructurePlan:
    """What the structure pass decided, for the per-position pass to build on."""

    actions: list[Action]
    kept_multi_leg: frozenset[str]
    """Our multi-leg orders that stay working (counted on their legs)."""
    planned_cover: dict[str, Decimal]
    """Leg symbol → quantity a structure stop placed in this plan will cover."""
    leg_policies: dict[str, EffectivePolicy]
    """Leg symbol → the policy of its structure."""


def _blocked(
    ctx: Context, legs: Sequence[Holding], index: Mapping[str, Sequence[Entry]], touching: Sequence[WorkingOrder]
) -> tuple[str, Severity] | None:
    """Why no structure stop may be placed or changed now (None when it may)."""
    if any(not o.is_ours and closes(lg.action, h.is_long) for h in legs for o, lg in index.get(h.symbol, ())):
        return "the person's closing orders on its legs", Severity.WARNING
    if any(o.status not in CANCELLABLE_STATUSES for o in touching):
        return 'our multi-leg order being cancelled or replaced', Severity.INFO
    if any(staying_quantity(ctx, h, index) for h in legs):
        return 'our single-leg orders on its legs still pending', Severity.INFO
    policy = ctx.structure_policy(legs[0].underlying_symbol, legs)
    left = [m for h in legs if (m := minutes_left(h, policy, ctx.inputs.now)) is not None]
    if left:
        return (
            f'a leg expires in {min(left)} min (expiry_cutoff_minutes: {policy.expiry_cutoff_minutes})',
            Severity.INFO,
        )
    cancelled = ctx.inputs.human_cancels & {legs[0].underlying_symbol, *(h.symbol for h in legs)}
    if cancelled and policy.on_human_cancel is OnHumanCancel.RESPECT:
        return 'a person cancelled our stop (on_human_cancel: respect)', Severity.INFO
    return None


def plan_structures(
    ctx: Context,
    structures: Mapping[str, tuple[Holding, ...]],
    held: Mapping[str, Holding],
    index: Mapping[str, Sequence[Entry]],
) -> StructurePlan:
    """Structure stops for ``stop_limit`` structures, then our other multi-leg orders (kept or cancelled)."""
    ours = {o.id: o for entries in index.values() for o, _ in entries if o.is_ours and len(o.legs) > 1}
    actions: list[Action] = []
    kept: set[str] = set()
    claimed: set[str] = set()
    exclusive: set[str] = set()
    planned: dict[str, Decimal] = {}
    leg_policies: dict[str, EffectivePolicy] = {}
    for underlying, legs in structures.items():
        policy = ctx.structure_policy(underlying, legs)
        leg_policies.update(dict.fromkeys((leg.symbol for leg in legs), policy))
        if policy.kind is StopKind.ALERT_ONLY:
            actions.append(_software_structure(ctx, underlying, legs, policy))
        if policy.kind is not StopKind.STOP_LIMIT:
            continue
        symbols = {leg.symbol for leg in legs}
        touching = [o for o in ours.values() if symbols & {leg.symbol for leg in o.legs}]
        blocked = _blocked(ctx, legs, index, touching)
        if blocked is not None:
            text = f'{underlying} structure {_legs_text(legs)}: no structure stop added or changed: {blocked[0]}'
            actions.append(ctx.alert(AlertKind.SPREAD, blocked[1], underlying, text))
            continue
        movable = [o for o in touching if o.status in REPLACEABLE_STATUSES and _matches(o, legs)]
        structure_actions, covered = _place_or_keep(ctx, underlying, legs, policy, movable)
        actions += structure_actions
        cancelled = {a.order_id for a in structure_actions if isinstance(a, CancelOrder)}
        claimed.update(o.id for o in movable)
        kept.update(o.id for o in movable if o.id not in cancelled)
        exclusive |= symbols
        if covered and not movable:
            planned.update({leg.symbol: leg.size for leg in legs})
    rest = [o for o in ours.values() if o.id not in claimed]
    rest_actions, rest_kept = settle_multi_leg(ctx, rest, held, index, frozenset(exclusive))
    return StructurePlan(actions + rest_actions, frozenset(kept | rest_kept), planned, leg_policies)
