"""Order methods: live orders, search, get, place, dry-run, replace, edit, cancel, complex orders."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from tastyguard.broker.core import ClientCore
from tastyguard.broker.errors import MalformedResponseError
from tastyguard.broker.models.common import InstrumentType, PriceEffect
from tastyguard.broker.models.complex_orders import ComplexOrder, PlacedComplexOrderResponse
from tastyguard.broker.models.orders import Order, OrderStatus, OrderType, PlacedOrderResponse, TimeInForce
from tastyguard.broker.models.requests import NewComplexOrder, NewOrder, OrderEdit
from tastyguard.broker.transport import WriteIntent

logger = logging.getLogger('tastyguard.broker')

SEARCH_PAGE_SIZE = 100
SEARCH_MAX_PAGES = 100


def new_york_today(now: datetime) -> date:
    """Today's date in America/New_York (falls back to the UTC day before when no tz database exists)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # noqa: PLC0415 - only needed to resolve ambiguity

    try:
        return now.astimezone(ZoneInfo('America/New_York')).date()
    except ZoneInfoNotFoundError:
        return (now.astimezone(UTC) - timedelta(days=1)).date()


class OrdersApi(ClientCore):
    """Order reads and writes. Writes never resend on an ambiguous outcome (see ``transport``)."""

    def live_orders(self, account: str) -> list[Order]:
        """Orders created or updated today plus working GTC orders (``GET /accounts/{n}/orders/live``)."""
        return self._get_items(Order, f'/accounts/{self._account(account)}/orders/live')

    def search_orders(
        self,
        account: str,
        *,
        status: Iterable[OrderStatus | str] = (),
        underlying_symbol: str | None = None,
        underlying_instrument_type: InstrumentType | str | None = None,
        futures_symbol: str | None = None,
        start_date: date | None = None,
        end_date: date | None = None,
        start_at: datetime | None = None,
        end_at: datetime | None = None,
        sort: str | None = None,
        per_page: int = SEARCH_PAGE_SIZE,
        max_pages: int = SEARCH_MAX_PAGES,
    ) -> list[Order]:
        """Every matching order, reading all pages (``GET /accounts/{n}/orders``).

        Raises
        ------
        MalformedResponseError
            When there are more than ``max_pages`` pages (partial results are never returned).
        """
        path = f'/accounts/{self._account(account)}/orders'
        params: dict[str, Any] = {'per-page': per_page}
        optional = {
            'status[]': [str(s) for s in status] or None,
            'underlying-symbol': underlying_symbol,
            'underlying-instrument-type': str(underlying_instrument_type) if underlying_instrument_type else None,
            'futures-symbol': futures_symbol,
            'start-date': start_date.isoformat() if start_date else None,
            'end-date': end_date.isoformat() if end_date else None,
            'start-at': start_at.isoformat() if start_at else None,
            'end-at': end_at.isoformat() if end_at else None,
            'sort': sort,
        }
        params.update({key: value for key, value in optional.items() if value is not None})
        params.pop('per-page', None)
        return self._get_pages(Order, path, params, per_page=per_page, max_pages=max_pages, what='order search')

    def get_order(self, account: str, order_id: int) -> Order:
        """One order by id."""
        return self._get_data(Order, f'/accounts/{self._account(account)}/orders/{int(order_id)}')

    def find_order_by_external_id(
        self, account: str, external_identifier: str, *, since: date | None = None
    ) -> Order | None:
        """The order created with ``external_identifier`` (the first one carrying it), or None.

        Looks in the live orders first, then searches orders from ``since`` (default: today in New York).
        This is how an :class:`AmbiguousOrderError` is resolved before anything is sent again. A replace by
        anyone else inherits the identifier into a newer order: the oldest one is the order the write created.
        """
        matches = [o for o in self.live_orders(account) if o.external_identifier == external_identifier]
        if not matches:
            start = since or new_york_today(self._now())
            found = self.search_orders(account, start_date=start)
            matches = [o for o in found if o.external_identifier == external_identifier]
        if not matches:
            return None
        return min(matches, key=lambda o: o.id or 0)

    def place_order(self, account: str, order: NewOrder) -> PlacedOrderResponse:
        """Submit an order (``POST /accounts/{n}/orders``).

        Raises
        ------
        OrderRejectedError
            422: preflight failed (``errors`` carries the codes).
        AmbiguousOrderError
            The outcome is unknown; resolve it with :meth:`find_order_by_external_id`.
        """
        path = f'/accounts/{self._account(account)}/orders'
        write = WriteIntent('place_order', account, order.external_identifier)
        placed = self._write(PlacedOrderResponse, 'POST', path, write, order.to_wire())
        if placed.order.id is None:
            error = MalformedResponseError('the placed order has no id', method='POST', path=path)
            raise self._api.ambiguous(write, error, method='POST', path=path)
        logger.info('placed order %s on %s (%s)', placed.order.id, account, order.external_identifier)
        return placed

    def dry_run_order(self, account: str, order: NewOrder) -> PlacedOrderResponse:
        """Validate an order without submitting it (buying-power effect, fees, warnings)."""
        return self._dry_run(PlacedOrderResponse, f'/accounts/{self._account(account)}/orders/dry-run', order.to_wire())

    def replace_order(self, account: str, order_id: int, order: NewOrder) -> Order:
        """Cancel-replace an order with a full new body (``PUT``); returns the *new* order.

        Quantity may change: this is how a stop is resized. The old order goes ``Replace Requested`` ->
        ``Cancelled``; the new one starts ``Contingent`` until the old one is confirmed cancelled.
        """
        path = f'/accounts/{self._account(account)}/orders/{int(order_id)}'
        write = WriteIntent('replace_order', account, order.external_identifier, int(order_id))
        return self._write(Order, 'PUT', path, write, order.to_wire(), unwrap='order')

    def dry_run_replace_order(self, account: str, order_id: int, order: NewOrder) -> PlacedOrderResponse:
        """Dry-run a replacement (``POST /accounts/{n}/orders/{id}/dry-run``)."""
        path = f'/accounts/{self._account(account)}/orders/{int(order_id)}/dry-run'
        return self._dry_run(PlacedOrderResponse, path, order.to_wire())

    def edit_order(
        self,
        account: str,
        order_id: int,
        *,
        price: Decimal | None = None,
        price_effect: PriceEffect | None = None,
        order_type: OrderType | None = None,
        time_in_force: TimeInForce | None = None,
        stop_trigger: Decimal | None = None,
    ) -> Order:
        """Change price and execution properties (``PATCH``); quantity and legs cannot change here."""
        edit = OrderEdit(
            price=price,
            price_effect=price_effect,
            order_type=order_type,
            time_in_force=time_in_force,
            stop_trigger=stop_trigger,
        )
        path = f'/accounts/{self._account(account)}/orders/{int(order_id)}'
        write = WriteIntent('edit_order', account, order_id=int(order_id))
        return self._write(Order, 'PATCH', path, write, edit.to_wire(), unwrap='order')

    def cancel_order(self, account: str, order_id: int) -> Order:
        """Cancel an order; the answer has status ``Cancel Requested`` (422 if it is already terminal)."""
        path = f'/accounts/{self._account(account)}/orders/{int(order_id)}'
        write = WriteIntent('cancel_order', account, order_id=int(order_id))
        return self._write(Order, 'DELETE', path, write, unwrap='order')

    # -- complex orders ---------------------------------------------------------------------------------

    def place_complex_order(self, account: str, order: NewComplexOrder) -> PlacedComplexOrderResponse:
        """Submit an OCO/OTOCO (``POST /accounts/{n}/complex-orders``)."""
        path = f'/accounts/{self._account(account)}/complex-orders'
        idents = [o.external_identifier for o in order.orders if o.external_identifier]
        write = WriteIntent('place_complex_order', account, idents[0] if idents else None)
        return self._write(PlacedComplexOrderResponse, 'POST', path, write, order.to_wire())

    def dry_run_complex_order(self, account: str, order: NewComplexOrder) -> PlacedComplexOrderResponse:
        """Validate a complex order without submitting it."""
        path = f'/accounts/{self._account(account)}/complex-orders/dry-run'
        return self._dry_run(PlacedComplexOrderResponse, path, order.to_wire())

    def live_complex_orders(self, account: str) -> list[ComplexOrder]:
        """Working and today's complex orders."""
        return self._get_items(ComplexOrder, f'/accounts/{self._account(account)}/complex-orders/live')

    def get_complex_order(self, account: str, complex_order_id: int) -> ComplexOrder:
        """One complex order by its complex id."""
        path = f'/accounts/{self._account(account)}/complex-orders/{int(complex_order_id)}'
        return self._get_data(ComplexOrder, path)

    def cancel_complex_order(self, account: str, complex_order_id: int) -> ComplexOrder:
        """Cancel a complex order by its complex id (not a child order's id)."""
        path = f'/accounts/{self._account(account)}/complex-orders/{int(complex_order_id)}'
        write = WriteIntent('cancel_complex_order', account, order_id=int(complex_order_id))
        return self._write(ComplexOrder, 'DELETE', path, write, unwrap='complex-order')
