"""Fixtures for the paper broker's unit tests: an in-memory broker (no server) and order helpers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from paperbroker.broker import Broker
from paperbroker.clock import session_close_after
from paperbroker.model import Order, User
from paperbroker.scenarios import DEMO_ACCOUNT
from paperbroker.seeding import add_position, set_quote

ACCOUNT = DEMO_ACCOUNT


def _clear_of_the_close(broker: Broker) -> None:
    """Tests run on wall-clock time, and a Day order placed in the last hour before 16:00 New York would expire
    while the test advances the clock: start such a desk just after that close instead (time only moves forward)."""
    now = broker.clock.now()
    close = session_close_after(now)
    if close - now < timedelta(hours=1):
        broker.clock.advance((close - now).total_seconds() + 60)
        broker.core.state.expirations_checked_at = broker.clock.now()


class Desk:
    """An in-memory broker (scenario ``empty``) with the calls a test needs, recording streamed notifications."""

    def __init__(self) -> None:
        self.broker = Broker('empty')
        _clear_of_the_close(self.broker)
        self.events: list[dict[str, Any]] = []
        self.accounts = {ACCOUNT}
        self.broker.core.hub.account_listeners.add(self)

    def deliver(self, message: dict[str, Any]) -> None:
        self.events.append(message)

    @property
    def user(self) -> User:
        return self.broker.core.state.users[self.broker.core.user_id]

    def quote(self, symbol: str, bid: str, ask: str, last: str | None = None) -> None:
        quote = set_quote(self.broker.core, symbol, bid=bid, ask=ask, last=last)
        self.broker.engine.quotes_changed([quote])

    def position(self, symbol: str, quantity: int, price: str) -> None:
        add_position(self.broker.core, ACCOUNT, symbol, Decimal(quantity), Decimal(price))

    def held(self, symbol: str) -> Decimal:
        position = self.broker.core.state.positions.get((ACCOUNT, symbol))
        return position.quantity if position else Decimal(0)

    def place(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.broker.engine.submit(ACCOUNT, body, self.user, dry_run=False)

    def dry_run(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.broker.engine.submit(ACCOUNT, body, self.user, dry_run=True)

    def order(self, order_id: int) -> Order:
        return self.broker.core.state.orders[order_id]

    def advance(self, seconds: float) -> None:
        self.broker.advance(seconds)

    def statuses(self, order_id: int) -> list[str]:
        return [e['data']['status'] for e in self.events if e['type'] == 'Order' and e['data'].get('id') == order_id]

    @staticmethod
    def stop(symbol: str, quantity: int, trigger: str, action: str = 'Sell to Close', **extra: Any) -> dict[str, Any]:
        leg = {'instrument-type': 'Equity', 'symbol': symbol, 'quantity': quantity, 'action': action}
        return {'time-in-force': 'GTC', 'order-type': 'Stop', 'stop-trigger': trigger, 'legs': [leg], **extra}

    @staticmethod
    def limit(symbol: str, quantity: int, price: str, action: str, **extra: Any) -> dict[str, Any]:
        effect = 'Debit' if action.startswith('Buy') else 'Credit'
        leg = {'instrument-type': 'Equity', 'symbol': symbol, 'quantity': quantity, 'action': action}
        return {
            'time-in-force': 'GTC',
            'order-type': 'Limit',
            'price': price,
            'price-effect': effect,
            'legs': [leg],
            **extra,
        }

    @staticmethod
    def market(symbol: str, quantity: int, action: str, **extra: Any) -> dict[str, Any]:
        leg = {'instrument-type': 'Equity', 'symbol': symbol, 'quantity': quantity, 'action': action}
        return {'time-in-force': 'Day', 'order-type': 'Market', 'legs': [leg], **extra}


@pytest.fixture
def desk() -> Desk:
    return Desk()
