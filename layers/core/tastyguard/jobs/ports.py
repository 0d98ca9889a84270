"""The broker operations the jobs use (``TastytradeClient`` satisfies it; tests may pass a fake)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Protocol

from tastyguard.broker import models as wire
from tastyguard.broker.stats import BrokerStats


class Broker(Protocol):
    """What a job may ask of the broker."""

    stats: BrokerStats

    def positions(self, account: str) -> list[wire.Position]: ...

    def live_orders(self, account: str) -> list[wire.Order]: ...

    def get_order(self, account: str, order_id: int) -> wire.Order: ...

    def find_order_by_external_id(
        self, account: str, external_identifier: str, *, since: date | None = None
    ) -> wire.Order | None: ...

    def place_order(self, account: str, order: wire.NewOrder) -> wire.PlacedOrderResponse: ...

    def dry_run_order(self, account: str, order: wire.NewOrder) -> wire.PlacedOrderResponse: ...

    def replace_order(self, account: str, order_id: int, order: wire.NewOrder) -> wire.Order: ...

    def dry_run_replace_order(self, account: str, order_id: int, order: wire.NewOrder) -> wire.PlacedOrderResponse: ...

    def cancel_order(self, account: str, order_id: int) -> wire.Order: ...

    def quotes(self, symbols: Mapping[wire.InstrumentType | str, Iterable[str]]) -> list[wire.Quote]: ...

    def equities(self, symbols: Iterable[str]) -> dict[str, wire.Equity]: ...

    def futures(self, symbols: Iterable[str]) -> dict[str, wire.Future]: ...

    def transactions(self, account: str, *, start_date: date | None = None) -> list[wire.Transaction]: ...
