"""The broker's moving parts in one place: clock, state, tokens, event hub, settings and the timer queue."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from paperbroker.accounting import value_account
from paperbroker.auth import AuthStore
from paperbroker.clock import NEW_YORK, VirtualClock, epoch_ms
from paperbroker.events import EventHub
from paperbroker.model import BrokerState, Order, Position
from paperbroker.registry import Registry
from paperbroker.wire import balance_json, complex_order_json, order_json, position_json


@dataclass
class Settings:
    """Broker-wide knobs the admin API changes."""

    behavior: str = 'immediate'
    delay: float | None = None
    schedule: datetime | None = None
    force: bool = False  # the default wins over the order's own ``behavior`` key
    cancel_delay: float = 0.0
    replace_delay: float = 0.0
    market_open: bool = True
    session_close: time = time(16, 0)  # New York time; option expirations settle at the close
    early_closes: dict[date, time] = field(default_factory=dict)

    def close_of(self, day: date) -> datetime:
        """The session close of ``day`` in New York: an early close if one is set for it, else ``session_close``."""
        return datetime.combine(day, self.early_closes.get(day, self.session_close), NEW_YORK)

    def as_json(self) -> dict[str, Any]:
        """The settings as the admin API shows them."""
        return {
            'behavior': self.behavior,
            'delay': self.delay,
            'schedule': self.schedule.isoformat() if self.schedule else None,
            'force': self.force,
            'cancel-delay': self.cancel_delay,
            'replace-delay': self.replace_delay,
            'market-open': self.market_open,
            'session-close': self.session_close.strftime('%H:%M'),
            'early-closes': {
                day.isoformat(): close.strftime('%H:%M') for day, close in sorted(self.early_closes.items())
            },
        }


class Timers:
    """Callbacks due at virtual times (delayed fills, partial remainders, pending cancels and replaces)."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, Callable[[], None]]] = []
        self._seq = itertools.count()

    def at(self, due: datetime, action: Callable[[], None]) -> None:
        """Run ``action`` once virtual time reaches ``due``."""
        heapq.heappush(self._heap, (due, next(self._seq), action))

    def run_due(self, now: datetime) -> int:
        """Run every callback due by ``now`` (including ones they schedule for no later than ``now``)."""
        count = 0
        while self._heap and self._heap[0][0] <= now:
            _, _, action = heapq.heappop(self._heap)
            action()
            count += 1
        return count

    def clear(self) -> None:
        """Forget every pending callback."""
        self._heap.clear()

    def __len__(self) -> int:
        return len(self._heap)


class Core:
    """Shared by the engine, the REST routes, the admin API and the websocket endpoints."""

    def __init__(self, clock: VirtualClock, auth: AuthStore) -> None:
        self.clock = clock
        self.auth = auth
        self.hub = EventHub(clock)
        self.settings = Settings()
        self.timers = Timers()
        self.state = BrokerState(registry=Registry(clock.today()))
        self.user_id = ''

    def now(self) -> datetime:
        """The virtual time."""
        return self.clock.now()

    def touch(self, order: Order) -> None:
        """Bump ``updated-at`` (strictly increasing per order, so clients can dedupe by id + updated-at)."""
        order.updated_ms = max(epoch_ms(self.now()), order.updated_ms + 1)

    def emit_order(self, order: Order) -> None:
        """Stream an order's full object (and its complex order, if any)."""
        self.hub.account_event(order.account_number, 'Order', order_json(order))
        if order.complex_order_id is not None and order.complex_order_id in self.state.complex_orders:
            group = self.state.complex_orders[order.complex_order_id]
            self.hub.account_event(order.account_number, 'ComplexOrder', complex_order_json(self.state, group))

    def emit_position(self, position: Position) -> None:
        """Stream a position (quantity 0 once closed)."""
        self.hub.account_event(
            position.account_number,
            'CurrentPosition',
            position_json(self.state, position, self.clock.today(), self.settings),
        )

    def emit_balance(self, account_number: str) -> None:
        """Stream the account's balances."""
        account = self.state.accounts[account_number]
        data = balance_json(account, value_account(self.state, account), self.now(), self.clock.today())
        self.hub.account_event(account_number, 'AccountBalance', data)
