"""Helpers for the broker client's paper-broker tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from paperbroker.server import PaperBroker
from tastyguard.broker import InstrumentType, NewOrder, OrderAction, stop_order

ACCOUNT = '5WT00001'


class Sleeps(list[float]):
    """An injected ``sleep`` that records instead of sleeping (the paper broker needs no real waiting)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def ko_stop(ident: str, quantity: int = 100, trigger: str = '55.00') -> NewOrder:
    """A protective stop on the demo account's 300 KO (long, no stop yet)."""
    return stop_order(
        symbol='KO',
        instrument_type=InstrumentType.EQUITY,
        action=OrderAction.SELL_TO_CLOSE,
        quantity=quantity,
        stop_trigger=Decimal(trigger),
        external_identifier=ident,
    )


def orders_with(paper_broker: PaperBroker, external_identifier: str) -> list[dict[str, Any]]:
    """Every order the broker holds with this external identifier, whatever its status."""
    return [o for o in paper_broker.admin.orders(ACCOUNT) if o.get('external-identifier') == external_identifier]
