"""Order requests: dry-run, place, replace, cancel, complex orders, seeding, and quote-driven triggering.

Each request changes state synchronously and returns the response snapshot as the real API would show it at
that moment (a placement returns the order as ``Routed``, a cancel as ``Cancel Requested``, a replace the new
order as ``Contingent``); the rest of the transition then happens at once, or after the admin-configured
``cancel-delay`` / ``replace-delay`` of virtual time, streaming every step.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from paperbroker.clock import epoch_ms
from paperbroker.complex_orders import ComplexOrders
from paperbroker.core import Core
from paperbroker.errors import ApiError, not_found, validation_error
from paperbroker.expiration import Expirations
from paperbroker.lifecycle import Lifecycle
from paperbroker.model import Order, Quote, User, new_request_id
from paperbroker.preview import buying_power_effect, fee_calculation
from paperbroker.splits import Splits
from paperbroker.validation import parse_order, preflight
from paperbroker.wire import order_json

PATCHABLE = ('price', 'price-effect', 'order-type', 'time-in-force', 'stop-trigger', 'gtc-date')


class Engine:
    """The order-facing operations of the broker."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.life = Lifecycle(core)
        self.complex = ComplexOrders(self)
        self.expirations = Expirations(core, self.life)
        self.splits = Splits(core, self.life)

    # --- single orders -------------------------------------------------------------------------------------
    def submit(self, account_number: str, body: Any, user: User, *, dry_run: bool) -> dict[str, Any]:
        """``POST /accounts/{n}/orders`` and ``/orders/dry-run``."""
        order = self.parse(account_number, body)
        warnings = preflight(order, self.core.state, market_open=self.core.settings.market_open)
        fees, total = fee_calculation(self.core.state, [order])
        effect = buying_power_effect(self.core.state, [order], total)
        if dry_run:
            order.global_request_id = new_request_id()
            return {
                'order': order_json(order, dry_run=True),
                'warnings': warnings,
                'buying-power-effect': effect,
                'fee-calculation': fees,
                'notes': [],
                'confirmation_token': str(uuid.uuid4()),
            }
        self.receive(order, user)
        snapshot = self.launch(order)
        return {
            'order': snapshot,
            'warnings': warnings,
            'buying-power-effect': effect,
            'fee-calculation': fees,
            'notes': [],
        }

    def seed(self, account_number: str, body: Any, user: User, received_at: datetime) -> Order:
        """Admin: a working order as if placed earlier (validated, but no position checks)."""
        order = self.parse(account_number, body)
        self.receive(order, user, received_at=received_at)
        order.live_at = received_at
        self.life.set_status(order, 'Live')
        order.updated_ms = epoch_ms(received_at)
        self.life.evaluate(order)
        return order

    def cancel(self, account_number: str, order_id: int, user: User) -> dict[str, Any]:
        """``DELETE /accounts/{n}/orders/{id}``: 200 with the order in Cancel Requested."""
        order = self.get(account_number, order_id)
        if order.status == 'Contingent':
            self.life.finish_cancel(order, user)
            return order_json(order)
        if not order.working or order.pending is not None:
            raise ApiError(422, 'cannot_update_order', 'the order could not be cancelled')
        order.pending = 'cancel'
        self.life.set_status(order, 'Cancel Requested')
        snapshot = order_json(order)

        def complete() -> None:
            if order.pending == 'cancel':
                self.life.finish_cancel(order, user)

        self.after(self.core.settings.cancel_delay, complete)
        return snapshot

    def replace(
        self, account_number: str, order_id: int, body: Any, user: User, *, patch: bool = False, dry_run: bool = False
    ) -> dict[str, Any]:
        """``PUT`` / ``PATCH /accounts/{n}/orders/{id}`` (and the replacement dry-run)."""
        old = self.get(account_number, order_id)
        if not old.working or old.pending is not None:
            raise ApiError(422, 'cannot_update_order', 'the order could not be replaced')
        if not isinstance(body, dict):
            raise validation_error([{'domain': 'body', 'reason': 'must be a JSON object'}])
        merged = self._replacement_body(old, body, patch=patch)
        new = self.parse(account_number, merged)
        warnings = preflight(new, self.core.state, market_open=self.core.settings.market_open)
        if dry_run:
            fees, total = fee_calculation(self.core.state, [new])
            return {
                'order': order_json(new, dry_run=True),
                'warnings': warnings,
                'notes': [],
                'buying-power-effect': buying_power_effect(self.core.state, [new], total),
                'fee-calculation': fees,
            }
        new.contingent_status = 'Pending Order'
        new.replaces_order_id = old.id
        new.complex_order_id, new.complex_order_tag = old.complex_order_id, old.complex_order_tag
        self.receive(new, user, status='Contingent')
        old.pending, old.replacing_order_id = 'replace', new.id
        self.life.set_status(old, 'Replace Requested')
        snapshot = order_json(new)

        def complete() -> None:
            if old.pending != 'replace':
                return
            old.edited = True
            group = self.core.state.complex_orders.get(old.complex_order_id or -1)
            if group is not None and old.id in group.order_ids:
                group.order_ids[group.order_ids.index(old.id or 0)] = new.id or 0
            self.life.finish_cancel(old, user)
            new.contingent_status = None
            new.received_at = self.core.now()
            self.life.set_status(new, 'Received')
            self.life.start(new)

        self.after(self.core.settings.replace_delay, complete)
        return snapshot

    def get(self, account_number: str, order_id: int) -> Order:
        """An order of the account, else a 404."""
        order = self.core.state.orders.get(order_id)
        if order is None or order.account_number != account_number:
            raise not_found(f'order {order_id}')
        return order

    # --- market and clock ----------------------------------------------------------------------------------
    def quotes_changed(self, quotes: list[Quote]) -> None:
        """After ``POST /_paper/quotes``: trigger stops, fill limits, stream the quotes."""
        self.life.evaluate_symbols({q.symbol for q in quotes})
        for quote in quotes:
            self.core.hub.quote_changed(quote.symbol)

    def tick(self) -> None:
        """Run whatever is due on the virtual clock (delayed fills, remainders, pending requests, expiry), then
        settle the option expirations whose session close the clock crossed."""
        self.core.timers.run_due(self.core.now())
        self.expirations.run_due()

    def open_market(self) -> None:
        """Route every order that was received while the market was closed."""
        for order in sorted(self.core.state.orders.values(), key=lambda o: o.id or 0):
            if order.status == 'Received':
                self.life.start(order)
        self.life.evaluate_all()

    # --- helpers -------------------------------------------------------------------------------------------
    def parse(self, account_number: str, body: Any) -> Order:
        """Validate a body into an order, applying the default fill behaviour."""
        order = parse_order(body, self.core.state.registry, account_number, self.core.now())
        settings = self.core.settings
        has_own = isinstance(body, dict) and 'behavior' in body
        if settings.force or not has_own:
            order.behavior = settings.behavior
            order.eligible_at = None
            if settings.behavior == 'delayed' and settings.delay is not None:
                order.eligible_at = self.core.now() + timedelta(seconds=settings.delay)
            elif settings.behavior == 'scheduled':
                order.eligible_at = settings.schedule
        return order

    def receive(
        self, order: Order, user: User, *, status: str = 'Received', received_at: datetime | None = None
    ) -> None:
        """Give the order an id and store it (status Received unless told otherwise)."""
        state = self.core.state
        order.id = state.new_order_id()
        order.received_at = received_at or self.core.now()
        order.user_id, order.username = user.id, user.username
        order.ext_client_order_id = 'PB' + secrets.token_hex(8).upper()
        order.global_request_id = new_request_id()
        state.orders[order.id] = order
        self.life.set_status(order, status)
        self.life.schedule_expiry(order)

    def launch(self, order: Order, *, routed: bool = False) -> dict[str, Any]:
        """Reject, or route and go live; returns the snapshot as of routing."""
        if order.behavior == 'reject':
            order.reject_reason = 'Rejected by the paper broker (behavior: reject)'
            self.life.set_status(order, 'Rejected')
            self.life.after_terminal(order)
            return order_json(order)
        if not self.core.settings.market_open:
            return order_json(order)
        if not routed:
            self.life.route(order)
        snapshot = order_json(order)
        self.life.go_live(order)
        return snapshot

    def _replacement_body(self, old: Order, body: dict[str, Any], *, patch: bool) -> dict[str, Any]:
        base = order_json(old)
        inherited: dict[str, Any] = {
            key: base[key]
            for key in (
                'time-in-force',
                'order-type',
                'price',
                'price-effect',
                'stop-trigger',
                'gtc-date',
                'source',
                'external-identifier',
                'advanced-instructions',
            )
            if key in base
        }
        legs = [
            {
                'instrument-type': leg.instrument_type,
                'symbol': leg.symbol,
                'action': leg.action,
                'quantity': str(leg.remaining),
            }
            for leg in old.legs
        ]
        if patch:
            merged: dict[str, Any] = {**inherited, **{k: body[k] for k in PATCHABLE if k in body}}
        else:
            merged = {
                **{
                    k: inherited[k]
                    for k in ('source', 'external-identifier', 'advanced-instructions')
                    if k in inherited
                },
                **body,
            }
        if merged.get('order-type') in {'Market', 'Stop', 'Notional Market'}:
            for key in ('price', 'price-effect'):
                if key not in body:
                    merged.pop(key, None)
        if merged.get('order-type') in {'Limit', 'Market', 'Marketable Limit'} and 'stop-trigger' not in body:
            merged.pop('stop-trigger', None)
        given = body.get('legs') if not patch else None
        if given is None:
            merged['legs'] = legs
        elif not _same_legs(given, old):
            raise validation_error(
                [{'domain': 'legs', 'reason': "must match the original order's symbols and actions"}]
            )
        if 'behavior' not in body:
            merged['behavior'] = old.behavior if old.behavior not in {'delayed', 'scheduled'} else 'immediate'
        return merged

    def after(self, seconds: float, action: Callable[[], None]) -> None:
        """Run ``action`` now, or after ``seconds`` of virtual time."""
        if seconds <= 0:
            action()
        else:
            self.core.timers.at(self.core.now() + timedelta(seconds=seconds), action)


def _same_legs(given: Any, old: Order) -> bool:
    if not isinstance(given, list):
        return False
    want = {(leg.symbol.replace(' ', ''), leg.action.replace('to Open', 'to Close')) for leg in old.legs}
    got = set()
    for item in given:
        if not isinstance(item, dict):
            return False
        got.add(
            (str(item.get('symbol', '')).replace(' ', ''), str(item.get('action', '')).replace('to Open', 'to Close'))
        )
    return want == got
