"""Fan-out of broker events to connected websocket clients (account streamer and DXLink)."""

from __future__ import annotations

from typing import Any, Protocol

from paperbroker.clock import VirtualClock, epoch_ms


class AccountListener(Protocol):
    """An account-streamer connection."""

    accounts: set[str]

    def deliver(self, message: dict[str, Any]) -> None:
        """Queue one notification (must not block)."""


class QuoteListener(Protocol):
    """A DXLink connection."""

    def quote_changed(self, symbol: str) -> None:
        """A symbol's market changed (must not block)."""


class EventHub:
    """Registers live connections and pushes account notifications and quote changes to them."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.account_listeners: set[AccountListener] = set()
        self.quote_listeners: set[QuoteListener] = set()

    def account_event(self, account_number: str, kind: str, data: dict[str, Any]) -> None:
        """Send ``{"type", "data", "timestamp"}`` to every connection subscribed to the account."""
        message = {'type': kind, 'data': data, 'timestamp': epoch_ms(self.clock.now())}
        for listener in list(self.account_listeners):
            if account_number in listener.accounts:
                listener.deliver(message)

    def quote_changed(self, symbol: str) -> None:
        """Tell every DXLink connection that a symbol's market moved."""
        for listener in list(self.quote_listeners):
            listener.quote_changed(symbol)
