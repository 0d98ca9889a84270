"""Properties of the planner over random accounts, checked on a model broker after applying the plan.

1. every certainly-protectable position is covered by working closing stops exactly to its quantity, and
   no position is left short of that without an alert that says why;
2. the working closing quantity never exceeds the position unless the orders tastyguard may not touch
   already exceed it (then ours add nothing);
3. every stop of ours closes its position, sits on the safe side of the market and on a valid tick, and
   there is at most one (none on a leg of a multi-leg structure);
4. the person's orders are untouched;
5. no order of ours remains for a vanished position unless the absence is not yet confirmed;
6. planning the resulting state again changes nothing (idempotent), and planning is deterministic;
7. no order of quantity 0 and no opening action (enforced by the model broker on every apply).
Plus: the coverage the plan reports equals the coverage the broker ends up with.
"""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings

from tastyguard.config import EffectivePolicy, PolicyScope, StopKind, WhenBreached
from tastyguard.config.distance import DistanceUnit
from tastyguard.config.policy import Basis, OnHumanCancel
from tastyguard.engine import plan
from tastyguard.engine.actions import CoverageStatus, PlaceStop, Plan, ReplaceStop
from tastyguard.engine.types import Holding, InstrumentType, OrderLeg, OrderStatus, OrderType, QuoteView, WorkingOrder
from tastyguard.ticks import PENNY, Tick, is_on_tick
from tests.unit.engine.model_broker import CLOSING, REPLACEABLE, ModelBroker, exclusive_total, stops_covering
from tests.unit.engine.scenarios import NOW, Scenario, scenarios

pytestmark = pytest.mark.unit

EXAMPLES = int(os.environ.get('TG_PROPERTY_EXAMPLES', '200'))
"""Examples per property test: CI runs the default; ``TG_PROPERTY_EXAMPLES=5000`` for a deep run."""
PROPERTY_SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
_SCOPES = {
    InstrumentType.EQUITY: PolicyScope.EQUITY,
    InstrumentType.EQUITY_OPTION: PolicyScope.EQUITY_OPTION,
    InstrumentType.FUTURE: PolicyScope.FUTURE,
    InstrumentType.CRYPTO: PolicyScope.CRYPTO,
}


def _market(quote: QuoteView | None, long: bool) -> Decimal | None:
    """Bid for a long, ask for a short; else last; else mark (written here independently of the engine)."""
    if quote is None:
        return None
    for value in ((quote.bid if long else quote.ask), quote.last, quote.mark):
        if value is not None and value > 0:
            return value
    return None


def _structure_legs(holdings: tuple[Holding, ...]) -> set[str]:
    legs: set[str] = set()
    for underlying in {h.underlying_symbol for h in holdings if h.instrument_type is InstrumentType.EQUITY_OPTION}:
        options = [
            h
            for h in holdings
            if h.instrument_type is InstrumentType.EQUITY_OPTION and h.underlying_symbol == underlying
        ]
        if any(h.quantity > 0 for h in options) and any(h.quantity < 0 for h in options):
            legs.update(h.symbol for h in options)
    return legs


def _ours(order: WorkingOrder) -> bool:
    return (order.external_identifier or '').startswith('tg-')


def _closing_before(scenario: Scenario, holding: Holding) -> list[tuple[WorkingOrder, OrderLeg]]:
    return ModelBroker.of((holding,), scenario.orders).closing_entries(holding.symbol)


def _raw_stop(scenario: Scenario, holding: Holding, policy: EffectivePolicy) -> Decimal | None:
    """The policy's stop before guards and rounding (an independent re-statement of the rule)."""
    quote = scenario.quotes.get(holding.symbol)
    long = holding.is_long
    mark = None
    if quote is not None:
        mid = (quote.bid + quote.ask) / 2 if quote.bid and quote.ask else None
        mark = quote.mark or mid or quote.last
    if policy.basis is Basis.ENTRY:
        basis = holding.average_open_price
    elif policy.basis is Basis.MARK:
        basis = mark
    else:
        seen = [p for p in (holding.average_open_price, scenario.high_water.get(holding.symbol), mark) if p]
        basis = max(seen) if long else min(seen)
    if basis is None:
        return None
    if holding.instrument_type is InstrumentType.EQUITY_OPTION and not long:
        return basis * policy.credit_multiple
    gap = basis * policy.distance.value / 100 if policy.distance.unit is DistanceUnit.PERCENT else policy.distance.value
    return basis - gap if long else basis + gap


def certainly_protectable(scenario: Scenario, holding: Holding) -> bool:
    """Conditions under which the planner has no excuse: the position must end up covered exactly."""
    scope = _SCOPES.get(holding.instrument_type)
    if scope is None or holding.symbol in _structure_legs(scenario.holdings):
        return False
    keys = [k for k in (holding.root_symbol, holding.underlying_symbol, holding.symbol) if k]
    policy = scenario.policy.resolve(scope, keys)
    view = scenario.instruments.get(holding.symbol)
    market = _market(scenario.quotes.get(holding.symbol), holding.is_long)
    if (
        policy.kind not in (StopKind.STOP, StopKind.STOP_LIMIT)
        or (holding.expires_at is not None and holding.expires_at <= NOW)
        or (view is None and holding.instrument_type is not InstrumentType.EQUITY)
        or (view is not None and not view.tradeable)
        or (holding.symbol in scenario.human_cancels and policy.on_human_cancel is OnHumanCancel.RESPECT)
        or market is None
        or market < 1
    ):
        return False
    raw = _raw_stop(scenario, holding, policy)
    if raw is None or raw <= 0:
        return False
    through = raw >= market if holding.is_long else raw <= market
    clamp_ok = policy.when_breached is WhenBreached.CLAMP and policy.clamp_distance.unit is DistanceUnit.PERCENT
    if through and not clamp_ok:
        return False
    entries = _closing_before(scenario, holding)
    human = [(o, leg) for o, leg in entries if not _ours(o)]
    clean_human = all(o.order_type.is_stop and o.status in REPLACEABLE and not o.complex_order_id for o, _ in human)
    clean_own = all(o.status in REPLACEABLE and len(o.legs) == 1 for o, _ in entries if _ours(o))
    return clean_human and clean_own and sum((leg.remaining_quantity for _, leg in human), Decimal(0)) <= holding.size


def _untouchable(order: WorkingOrder) -> bool:
    """Orders the planner must leave as they are: the person's, and ours that are pending or multi-leg."""
    return not _ours(order) or order.status not in REPLACEABLE or not order.order_type.is_stop


def _applied(scenario: Scenario) -> tuple[Plan, ModelBroker]:
    broker = ModelBroker.of(scenario.holdings, scenario.orders)
    result = plan(scenario.inputs())
    broker.apply(result)  # property 7 and "never act on a human order" are enforced by the model broker
    return result, broker


def check_exact_coverage_and_no_silent_gap(scenario: Scenario, result: Plan, broker: ModelBroker) -> None:
    """Property 1 (and: the coverage the plan reports is what the broker ends up with)."""
    hands_off = {c.symbol for c in result.coverage if c.status is CoverageStatus.HANDS_OFF}
    alerted = {a.symbol for a in result.alerts}
    reported = {c.symbol: c.protected_after for c in result.coverage}
    for holding in broker.holdings.values():
        covered = stops_covering(broker.closing_entries(holding.symbol))
        assert reported[holding.symbol] == covered, (
            f'{holding.symbol}: plan says {reported[holding.symbol]}, broker {covered}'
        )
        if certainly_protectable(scenario, holding):
            assert covered == holding.size, f'{holding.symbol}: covered {covered} of {holding.size}'
        if covered != holding.size and holding.symbol not in hands_off:
            assert {holding.symbol, holding.underlying_symbol} & alerted, f'silent gap on {holding.symbol}'


def check_closing_cap(scenario: Scenario, result: Plan, broker: ModelBroker) -> None:
    """Property 2."""
    hands_off = {c.symbol for c in result.coverage if c.status is CoverageStatus.HANDS_OFF}
    before = ModelBroker.of(scenario.holdings, scenario.orders)
    for holding in broker.holdings.values():
        if holding.symbol in hands_off:
            continue
        fixed = exclusive_total(e for e in before.closing_entries(holding.symbol) if _untouchable(e[0]))
        total = exclusive_total(broker.closing_entries(holding.symbol))
        assert total <= max(holding.size, fixed), f'{holding.symbol}: closing {total} > {holding.size} (fixed {fixed})'


def _ticks_for(scenario: Scenario, order: WorkingOrder) -> tuple[Tick, ...]:
    first = order.legs[0].symbol
    if len(order.legs) > 1:
        return scenario.spread_ticks.get(first, PENNY)
    return scenario.truth_ticks.get(first, PENNY)


def check_our_stops_are_valid(scenario: Scenario, result: Plan, broker: ModelBroker) -> None:
    """Property 3."""
    hands_off = {c.symbol for c in result.coverage if c.status is CoverageStatus.HANDS_OFF}
    new_ids = {o.id for o in broker.orders.values()} - {o.id for o in scenario.orders}
    for order in broker.orders.values():
        symbols = {leg.symbol for leg in order.legs}
        if not _ours(order) or order.status not in REPLACEABLE or symbols & hands_off:
            continue
        if not symbols <= set(broker.holdings):
            continue
        ticks = _ticks_for(scenario, order)
        assert order.stop_trigger is not None and is_on_tick(order.stop_trigger, ticks), f'off tick: {order}'
        assert order.price is None or is_on_tick(order.price, ticks), f'limit off tick: {order}'
        for leg in order.legs:
            assert leg.action is CLOSING[broker.holdings[leg.symbol].is_long], f'wrong side: {order}'
        if len(order.legs) == 1:
            holding = broker.holdings[order.legs[0].symbol]
            market = _market(scenario.quotes.get(holding.symbol), holding.is_long)
            long = holding.is_long
            if market is not None:
                assert order.stop_trigger < market if long else order.stop_trigger > market, (
                    f'through {market}: {order}'
                )
            if order.price is not None:
                assert order.price <= order.stop_trigger if long else order.price >= order.stop_trigger, order
        elif order.id in new_ids:
            assert order.order_type is OrderType.STOP_LIMIT and order.price is not None, order


def check_at_most_one_stop_of_ours_per_position(scenario: Scenario, result: Plan, broker: ModelBroker) -> None:
    """No stacking: one working single-leg stop of ours per position at most, none on a structure leg."""
    hands_off = {c.symbol for c in result.coverage if c.status is CoverageStatus.HANDS_OFF}
    legs = _structure_legs(tuple(broker.holdings.values()))
    for holding in broker.holdings.values():
        if holding.symbol in hands_off:
            continue
        ours = [o for o, _ in broker.closing_entries(holding.symbol) if _ours(o) and len(o.legs) == 1]
        working = [o for o in ours if o.status in REPLACEABLE]
        assert len(working) <= (0 if holding.symbol in legs else 1), f'{holding.symbol}: stacked {working}'


def check_human_orders_untouched(scenario: Scenario, broker: ModelBroker) -> None:
    """Property 4."""
    human_before = {o.id: o for o in scenario.orders if not _ours(o)}
    human_after = {o.id: o for o in broker.orders.values() if not _ours(o)}
    assert human_before == human_after


def check_no_confirmed_orphans(scenario: Scenario, broker: ModelBroker) -> None:
    """Property 5."""
    for order in broker.orders.values():
        if not _ours(order) or order.status in (OrderStatus.CANCEL_REQUESTED, OrderStatus.REPLACE_REQUESTED):
            continue
        missing = [leg.symbol for leg in order.legs if leg.symbol not in broker.holdings]
        if missing:
            assert min(scenario.absent_counts.get(s, 1) for s in missing) < 2, f'orphan kept: {order}'


def check_new_orders(scenario: Scenario, result: Plan) -> None:
    """Property 7 (beyond the model broker's checks): quantities, actions and identifiers of new orders."""
    existing = {o.external_identifier for o in scenario.orders}
    for action in result.writes:
        if isinstance(action, PlaceStop | ReplaceStop):
            ident = action.spec.external_identifier
            assert ident.startswith('tg-') and len(ident) <= 40 and ident[3:].isalnum() and ident not in existing
            assert all(leg.quantity > 0 for leg in action.spec.legs), action
            assert all(leg.action.value.endswith('to Close') for leg in action.spec.legs), action


@PROPERTY_SETTINGS
@given(scenarios())
def test_applying_the_plan_keeps_every_invariant(scenario: Scenario) -> None:
    # Given a random account, When the plan is applied to the model broker
    result, broker = _applied(scenario)
    # Then every property holds on what the broker ends up holding
    try:
        check_exact_coverage_and_no_silent_gap(scenario, result, broker)
        check_closing_cap(scenario, result, broker)
        check_our_stops_are_valid(scenario, result, broker)
        check_at_most_one_stop_of_ours_per_position(scenario, result, broker)
        check_human_orders_untouched(scenario, broker)
        check_no_confirmed_orphans(scenario, broker)
        check_new_orders(scenario, result)
    except AssertionError as exc:
        raise AssertionError(f'{exc}\n' + '\n'.join(f'  {a}' for a in result.actions)) from None


@PROPERTY_SETTINGS
@given(scenarios())
def test_planning_the_result_again_changes_nothing(scenario: Scenario) -> None:
    # Given a plan applied to the model broker
    first, broker = _applied(scenario)
    # When the same run (same quotes, policy, salt) plans the resulting state
    again = plan(scenario.inputs(broker.holdings.values(), broker.orders.values()))
    # Then nothing is written, applying it changes nothing, and planning is deterministic
    assert again.writes == (), f'second plan writes {again.writes}\nfirst plan: {first.writes}'
    copy = broker.copy()
    copy.apply(again)
    assert copy.orders == broker.orders
    assert all(c.protected_now == c.protected_after for c in again.coverage)
    assert plan(scenario.inputs()) == first
