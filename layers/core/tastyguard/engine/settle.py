"""Bringing tastyguard's own stops on one position to exactly one order of the target quantity.

Given the target quantity and (for a managed position) the stop the policy wants, keep one of our stops,
resize or move it by a replace, cancel the rest, or place a new one. Never two actions on one order.

* **Which duplicate is kept**: a stop that already needs no change; otherwise the one with the tightest
  trigger (closest to the market: most protective), then the largest remaining quantity, then the oldest,
  then the lowest id.
* **Triggers only tighten**: a working stop is moved toward the market when the policy's stop is tighter
  (for ``high_water``, by at least ``trail_min_step``); it is never moved away from the market
  automatically. With ``basis: mark`` the trigger is set once, when the stop is placed.
* **A triggered stop limit is re-placed**: one of ours that the market went through rests as an unfilled
  limit and protects nothing below it. When the policy gives a valid stop now, the order is moved there
  (trigger and limit, loosening included: the old trigger is already spent); otherwise it is only resized so
  it never exceeds the position, and the planner alerts. A working stop is preferred over a triggered one
  when both exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from tastyguard.config.effective import EffectivePolicy
from tastyguard.config.policy import Basis, StopKind
from tastyguard.engine.actions import Action, CancelOrder, PlaceStop, PriceEffect, ReplaceStop, StopLeg, StopSpec
from tastyguard.engine.context import Context
from tastyguard.engine.coverage import Entry, closing_action
from tastyguard.engine.trigger import StopPrice, limit_price, safe_side, tighter, trail_step
from tastyguard.engine.types import Holding, OrderType, TimeInForce, WorkingOrder
from tastyguard.engine.wording import money, order_text, position, qty, stop_text
from tastyguard.ticks import TickLike, is_on_tick

_EPOCH = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Want:
    """What our single stop on a position should be; ``stop`` is None when the policy gives no new price."""

    target: Decimal
    managed: bool
    stop: StopPrice | None
    policy: EffectivePolicy
    market: Decimal | None
    ticks: tuple[TickLike, ...] | None


@dataclass(frozen=True, slots=True)
class _Shape:
    trigger: Decimal
    order_type: OrderType
    limit: Decimal | None
    time_in_force: TimeInForce
    how: str


def _order_type(policy: EffectivePolicy) -> OrderType:
    return OrderType.STOP_LIMIT if policy.kind is StopKind.STOP_LIMIT else OrderType.STOP


def _shape(order: WorkingOrder, want: Want, long: bool, triggered: bool = False) -> _Shape:
    """What ``order`` should look like if it is the one we keep."""
    current = order.stop_trigger if order.stop_trigger is not None else Decimal(0)
    kept = _Shape(current, order.order_type, order.price, order.time_in_force, 'unchanged')
    if not want.managed:
        return kept
    stop, ticks = want.stop, want.ticks
    if triggered:
        if stop is None:
            return kept
        limit = stop.limit if want.policy.kind is StopKind.STOP_LIMIT else None
        how = f'it triggered at {money(current)} but its limit did not fill; re-placed: {stop.explanation}'
        tif = TimeInForce(want.policy.time_in_force.value)
        return _Shape(stop.trigger, _order_type(want.policy), limit, tif, how)
    trigger, how = current, f'keeping the trigger {money(current)}'
    off_tick = current > 0 and ticks is not None and not is_on_tick(current, ticks)
    if stop is not None and (off_tick or improves(stop.trigger, current, want.policy, long)):
        trigger, how = stop.trigger, stop.explanation
    elif off_tick and ticks is not None and want.market is not None:
        moved = safe_side(current, want.market, ticks, long)
        trigger, how = (moved, 'rounded onto the tick table') if moved > 0 else (trigger, how)
    order_type = _order_type(want.policy)
    limit = None
    if order_type is OrderType.STOP_LIMIT and ticks is not None:
        limit = limit_price(want.policy, trigger, ticks, long)
    return _Shape(trigger, order_type, limit, TimeInForce(want.policy.time_in_force.value), how)


def improves(candidate: Decimal, current: Decimal, policy: EffectivePolicy, long: bool) -> bool:
    """True when moving a working stop from ``current`` to ``candidate`` is worth a replace (tighten only)."""
    if policy.basis is Basis.MARK or not tighter(candidate, current, long):
        return False
    if policy.basis is Basis.HIGH_WATER:
        return abs(candidate - current) >= trail_step(policy, current)
    return True


def _unchanged(order: WorkingOrder, remaining: Decimal, shape: _Shape, target: Decimal) -> bool:
    return (
        remaining == target
        and shape.trigger == order.stop_trigger
        and shape.order_type is order.order_type
        and shape.limit == order.price
        and shape.time_in_force is order.time_in_force
    )


def id_key(order_id: str) -> tuple[int, int, str]:
    return (0, int(order_id), '') if order_id.isdigit() else (1, 0, order_id)


def _preference(
    entry: Entry, long: bool, triggered: frozenset[str]
) -> tuple[bool, Decimal, Decimal, datetime, tuple[int, int, str]]:
    order, leg = entry
    trigger = order.stop_trigger if order.stop_trigger is not None else Decimal(0)
    tightness = trigger if long else -trigger
    received = order.received_at or _EPOCH
    received = received if received.tzinfo else received.replace(tzinfo=UTC)  # naive means UTC
    return (order.id in triggered, -tightness, -leg.remaining_quantity, received, id_key(order.id))


def spec_for(ctx: Context, holding: Holding, quantity: Decimal, shape: _Shape, purpose: str) -> StopSpec:
    """A single-leg closing stop for ``holding`` with a deterministic identifier."""
    action = closing_action(holding.is_long)
    effect = None
    if shape.limit is not None:
        effect = PriceEffect.CREDIT if holding.is_long else PriceEffect.DEBIT
    leg = StopLeg(holding.symbol, holding.instrument_type, action, quantity)
    ident = ctx.identifier(holding.symbol, action.value, purpose, quantity, shape.trigger)
    return StopSpec((leg,), shape.order_type, shape.trigger, shape.limit, effect, shape.time_in_force, ident)


@dataclass(frozen=True, slots=True)
class Settled:
    """The actions on our stops of one position, and whether the stop we keep or place protects it."""

    actions: list[Action]
    protects: bool


def settle(
    ctx: Context,
    holding: Holding,
    active: Sequence[Entry],
    want: Want,
    why_cancel: str,
    triggered: frozenset[str] = frozenset(),
) -> Settled:
    """The actions that leave exactly one of our stops of ``want.target`` on ``holding`` (or none at 0).

    ``triggered`` holds the ids among ``active`` of our stop limits the market went through.
    """
    label, long = position(holding), holding.is_long
    if want.target <= 0:
        return Settled(
            [
                CancelOrder(
                    o.id, holding.symbol, f'{label}: {why_cancel}; cancelling our {order_text(o, holding.symbol)}'
                )
                for o, _ in active
            ],
            protects=False,
        )
    shapes = {order.id: _shape(order, want, long, order.id in triggered) for order, _ in active}
    ranked = sorted(active, key=lambda entry: _preference(entry, long, triggered))
    settled = [e for e in ranked if _unchanged(e[0], e[1].remaining_quantity, shapes[e[0].id], want.target)]
    keeper = settled[0] if settled and settled[0][0].id not in triggered else (ranked[0] if ranked else None)
    actions: list[Action] = []
    for order, _ in ranked:
        if keeper is not None and order.id != keeper[0].id:
            text = order_text(order, holding.symbol)
            actions.append(
                CancelOrder(
                    order.id, holding.symbol, f'{label}: duplicate of our stop #{keeper[0].id}; cancelling our {text}'
                )
            )
    if keeper is None:
        if want.stop is None or not want.managed:
            return Settled(actions, protects=False)
        policy = want.policy
        tif = TimeInForce(policy.time_in_force.value)
        shape = _Shape(want.stop.trigger, _order_type(policy), want.stop.limit, tif, want.stop.explanation)
        spec = spec_for(ctx, holding, want.target, shape, 'place')
        text = stop_text(spec.legs[0].action, want.target, shape.order_type, shape.trigger, shape.limit)
        notes = ''.join(f'; {note}' for note in policy.notes)
        actions.append(
            PlaceStop(
                holding.symbol, spec, f'{label}: {_uncovered(holding, want)}; placing {text} ({shape.how}{notes})'
            )
        )
        return Settled(actions, protects=True)
    order, leg = keeper
    shape = shapes[order.id]
    if not _unchanged(order, leg.remaining_quantity, shape, want.target):
        spec = spec_for(ctx, holding, want.target, shape, f'replace:{order.id}')
        reason = _replace_reason(holding, order, leg.remaining_quantity, shape, want.target)
        in_place = leg.quantity == leg.remaining_quantity == want.target
        trailing = (
            want.policy.basis is Basis.HIGH_WATER
            and order.id not in triggered
            and leg.remaining_quantity == want.target
            and shape.order_type is order.order_type
            and shape.time_in_force is order.time_in_force
            and shape.trigger != order.stop_trigger
        )
        limit = want.policy.trail_max_moves if trailing else None
        actions.append(ReplaceStop(order.id, holding.symbol, spec, reason, in_place, limit))
    still_through = order.id in triggered and shape.trigger == order.stop_trigger
    return Settled(actions, protects=not still_through)


def _uncovered(holding: Holding, want: Want) -> str:
    if want.target == holding.size:
        return 'no stop'
    return f'{qty(want.target)} of {qty(holding.size)} not covered by a stop'


def _replace_reason(holding: Holding, order: WorkingOrder, remaining: Decimal, shape: _Shape, target: Decimal) -> str:
    changes: list[str] = []
    if remaining != target:
        changes.append(f'quantity {qty(remaining)} → {qty(target)}')
    if shape.trigger != order.stop_trigger:
        old = money(order.stop_trigger) if order.stop_trigger is not None else '-'
        changes.append(f'trigger {old} → {money(shape.trigger)} ({shape.how})')
    if shape.order_type is not order.order_type:
        changes.append(f'type {order.order_type} → {shape.order_type}')
    if shape.limit != order.price and shape.limit is not None:
        changes.append(f'limit → {money(shape.limit)}')
    if shape.time_in_force is not order.time_in_force:
        changes.append(f'time in force {order.time_in_force} → {shape.time_in_force}')
    return f'{position(holding)}: replacing our stop #{order.id}: {", ".join(changes)}'
