"""The protection planner: ``plan(inputs) -> Plan``. Pure: no I/O, no clock, no randomness.

Order of work: index the working orders by leg symbol (one pass, so 500 positions and 300 orders plan in a
few milliseconds) → find multi-leg option structures and settle tastyguard's multi-leg orders → plan every
held position → handle orders on symbols without a position. The actions come out ordered: cancels first
(they free closing quantity), then replaces, then new stops, then alerts, then reports; within each group
by symbol. No order gets more than one action, no action opens a position, and no order that is not
tastyguard's is ever the subject of a place, replace or cancel.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from tastyguard.engine.actions import Action, Alert, CancelOrder, PlaceStop, Plan, PositionCoverage, ReplaceStop, Report
from tastyguard.engine.context import Context
from tastyguard.engine.coverage import CAP_STATUSES, Entry
from tastyguard.engine.orphans import plan_orphans
from tastyguard.engine.position import plan_position
from tastyguard.engine.spread_stop import plan_structures
from tastyguard.engine.structures import find_structures
from tastyguard.engine.types import Holding, PlanInputs, WorkingOrder

_RANK = {CancelOrder: 0, ReplaceStop: 1, PlaceStop: 2, Alert: 3, Report: 4}


class PlanInputError(ValueError):
    """The inputs contradict themselves (for example two positions with one symbol)."""


class PlannerBugError(RuntimeError):
    """The planner produced an inconsistent plan; nothing from it may be executed."""


def index_orders(orders: Sequence[WorkingOrder]) -> dict[str, list[Entry]]:
    """Symbol → (order, leg) for every leg of every order that may still fill."""
    index: dict[str, list[Entry]] = defaultdict(list)
    for order in orders:
        if order.status in CAP_STATUSES:
            for leg in order.legs:
                index[leg.symbol].append((order, leg))
    return index


def _held(holdings: Sequence[Holding]) -> dict[str, Holding]:
    held: dict[str, Holding] = {}
    for holding in holdings:
        if holding.quantity == 0:
            continue
        if holding.symbol in held:
            raise PlanInputError(f'two positions for {holding.symbol}; the broker nets one position per symbol')
        held[holding.symbol] = holding
    return held


def _sort_key(action: Action) -> tuple[int, str, str]:
    order_id = getattr(action, 'order_id', '') or ''
    return (_RANK[type(action)], action.symbol or '', order_id)


def _one_per_order(actions: list[Action]) -> list[Action]:
    """Keep the first report per order; fail loudly if the planner ever wrote to one order twice."""
    written: set[str] = set()
    reported: set[str] = set()
    kept: list[Action] = []
    for action in actions:
        if isinstance(action, CancelOrder | ReplaceStop):
            if action.order_id in written:
                raise PlannerBugError(f'two write actions for order {action.order_id}')
            written.add(action.order_id)
        elif isinstance(action, Report):
            if action.order_id in reported:
                continue
            reported.add(action.order_id)
        kept.append(action)
    return kept


def plan(inputs: PlanInputs) -> Plan:
    """Decide which stops to place, replace and cancel, and what to tell a person, for one account.

    Parameters
    ----------
    inputs
        Positions, working orders, quotes, instruments, the account's policy and the run's salt
        (see :class:`~tastyguard.engine.types.PlanInputs`).

    Returns
    -------
    Plan
        The ordered actions, each with its reason, and the coverage of every held position.
    """
    ctx = Context(inputs)
    held = _held(inputs.holdings)
    index = index_orders(inputs.orders)
    structures = find_structures(tuple(held.values()))
    structure = plan_structures(ctx, structures, held, index)
    actions: list[Action] = list(structure.actions)
    coverage: list[PositionCoverage] = []
    for symbol in sorted(held):
        position_actions, result = plan_position(
            ctx,
            held[symbol],
            index.get(symbol, ()),
            structure.kept_multi_leg,
            structure.leg_policies.get(symbol),
            structure.planned_cover.get(symbol),
        )
        actions += position_actions
        coverage.append(result)
    actions += plan_orphans(ctx, index, frozenset(held))
    ordered = sorted(_one_per_order(actions), key=_sort_key)
    return Plan(inputs.account_number, inputs.salt, tuple(ordered), tuple(coverage))
