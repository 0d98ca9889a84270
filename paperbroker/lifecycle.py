"""Order status transitions after placement: routing, triggering, fills, expiry, and complex-order links.

Received -> Routed -> Live -> Filled / Cancelled / Rejected / Expired, with Cancel Requested and Replace
Requested while a request is pending and Contingent for replacements and OTO children. Every change bumps
``updated-at`` and is streamed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from paperbroker.clock import session_close_after
from paperbroker.core import Core
from paperbroker.fills import execute_leg
from paperbroker.instruments import on_tick
from paperbroker.matching import can_execute, leg_prices, stop_triggered
from paperbroker.model import BrokerState, Order, Position, User
from paperbroker.validation import closable_quantity, convert_unbacked_closing_legs

EVALUATED = frozenset({'Live', 'Cancel Requested', 'Replace Requested'})
PARTIAL_REMAINDER_SECONDS = 1


class Lifecycle:
    """Moves orders through their states; the only code that fills orders."""

    def __init__(self, core: Core) -> None:
        self.core = core

    @property
    def state(self) -> BrokerState:
        return self.core.state

    def set_status(self, order: Order, status: str, *, emit: bool = True) -> None:
        """Change status, stamp terminal times, bump ``updated-at`` and stream the order."""
        order.status = status
        now = self.core.now()
        if order.terminal:
            order.terminal_at = now
            order.pending = None
        self.core.touch(order)
        if emit:
            self.core.emit_order(order)

    # --- routing -------------------------------------------------------------------------------------------
    def route(self, order: Order) -> None:
        """Received -> Routed (the snapshot a placement returns); unbacked closing legs become opening."""
        convert_unbacked_closing_legs(order, self.state)
        self.set_status(order, 'Routed')

    def go_live(self, order: Order) -> None:
        """Routed -> Live (or Rejected at the venue for an off-tick price), then try to fill."""
        if order.status != 'Routed':
            return
        if not self._on_tick(order):
            order.reject_reason = 'Price is not a valid increment for this instrument'
            self.set_status(order, 'Rejected')
            self.after_terminal(order)
            return
        order.live_at = self.core.now()
        self.set_status(order, 'Live')
        if order.eligible_at is not None and order.eligible_at > self.core.now():
            eligible = order.eligible_at
            self.core.timers.at(eligible, lambda: self.evaluate(order))
        self.evaluate(order)

    def start(self, order: Order) -> None:
        """Route a received order and make it live (unless the market is closed)."""
        if not self.core.settings.market_open:
            return
        self.route(order)
        self.go_live(order)

    def _on_tick(self, order: Order) -> bool:
        for price in (order.price, order.stop_trigger):
            if price is None:
                continue
            for leg in order.legs[:1] if len(order.legs) == 1 else []:
                instrument = self.state.registry.get(leg.symbol)
                if instrument is not None and not on_tick(price, instrument.ticks):
                    return False
        return True

    # --- evaluation ----------------------------------------------------------------------------------------
    def evaluate(self, order: Order) -> None:
        """Trigger and/or fill one order if the market, its behaviour and the clock allow it."""
        prices = self._executable_prices(order)
        if prices is None:
            return
        if order.order_type == 'Notional Market' and order.legs[0].quantity == 0:
            self._size_notional(order, prices[0])
            if order.size == 0:
                return
        remaining_units = order.legs[0].remaining / (order.legs[0].quantity / order.size)
        units = remaining_units
        partial = order.behavior == 'partial'
        if partial and order.next_fill_at is None and remaining_units > 1:
            units = (remaining_units / 2).to_integral_value(rounding=ROUND_FLOOR)
        if not self._strict_allows(order, units):
            order.reject_reason = 'Closing order exceeds the open position (strict position effect validation)'
            self.set_status(order, 'Rejected')
            self.after_terminal(order)
            return
        now = self.core.now()
        self.fill(order, units, prices, now)
        if order.working and partial:
            order.next_fill_at = now + timedelta(seconds=PARTIAL_REMAINDER_SECONDS)
            self.core.timers.at(order.next_fill_at, lambda: self.evaluate(order))

    def _executable_prices(self, order: Order) -> list[Decimal] | None:
        """The legs' execution prices if the order may fill right now (triggering a stop on the way), else None."""
        if order.status not in EVALUATED or not self.core.settings.market_open:
            return None
        prices = leg_prices(self.state, order)
        if prices is None:
            return None
        if order.is_stop and not order.triggered:
            if not stop_triggered(order, prices):
                return None
            order.triggered = True
        now = self.core.now()
        held = (order.eligible_at is not None and now < order.eligible_at) or (
            order.next_fill_at is not None and now < order.next_fill_at
        )
        if order.behavior == 'never' or held or not can_execute(order, prices):
            return None
        return prices

    def _size_notional(self, order: Order, price: Decimal) -> None:
        if price <= 0:
            return
        quantity = ((order.value or Decimal(0)) / price).quantize(Decimal('0.00001'), rounding=ROUND_FLOOR)
        order.legs[0].quantity = order.legs[0].remaining = order.size = quantity

    def _strict_allows(self, order: Order, units: Decimal) -> bool:
        if not order.strict:
            return True
        for leg in order.legs:
            quantity = units * leg.quantity / order.size
            if leg.is_closing and closable_quantity(self.state, order.account_number, leg) < quantity:
                return False
        return True

    def fill(self, order: Order, units: Decimal, prices: list[Decimal], now: datetime) -> None:
        """Execute ``units`` of the order's size across all legs and stream the results."""
        touched: list[Position] = []
        for leg, price in zip(order.legs, prices, strict=True):
            quantity = min(units * leg.quantity / order.size, leg.remaining)
            if quantity > 0:
                touched.append(execute_leg(self.state, order, leg, quantity=quantity, price=price, now=now))
        complete = all(leg.remaining == 0 for leg in order.legs)
        if order.pending == 'replace':
            self._abort_replacement(order)
        if complete:
            self.set_status(order, 'Filled')
        else:
            self.core.touch(order)
            self.core.emit_order(order)
        for position in touched:
            self.core.emit_position(position)
        self.core.emit_balance(order.account_number)
        self.after_fill(order, complete)

    def _abort_replacement(self, order: Order) -> None:
        """A fill of the original aborts a pending replace."""
        replacement = self.state.orders.get(order.replacing_order_id or -1)
        order.pending = None
        order.replacing_order_id = None
        order.status = 'Live'
        if replacement is not None and not replacement.terminal:
            replacement.reject_reason = 'Replaced order was filled before the replacement took effect'
            self.set_status(replacement, 'Cancelled')
            replacement.cancelled_at = replacement.terminal_at

    # --- cancel / expire -----------------------------------------------------------------------------------
    def finish_cancel(self, order: Order, user: User | None) -> None:
        """Cancel Requested (or any working/contingent state) -> Cancelled."""
        if order.terminal:
            return
        order.cancelled_at = self.core.now()
        if user is not None:
            order.cancel_user_id, order.cancel_username = user.id, user.username
        self.set_status(order, 'Cancelled')
        self.after_terminal(order)

    def schedule_expiry(self, order: Order) -> None:
        """Day orders expire at the first session close after receipt, GTD orders at the close of gtc-date."""
        if order.received_at is None or order.account_number in self.state.no_expiry_accounts:
            return
        if order.time_in_force in {'Day', 'Ext', 'Ext Overnight', 'IOC'}:
            expiry = session_close_after(order.received_at)
        elif order.time_in_force == 'GTD' and order.gtc_date is not None:
            expiry = session_close_after(order.received_at, on=order.gtc_date)
        else:
            return

        def expire() -> None:
            if order.working or order.status == 'Contingent':
                self.set_status(order, 'Expired')
                self.after_terminal(order)

        self.core.timers.at(expiry, expire)

    def evaluate_all(self) -> None:
        """Re-evaluate every working order (after the market opens or settings change)."""
        for order in sorted(self.state.orders.values(), key=lambda o: o.id or 0):
            self.evaluate(order)

    def evaluate_symbols(self, symbols: set[str]) -> None:
        """Re-evaluate working orders with a leg in ``symbols`` (after a quote change)."""
        for order in list(self.state.orders.values()):
            if order.status in EVALUATED and any(leg.symbol in symbols for leg in order.legs):
                self.evaluate(order)

    # --- complex orders ------------------------------------------------------------------------------------
    def after_fill(self, order: Order, complete: bool) -> None:
        """Complex-order links: release OTO children, cancel the OCO sibling."""
        group = self.state.complex_orders.get(order.complex_order_id or -1)
        if group is None:
            return
        if order.id == group.trigger_order_id:
            if complete:
                for child_id in group.order_ids:
                    child = self.state.orders[child_id]
                    if child.status == 'Contingent':
                        child.contingent_status = None
                        child.received_at = self.core.now()
                        self.set_status(child, 'Received')
                        self.start(child)
            return
        if group.type in {'OCO', 'OTOCO'}:
            for sibling_id in group.order_ids:
                sibling = self.state.orders[sibling_id]
                if sibling_id != order.id and (sibling.working or sibling.status == 'Contingent'):
                    self.finish_cancel(sibling, None)
        self._group_terminal(group.id)

    def after_terminal(self, order: Order) -> None:
        """A trigger that ends unfilled cancels its group's children."""
        group = self.state.complex_orders.get(order.complex_order_id or -1)
        if group is None:
            return
        if order.id == group.trigger_order_id and order.status != 'Filled':
            for child_id in group.order_ids:
                child = self.state.orders[child_id]
                if not child.terminal:
                    self.finish_cancel(child, None)
        self._group_terminal(group.id)

    def _group_terminal(self, group_id: int) -> None:
        group = self.state.complex_orders[group_id]
        ids = [*group.order_ids, *([group.trigger_order_id] if group.trigger_order_id else [])]
        if group.terminal_at is None and all(self.state.orders[i].terminal for i in ids):
            group.terminal_at = self.core.now()
