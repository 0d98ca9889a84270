"""A small synchronous client of the ``/_paper/*`` admin API, for tests and tools."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import httpx

from paperbroker.tastyware.admin_client import TastywareAdmin

Number = int | float | str | Decimal


def _kebab(values: dict[str, Any]) -> dict[str, Any]:
    return {key.replace('_', '-'): (str(v) if isinstance(v, Decimal) else v) for key, v in values.items()}


class AdminError(RuntimeError):
    """The admin API refused a request; the message carries its explanation."""


class AdminClient:
    """Wraps ``/_paper/*``. Every method returns the decoded JSON answer."""

    def __init__(self, api_url: str, timeout: float = 10.0) -> None:
        self._http = httpx.Client(
            base_url=f'{api_url}/_paper', timeout=timeout, headers={'User-Agent': 'paperbroker-admin/1.0'}
        )

    def close(self) -> None:
        self._http.close()

    @property
    def tastyware(self) -> TastywareAdmin:
        """The tastyware paper API's admin calls: API keys, rate limit, restrictions, default delay."""
        return TastywareAdmin(self._call)

    def _call(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        try:
            response = self._http.request(method, path, json=body, params=params)
        except httpx.TransportError as exc:
            raise AdminError(f'{method} /_paper{path}: cannot reach the paper broker ({exc})') from exc
        if response.status_code >= 400:
            raise AdminError(f'{method} /_paper{path} -> {response.status_code}: {response.text}')
        return response.json()

    # --- reading -------------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Every account with positions, orders, complex orders and balances (API shapes), plus quotes."""
        result: dict[str, Any] = self._call('GET', '/state')
        return result

    def info(self) -> dict[str, Any]:
        """The ready line: URLs, credentials and the seeded user's account numbers."""
        result: dict[str, Any] = self._call('GET', '/info')
        return result

    def account(self, account_number: str) -> dict[str, Any]:
        """One account's entry of ``state()``."""
        for entry in self.state()['accounts']:
            if entry['account']['account-number'] == account_number:
                return dict(entry)
        raise AdminError(f'no account {account_number}')

    def positions(self, account_number: str) -> list[dict[str, Any]]:
        return list(self.account(account_number)['positions'])

    def orders(self, account_number: str, *, status: str | None = None) -> list[dict[str, Any]]:
        orders = self.account(account_number)['orders']
        return [o for o in orders if status is None or o['status'] == status]

    def working_orders(self, account_number: str) -> list[dict[str, Any]]:
        working = {'Received', 'Routed', 'In Flight', 'Live', 'Cancel Requested', 'Replace Requested', 'Contingent'}
        return [o for o in self.orders(account_number) if o['status'] in working]

    # --- market, seeding -----------------------------------------------------------------------------------
    def set_quotes(self, quotes: list[dict[str, Any]]) -> dict[str, Any]:
        """Move markets (``[{"symbol", "bid", "ask", "last"}]``): triggers stops and streams quotes."""
        result: dict[str, Any] = self._call('POST', '/quotes', {'quotes': [_kebab(q) for q in quotes]})
        return result

    def set_quote(
        self,
        symbol: str,
        bid: Number | None = None,
        ask: Number | None = None,
        last: Number | None = None,
        *,
        clear: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Move one market; ``None`` leaves a side as it is, ``clear=['ask']`` empties it (no offers)."""
        quote: dict[str, Any] = {
            k: str(v) for k, v in {'symbol': symbol, 'bid': bid, 'ask': ask, 'last': last}.items() if v is not None
        }
        if clear:
            quote['clear'] = list(clear)
        return self.set_quotes([quote])

    def add_account(self, **fields: Any) -> dict[str, Any]:
        """Open an account: ``account_number``, ``nickname``, ``margin_or_cash``, ``cash``, ``owner`` ('me'/'other')."""
        result: dict[str, Any] = self._call('POST', '/accounts', _kebab(fields))
        return result

    def add_position(
        self, account_number: str, symbol: str, quantity: Number, average_open_price: Number, **extra: Any
    ) -> dict[str, Any]:
        """Seed a position (negative quantity = short); ``bid``/``ask``/``last`` also set its quote."""
        body = _kebab(
            {
                'account_number': account_number,
                'symbol': symbol,
                'quantity': str(quantity),
                'average_open_price': str(average_open_price),
                **extra,
            }
        )
        result: dict[str, Any] = self._call('POST', '/positions', body)
        return result

    def remove_position(self, account_number: str, symbol: str) -> dict[str, Any]:
        """Make a position disappear without a trade (e.g. closed elsewhere)."""
        result: dict[str, Any] = self._call(
            'DELETE', '/positions', {'account-number': account_number, 'symbol': symbol}
        )
        return result

    def add_order(
        self, account_number: str, order: dict[str, Any], *, kind: str = 'human', received_at: str | None = None
    ) -> dict[str, Any]:
        """Seed a working order as a person's (``human``) or tastyguard's (``tastyguard``) order."""
        body: dict[str, Any] = {'account-number': account_number, 'order': order, 'kind': kind}
        if received_at:
            body['received-at'] = received_at
        result: dict[str, Any] = self._call('POST', '/orders', body)
        return result

    def deposit(self, account_number: str, amount: Number) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            'POST', '/deposit', {'account-number': account_number, 'amount': str(amount)}
        )
        return result

    # --- events without an order: expirations, exercises, assignments, splits, sessions ----------------------
    def expire(self, date: str | None = None, *, instructions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Settle every option expiring up to ``date`` (default: today) now; ``instructions`` as below."""
        body: dict[str, Any] = {'instructions': [_kebab(i) for i in instructions or []]}
        if date:
            body['date'] = date
        result: dict[str, Any] = self._call('POST', '/expirations', body)
        return result

    def instruct(self, account_number: str, symbol: str, action: str) -> dict[str, Any]:
        """A holder's instruction for the next expiration: ``exercise``, ``expire`` or ``assign``."""
        body = {'account-number': account_number, 'symbol': symbol, 'action': action}
        result: dict[str, Any] = self._call('POST', '/expiration-instructions', body)
        return result

    def exercise(self, account_number: str, symbol: str, quantity: Number | None = None) -> dict[str, Any]:
        """Exercise a long option now (all of it unless ``quantity`` is given)."""
        return self._early('/exercise', account_number, symbol, quantity)

    def assign(self, account_number: str, symbol: str, quantity: Number | None = None) -> dict[str, Any]:
        """Assign a short option now (all of it unless ``quantity`` is given)."""
        return self._early('/assign', account_number, symbol, quantity)

    def _early(self, path: str, account_number: str, symbol: str, quantity: Number | None) -> dict[str, Any]:
        body: dict[str, Any] = {'account-number': account_number, 'symbol': symbol}
        if quantity is not None:
            body['quantity'] = str(quantity)
        result: dict[str, Any] = self._call('POST', path, body)
        return result

    def split(self, symbol: str, ratio: str, *, orders: str = 'adjust') -> dict[str, Any]:
        """Split (``'2:1'``) or reverse-split (``'1:10'``) a stock; ``orders``: adjust, cancel or keep."""
        result: dict[str, Any] = self._call('POST', '/split', {'symbol': symbol, 'ratio': ratio, 'orders': orders})
        return result

    def set_session(self, *, close: str | None = None, early_closes: dict[str, str] | None = None) -> dict[str, Any]:
        """Session close time (``'16:00'``) and early closes (``{'2026-11-27': '13:00'}``)."""
        body: dict[str, Any] = {}
        if close:
            body['close'] = close
        if early_closes:
            body['early-closes'] = early_closes
        result: dict[str, Any] = self._call('POST', '/session', body)
        return result

    def next_session(self, to: str = 'open') -> dict[str, Any]:
        """Move the clock to the next session ``open`` (or ``close``), settling what becomes due."""
        result: dict[str, Any] = self._call('POST', '/next-session', {'to': to})
        return result

    # --- behaviour, faults, clock --------------------------------------------------------------------------
    def set_fill_behavior(
        self,
        behavior: str = 'immediate',
        *,
        delay: float | None = None,
        schedule: str | None = None,
        force: bool = False,
        cancel_delay: float = 0.0,
        replace_delay: float = 0.0,
    ) -> dict[str, Any]:
        body = {
            'behavior': behavior,
            'delay': delay,
            'schedule': schedule,
            'force': force,
            'cancel-delay': cancel_delay,
            'replace-delay': replace_delay,
        }
        result: dict[str, Any] = self._call('POST', '/fill-behavior', body)
        return result

    def set_market_open(self, is_open: bool) -> dict[str, Any]:
        result: dict[str, Any] = self._call('POST', '/market', {'open': is_open})
        return result

    def fault(self, kind: str, *, method: str = '*', path: str = '.*', count: int = 1, **extra: Any) -> dict[str, Any]:
        """Arm a fault, e.g. ``fault('status', method='POST', path='/orders$', status=429, retry_after=2)``."""
        body = {'kind': kind, 'method': method, 'path': path, 'count': count, **_kebab(extra)}
        result: dict[str, Any] = self._call('POST', '/faults', body)
        return result

    def faults(self) -> list[dict[str, Any]]:
        return list(self._call('GET', '/faults')['faults'])

    def clear_faults(self) -> None:
        self._call('DELETE', '/faults')

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move virtual time forward and process everything due (fills, expiries, token lifetimes)."""
        result: dict[str, Any] = self._call('POST', '/clock', {'advance_seconds': seconds})
        return result

    def clock(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call('GET', '/clock')
        return result

    def requests(self, *, method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        """Non-admin requests seen so far (optionally filtered by method and a path regex)."""
        params = {k: v for k, v in {'method': method, 'path': path}.items() if v}
        return list(self._call('GET', '/requests', params=params)['requests'])

    def clear_requests(self) -> None:
        self._call('DELETE', '/requests')

    def reset(self, scenario: str = 'demo', **options: Any) -> dict[str, Any]:
        """Restore a scenario (same credentials); clears faults, the request log, settings and the clock offset."""
        result: dict[str, Any] = self._call('POST', '/reset', {'scenario': scenario, **options})
        return result

    # --- customers and rate limits ---------------------------------------------------------------------------
    def customers(self) -> list[dict[str, Any]]:
        """Every customer with their credentials and account numbers."""
        return list(self._call('GET', '/customers')['customers'])

    def add_customer(self, **fields: Any) -> dict[str, Any]:
        """A new customer with a grant of their own (``user_id``, ``username`` optional)."""
        result: dict[str, Any] = self._call('POST', '/customers', _kebab(fields))
        return result

    def revoke_customer(self, user_id: str, scope: str = 'grant') -> dict[str, Any]:
        """Revoke one customer's grant (``invalid_grant`` from then on) or only their access tokens."""
        result: dict[str, Any] = self._call('POST', f'/customers/{user_id}/revoke', {'scope': scope})
        return result

    def rate_limits(
        self, *, enabled: bool = True, global_per_second: float | None = None, **families: float
    ) -> dict[str, Any]:
        """Turn per-token rate limits on (published limits unless given) or off."""
        body: dict[str, Any] = {'enabled': enabled, 'families': {k.replace('_', '-'): v for k, v in families.items()}}
        if global_per_second is not None:
            body['global'] = global_per_second
        result: dict[str, Any] = self._call('POST', '/rate-limits', body)
        return result
