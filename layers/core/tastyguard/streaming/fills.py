"""From account-streamer notifications to fast-path events, de-duplicated.

* **Orders.** A notification is a full order object. One already seen (same id and ``updated-at``) is
  dropped. tastytrade streams fills in several messages (an order may show ``Filled`` before its fills, a
  100-share order may come as 100 fills), and a partly filled order that is then cancelled still opened or
  closed a position, so the trigger is **every new fill id** (or, without fill ids, every increase of the
  filled quantity), whatever the status: one ``OrderFilled`` per leg symbol that gained a fill.
* **Orders that end without a fill.** A closing order (or any of tastyguard's, ``tg-``) that becomes
  ``Cancelled``, ``Rejected``, ``Expired`` or ``Removed`` with nothing new filled, and was not replaced by another
  order (``replacing-order-id``: a trailing stop's move), is an ``OrderEnded`` per leg symbol: a stop a person
  or the broker cancelled, a stop the venue rejected, the cancel a run was waiting for (decision 61), a person's
  take-profit gone. Each changes what covers the position, so the fast path plans it now instead of at the next
  sweep.
* **Positions.** A ``CurrentPosition`` whose signed quantity differs from the last one seen for that account
  and symbol is a ``PositionChanged`` (a position closed elsewhere, an assignment, a transfer); the same
  quantity again is nothing.
* **Positions read over REST.** The streamer reads every position again after position messages (and after a
  catch-up). A quantity there that differs from the last one the tracker knew for an account it has read is
  a ``PositionChanged`` too (:meth:`FillTracker.positions_read`): that change's own message may still be on its
  way, and once the baseline holds the new quantity the message would look like a duplicate. The message that
  follows is then the duplicate, so each change is one event.

The event only says *where* to look: the fast path plans from a fresh REST read, never from the event (the
position message can lag the fill by seconds). Memory is bounded: at most ``max_orders`` orders are remembered
(oldest forgotten first; forgetting one costs at most a duplicate event, which is harmless).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal

from tastyguard.broker import models as wire
from tastyguard.broker.builders import EXTERNAL_ID_PREFIX
from tastyguard.broker.models.orders import OrderStatus
from tastyguard.broker.models.streamer import Notification, OrderNotification, PositionNotification
from tastyguard.streaming.events import DetailType, StreamEvent, event_id


class FillTracker:
    """Turns notifications into :class:`~tastyguard.streaming.events.StreamEvent`s (see the module docstring)."""

    def __init__(self, clock: Callable[[], datetime], *, max_orders: int = 10_000) -> None:
        self._clock = clock
        self._max_orders = max_orders
        self._orders: OrderedDict[int, tuple[int, frozenset[str], Decimal, bool]] = OrderedDict()
        self._positions: dict[tuple[str, str], Decimal] = {}
        self._read: set[str] = set()  # accounts whose every position a REST read showed (absent = flat)
        self.duplicates = 0

    def positions_read(self, accounts: Iterable[str], positions: Iterable[wire.Position]) -> list[StreamEvent]:
        """Take a REST read of every position of ``accounts`` as the baseline; return its changes as events.

        An account read for the first time only seeds the baseline (nothing is known to compare with). After
        that, a symbol whose quantity differs from the last one known (a symbol not listed is flat) is a
        ``PositionChanged``, with the id its own message would give it.
        """
        read = list(accounts)
        shown: dict[tuple[str, str], wire.Position] = {(p.account_number, p.symbol): p for p in positions}
        events: list[StreamEvent] = []
        for account in read:
            known = {key for key in self._positions if key[0] == account}
            for key in sorted(known | {key for key in shown if key[0] == account}):
                position = shown.get(key)
                quantity = position.signed_quantity if position is not None else Decimal(0)
                before = self._positions.get(key, Decimal(0))
                self._positions[key] = quantity
                if account in self._read and quantity != before:
                    events.append(self._changed(key, quantity, position, before))
        self._read.update(read)
        return events

    def events(self, notifications: Iterable[Notification]) -> list[StreamEvent]:
        """The events of one batch of notifications (in their order)."""
        found: list[StreamEvent] = []
        for notification in notifications:
            if isinstance(notification, OrderNotification):
                found.extend(self._order(notification.data))
            elif isinstance(notification, PositionNotification):
                found.extend(self._position(notification.data))
        return found

    def _order(self, order: wire.Order) -> list[StreamEvent]:
        if order.id is None:
            return []
        updated = int(order.updated_at or 0)
        fill_ids, filled = _fills(order)
        # a replaced order ended too, but its replacement (``replacing-order-id``) covers what it covered
        ended = order.status.is_terminal and order.status is not OrderStatus.FILLED and order.replacing_order_id is None
        before = self._orders.get(order.id)
        if before is not None and before[0] == updated and before[1] == fill_ids and before[2] == filled:
            self.duplicates += 1
            return []
        self._orders[order.id] = (updated, fill_ids, filled, ended)
        self._orders.move_to_end(order.id)
        while len(self._orders) > self._max_orders:
            self._orders.popitem(last=False)
        known_ids, known_qty = (before[1], before[2]) if before is not None else (frozenset(), Decimal(0))
        new_ids = fill_ids - known_ids
        if not new_ids and filled <= known_qty:
            return self._ended(order) if ended and (before is None or not before[3]) else []
        events: list[StreamEvent] = []
        for leg in order.legs:
            leg_ids = frozenset(f.fill_id for f in leg.fills if f.fill_id) - known_ids
            leg_qty = sum((f.quantity for f in leg.fills), Decimal(0))
            if not leg.fills or (not leg_ids and fill_ids):
                continue
            key = sorted(leg_ids) if leg_ids else [str(leg_qty)]
            events.append(
                StreamEvent(
                    DetailType.ORDER_FILLED,
                    order.account_number,
                    leg.symbol,
                    event_id('fill', order.account_number, order.id, leg.symbol, *key),
                    self._clock(),
                    order_id=order.id,
                    quantity=leg_qty,
                    extra={'status': str(order.status)},
                )
            )
        return events

    def _ended(self, order: wire.Order) -> list[StreamEvent]:
        """``OrderEnded`` for each leg of an order that covered a position: a closing one, or tastyguard's."""
        ours = str(order.external_identifier or '').startswith(EXTERNAL_ID_PREFIX)
        symbols = dict.fromkeys(leg.symbol for leg in order.legs if ours or leg.action.is_closing)
        return [
            StreamEvent(
                DetailType.ORDER_ENDED,
                order.account_number,
                symbol,
                event_id('ended', order.account_number, order.id, symbol, order.status),
                self._clock(),
                order_id=order.id,
                extra={'status': str(order.status)},
            )
            for symbol in symbols
        ]

    def _position(self, position: wire.Position) -> list[StreamEvent]:
        key = (position.account_number, position.symbol)
        quantity = position.signed_quantity
        if self._positions.get(key) == quantity:
            self.duplicates += 1
            return []
        self._positions[key] = quantity
        return [self._changed(key, quantity, position)]

    def _changed(
        self, key: tuple[str, str], quantity: Decimal, position: wire.Position | None, before: Decimal | None = None
    ) -> StreamEvent:
        account, symbol = key
        updated = position.updated_at if position is not None else None
        if updated is not None:
            stamp: object = int(updated.timestamp() * 1000)
        else:  # a position a read shows flat has no time of its own: when it was seen, and from what, tell closes apart
            stamp = f'{int(self._clock().timestamp() * 1000)}:{before}'
        return StreamEvent(
            DetailType.POSITION_CHANGED,
            account,
            symbol,
            event_id('position', account, symbol, quantity, stamp),
            self._clock(),
            quantity=quantity,
        )


def _fills(order: wire.Order) -> tuple[frozenset[str], Decimal]:
    ids = frozenset(f.fill_id for leg in order.legs for f in leg.fills if f.fill_id)
    quantity = sum((f.quantity for leg in order.legs for f in leg.fills), Decimal(0))
    return ids, quantity
