"""A person at the broker: trades and order edits sent straight to the paper broker's REST API.

The person uses the same login as tastyguard (as a real trader does from the desktop or the phone), never
tastyguard's client or its identifiers, so every order they create, edit or cancel is theirs.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from paperbroker.server import PaperBroker
from tastyguard.broker import TastytradeClient
from tastyguard.broker.tokens import AccessToken


class Person:
    """Raw HTTP as the account holder."""

    def __init__(
        self, broker: PaperBroker, client: TastytradeClient, account: str, user_agent: str = 'person-at-the-desk/1.0'
    ) -> None:
        self._client = client
        self._http = httpx.Client(base_url=broker.api_url, timeout=10.0, headers={'User-Agent': user_agent})
        self.account = account

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        token = self._client.access_token()
        response = self._http.request(method, path, json=body, headers=_bearer(token))
        if response.status_code == 401:  # a revoked token: the app logs in again, once
            token = self._client.replace_access_token(token)
            response = self._http.request(method, path, json=body, headers=_bearer(token))
        if response.status_code >= 400:
            raise PersonActionError(f'{method} {path} -> {response.status_code}: {response.text[:300]}')
        data: dict[str, Any] = response.json().get('data', {})
        return data

    def place(self, order: dict[str, Any]) -> dict[str, Any]:
        """Place an order (``POST /accounts/{n}/orders``); returns the order."""
        placed = self._call('POST', f'/accounts/{self.account}/orders', order)
        result: dict[str, Any] = placed['order']
        return result

    def trade(self, symbol: str, quantity: int | str, action: str, instrument_type: str = 'Equity') -> dict[str, Any]:
        """A market order (``Buy to Open``, ``Sell to Close``, ...)."""
        leg = {'instrument-type': instrument_type, 'symbol': symbol, 'action': action, 'quantity': str(quantity)}
        return self.place({'order-type': 'Market', 'time-in-force': 'Day', 'legs': [leg]})

    def stop(self, symbol: str, quantity: int | str, trigger: str, action: str = 'Sell to Close') -> dict[str, Any]:
        """The person's own GTC stop."""
        leg = {'instrument-type': 'Equity', 'symbol': symbol, 'action': action, 'quantity': str(quantity)}
        return self.place({'order-type': 'Stop', 'time-in-force': 'GTC', 'stop-trigger': trigger, 'legs': [leg]})

    def edit(self, order_id: int | str, changes: dict[str, Any], *, patch: bool = False) -> dict[str, Any]:
        """Replace an order (``PUT`` with a full body, or ``PATCH`` with only the changed fields)."""
        return self._call('PATCH' if patch else 'PUT', f'/accounts/{self.account}/orders/{order_id}', changes)

    def cancel(self, order_id: int | str) -> dict[str, Any]:
        """Cancel an order."""
        return self._call('DELETE', f'/accounts/{self.account}/orders/{order_id}')

    def positions(self) -> list[dict[str, Any]]:
        """The account's positions, as the person's app reads them."""
        items: list[dict[str, Any]] = self._call('GET', f'/accounts/{self.account}/positions').get('items', [])
        return items

    def complex(self, body: dict[str, Any]) -> dict[str, Any]:
        """Place an OCO / OTO / OTOCO (``POST /accounts/{n}/complex-orders``)."""
        return self._call('POST', f'/accounts/{self.account}/complex-orders', body)


def _bearer(token: AccessToken) -> dict[str, str]:
    return {'Authorization': f'Bearer {token.value.get_secret_value()}'}


class PersonActionError(RuntimeError):
    """The broker refused what the person tried (the test decides whether that matters)."""


def take_profit(symbol: str, quantity: int | str, price: str, action: str = 'Sell to Close') -> dict[str, Any]:
    """A GTC closing limit order body."""
    leg = {'instrument-type': 'Equity', 'symbol': symbol, 'action': action, 'quantity': str(quantity)}
    effect = 'Credit' if action.startswith('Sell') else 'Debit'
    return {'order-type': 'Limit', 'time-in-force': 'GTC', 'price': price, 'price-effect': effect, 'legs': [leg]}


def remaining(order: dict[str, Any]) -> Decimal:
    """An order's remaining quantity (first leg)."""
    leg = order['legs'][0]
    return Decimal(str(leg.get('remaining-quantity', leg['quantity'])))
