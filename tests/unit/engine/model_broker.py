"""A model broker for the planner's property tests: holds positions and working orders, applies a plan.

It applies actions the way tastytrade would, and is strict where the planner must be: an action on an
order that is not tastyguard's, on an order that does not exist, or in a status the planner promised not
to touch fails the test; so does an order that would open a position, a zero quantity, or two actions on
one order. A replace is a cancel of the old order plus a new working order with the new identifier.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from tastyguard.engine.actions import CancelOrder, PlaceStop, Plan, ReplaceStop, StopSpec
from tastyguard.engine.types import Holding, OrderAction, OrderLeg, OrderStatus, WorkingOrder

WORKING = frozenset(
    {
        OrderStatus.RECEIVED,
        OrderStatus.ROUTED,
        OrderStatus.IN_FLIGHT,
        OrderStatus.LIVE,
        OrderStatus.CONTINGENT,
        OrderStatus.CANCEL_REQUESTED,
        OrderStatus.REPLACE_REQUESTED,
    }
)
"""Statuses in which an order may still fill (independent of the engine's own constants on purpose)."""

REPLACEABLE = frozenset({OrderStatus.RECEIVED, OrderStatus.ROUTED, OrderStatus.IN_FLIGHT, OrderStatus.LIVE})
"""The planner promises to replace only orders in these statuses."""

CANCELLABLE = REPLACEABLE | {OrderStatus.CONTINGENT}
"""The planner promises to cancel only orders in these statuses (never one already being cancelled/replaced)."""

CLOSING = {True: OrderAction.SELL_TO_CLOSE, False: OrderAction.BUY_TO_CLOSE}


class BrokerRejection(AssertionError):
    """The plan asked the model broker for something the planner must never ask."""


@dataclass
class ModelBroker:
    """Positions by symbol and working orders by id."""

    holdings: dict[str, Holding]
    orders: dict[str, WorkingOrder]
    next_id: int = 900_000
    log: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, holdings: Iterable[Holding], orders: Iterable[WorkingOrder]) -> ModelBroker:
        """A broker holding these positions and orders."""
        return cls({h.symbol: h for h in holdings if h.quantity != 0}, {o.id: o for o in orders})

    def copy(self) -> ModelBroker:
        """An independent copy (orders are immutable, so a shallow copy of the dicts suffices)."""
        return ModelBroker(dict(self.holdings), dict(self.orders), self.next_id, list(self.log))

    def apply(self, plan: Plan) -> None:
        """Apply every write action of ``plan`` in order."""
        touched: set[str] = set()
        for action in plan.actions:
            if isinstance(action, CancelOrder | ReplaceStop):
                if action.order_id in touched:
                    raise BrokerRejection(f'two actions on order {action.order_id}')
                touched.add(action.order_id)
            if isinstance(action, CancelOrder):
                self._own(action.order_id, CANCELLABLE)
                del self.orders[action.order_id]
                self.log.append(f'cancel {action.order_id}')
            elif isinstance(action, ReplaceStop):
                self._own(action.order_id, REPLACEABLE)
                del self.orders[action.order_id]
                self._place(action.spec)
                self.log.append(f'replace {action.order_id}')
            elif isinstance(action, PlaceStop):
                self._place(action.spec)

    def _own(self, order_id: str, statuses: frozenset[OrderStatus]) -> WorkingOrder:
        order = self.orders.get(order_id)
        if order is None:
            raise BrokerRejection(f'order {order_id} does not exist')
        if not (order.external_identifier or '').startswith('tg-'):
            raise BrokerRejection(f"order {order_id} is not tastyguard's: {order}")
        if order.status not in statuses:
            raise BrokerRejection(f'order {order_id} is {order.status}; the planner must leave it alone')
        return order

    def _place(self, spec: StopSpec) -> None:
        if not spec.external_identifier.startswith('tg-'):
            raise BrokerRejection(f'identifier without tg-: {spec.external_identifier}')
        if any(o.external_identifier == spec.external_identifier for o in self.orders.values()):
            raise BrokerRejection(f'identifier reused: {spec.external_identifier}')
        if not spec.order_type.is_stop:
            raise BrokerRejection(f'not a stop: {spec.order_type}')
        if spec.stop_trigger <= 0 or (spec.limit_price is not None and spec.limit_price <= 0):
            raise BrokerRejection(f'non-positive price: {spec}')
        legs = []
        for leg in spec.legs:
            holding = self.holdings.get(leg.symbol)
            if holding is None:
                raise BrokerRejection(f'closing order for {leg.symbol} without a position would open one')
            if leg.action is not CLOSING[holding.is_long]:
                raise BrokerRejection(f'{leg.action} does not close {holding.symbol} {holding.quantity}')
            if leg.quantity <= 0:
                raise BrokerRejection(f'quantity {leg.quantity} for {leg.symbol}')
            legs.append(OrderLeg(leg.symbol, leg.instrument_type, leg.action, leg.quantity, leg.quantity))
        self.next_id += 1
        self.orders[str(self.next_id)] = WorkingOrder(
            id=str(self.next_id),
            status=OrderStatus.LIVE,
            order_type=spec.order_type,
            time_in_force=spec.time_in_force,
            legs=tuple(legs),
            stop_trigger=spec.stop_trigger,
            price=spec.limit_price,
            external_identifier=spec.external_identifier,
        )

    def closing_entries(self, symbol: str) -> list[tuple[WorkingOrder, OrderLeg]]:
        """Working orders with a leg that closes the position in ``symbol``."""
        holding = self.holdings[symbol]
        closing = {CLOSING[holding.is_long], OrderAction.SELL if holding.is_long else OrderAction.BUY}
        return [
            (order, leg)
            for order in self.orders.values()
            if order.status in WORKING
            for leg in order.legs
            if leg.symbol == symbol and leg.action in closing
        ]


def exclusive_total(entries: Iterable[tuple[WorkingOrder, OrderLeg]]) -> Decimal:
    """Closing quantity that may fill: OCO siblings and replace pairs count once (the largest)."""
    groups: dict[str, Decimal] = defaultdict(Decimal)
    for order, leg in entries:
        tag = order.complex_order_tag or ''
        if order.complex_order_id and tag.startswith(('OCO::', 'OTOCO::oco')):
            key = f'c{order.complex_order_id}'
        else:
            key = f'r{order.replaces_order_id or order.id}'
        groups[key] = max(groups[key], leg.remaining_quantity)
    return sum(groups.values(), Decimal(0))


def stops_covering(entries: Iterable[tuple[WorkingOrder, OrderLeg]]) -> Decimal:
    """Remaining quantity of stops that stay working (not being cancelled or replaced, not OTO-waiting)."""
    total = Decimal(0)
    for order, leg in entries:
        waiting = order.status is OrderStatus.CONTINGENT and (order.complex_order_tag or '').startswith('OTO')
        pending = order.status in (OrderStatus.CANCEL_REQUESTED, OrderStatus.REPLACE_REQUESTED)
        if order.order_type.is_stop and not waiting and not pending:
            total += leg.remaining_quantity
    return total


def with_status(order: WorkingOrder, status: OrderStatus) -> WorkingOrder:
    """A copy of ``order`` in another status."""
    return replace(order, status=status)
