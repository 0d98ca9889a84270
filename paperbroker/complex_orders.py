"""Complex orders: OCO (one Limit + one Stop/Stop Limit), OTO and OTOCO, placed, dry-run and cancelled as a group.

Children carry ``complex-order-id`` and ``complex-order-tag`` (``OCO::order``, ``OTOCO::trigger-order``, ...), show
up in ``/orders/live``, and are linked by the lifecycle: a fill of one OCO child cancels the other, a filled
trigger releases its contingent children.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from paperbroker.errors import ApiError, not_found, preflight_failure, validation_error
from paperbroker.model import ComplexOrder, Order, User, new_request_id
from paperbroker.preview import buying_power_effect, fee_calculation
from paperbroker.validation import preflight
from paperbroker.wire import complex_order_json, order_json

if TYPE_CHECKING:
    from paperbroker.engine import Engine

OCO_ERROR = {
    'code': 'invalid_oco_order_type_combo',
    'message': 'OCO Orders must have one Limit order and one Stop or Stop Limit order.',
}
COMPLEX_TAGS = {'OCO': 'OCO::order', 'OTOCO': 'OTOCO::oco-1-order', 'OTO': 'OTO::order'}


class ComplexOrders:
    """The ``/complex-orders`` operations."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def submit(self, account_number: str, body: Any, user: User, *, dry_run: bool) -> dict[str, Any]:
        """``POST /accounts/{n}/complex-orders`` (+ ``/dry-run``): OCO, OTO and OTOCO."""
        kind, trigger, children = self._parse(account_number, body)
        market_open = self.engine.core.settings.market_open
        warnings: list[dict[str, str]] = []
        for order in [trigger] if trigger else children:
            warnings += [
                w for w in preflight(order, self.engine.core.state, market_open=market_open) if w not in warnings
            ]
        everything = [*([trigger] if trigger else []), *children]
        fees, total = fee_calculation(self.engine.core.state, everything)
        effect = buying_power_effect(self.engine.core.state, everything, total)
        if dry_run:
            data = self._dry_run(account_number, kind, trigger, children)
            return {
                'buying-power-effect': effect,
                'complex-order': data,
                'fee-calculation': fees,
                'notes': [],
                'warnings': warnings,
                'confirmation_token': str(uuid.uuid4()),
            }
        group = ComplexOrder(self.engine.core.state.new_complex_id(), account_number, kind, [])
        self.engine.core.state.complex_orders[group.id] = group
        if trigger is not None:
            trigger.complex_order_id, trigger.complex_order_tag = group.id, f'{kind}::trigger-order'
            self.engine.receive(trigger, user)
            group.trigger_order_id = trigger.id
        for order in children:
            order.complex_order_id, order.complex_order_tag = group.id, COMPLEX_TAGS[kind]
            order.contingent_status = 'Pending Order' if trigger else None
            self.engine.receive(order, user, status='Contingent' if trigger else 'Received')
            group.order_ids.append(order.id or 0)
        launch = [trigger] if trigger else children
        for order in launch:
            if order.behavior != 'reject' and market_open:
                self.engine.life.route(order)
        snapshot = complex_order_json(self.engine.core.state, group)
        for order in launch:
            self.engine.launch(order, routed=True)
        return {
            'complex-order': snapshot,
            'warnings': warnings,
            'buying-power-effect': effect,
            'fee-calculation': fees,
            'notes': [],
        }

    def _parse(self, account_number: str, body: Any) -> tuple[str, Order | None, list[Order]]:
        if not isinstance(body, dict):
            raise validation_error([{'domain': 'body', 'reason': 'must be a JSON object'}])
        kind = body.get('type')
        if kind not in COMPLEX_TAGS:
            raise validation_error([{'domain': 'type', 'reason': 'does not have a valid value'}])
        raw_orders = body.get('orders')
        if not isinstance(raw_orders, list) or not raw_orders:
            raise validation_error([{'domain': 'orders', 'reason': 'is missing'}])
        if kind != 'OCO' and body.get('trigger-order') is None:
            raise validation_error([{'domain': 'trigger-order', 'reason': 'is missing'}])
        children = [self.engine.parse(account_number, item) for item in raw_orders]
        trigger = self.engine.parse(account_number, body['trigger-order']) if kind != 'OCO' else None
        if kind in {'OCO', 'OTOCO'}:
            types = sorted(o.order_type for o in children)
            if len(children) != 2 or types[0] != 'Limit' or types[1] not in {'Stop', 'Stop Limit'}:
                raise preflight_failure([OCO_ERROR])
        elif len(children) > 3:
            raise validation_error([{'domain': 'orders', 'reason': 'OTO orders take one to three orders'}])
        return str(kind), trigger, children

    def cancel(self, account_number: str, group_id: int, user: User) -> dict[str, Any]:
        """``DELETE /accounts/{n}/complex-orders/{id}``: cancel every child still working."""
        group = self.get(account_number, group_id)
        ids = [*([group.trigger_order_id] if group.trigger_order_id else []), *group.order_ids]
        orders = [self.engine.core.state.orders[i] for i in ids]
        if all(o.terminal for o in orders):
            raise ApiError(422, 'cannot_update_order', 'the complex order could not be cancelled')
        pending = []
        for order in orders:
            if order.status == 'Contingent':
                self.engine.life.finish_cancel(order, user)
            elif order.working and order.pending is None:
                order.pending = 'cancel'
                self.engine.life.set_status(order, 'Cancel Requested')
                pending.append(order)
        snapshot = complex_order_json(self.engine.core.state, group)

        def complete() -> None:
            for order in pending:
                if order.pending == 'cancel':
                    self.engine.life.finish_cancel(order, user)

        self.engine.after(self.engine.core.settings.cancel_delay, complete)
        return snapshot

    def get(self, account_number: str, group_id: int) -> ComplexOrder:
        """A complex order of the account, else a 404."""
        group = self.engine.core.state.complex_orders.get(group_id)
        if group is None or group.account_number != account_number:
            raise not_found(f'complex order {group_id}')
        return group

    def _dry_run(self, account_number: str, kind: str, trigger: Order | None, children: list[Order]) -> dict[str, Any]:
        preview_id = self.engine.core.state.next_complex_id
        for index, order in enumerate(children):
            order.complex_order_id, order.complex_order_tag = preview_id, COMPLEX_TAGS[kind]
            order.status, order.contingent_status, order.preflight_id = 'Contingent', 'Pending Order', index
            order.global_request_id = new_request_id()
        data: dict[str, Any] = {'account-number': account_number, 'type': kind}
        if trigger is not None:
            trigger.global_request_id = new_request_id()
            data['trigger-order'] = order_json(trigger, dry_run=True)
        data['orders'] = [order_json(o, dry_run=True) for o in children]
        return data
