"""Every response the paper broker serves has the shape of the recorded sandbox payload for that endpoint.

The recorded payloads (``../shared/reference/payloads``) are the unwrapped ``data`` of real sandbox responses.
For each endpoint with a recording we compare recursively: every key that all recorded samples of that kind
carry must be present, every key we share with the recording must have the same JSON type, and keys the
recording lacks must be on a short, documented allow-list (fields the swagger spec and the SDK models define).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
import pytest

from paperbroker.server import PaperBroker

pytestmark = pytest.mark.integration

PAYLOADS = Path(__file__).resolve().parents[4] / 'shared' / 'reference' / 'payloads'
# Order fields the recordings happen not to show but the swagger Order and the SDK's PlacedOrder define.
ORDER_EXTRAS = {
    'advanced-instructions',
    'cancel-user-id',
    'cancel-username',
    'contingent-status',
    'external-identifier',
    'gtc-date',
    'live-at',
    'preflight-id',
    'source',
    'user-id',
    'username',
    'value',
    'value-effect',
    'reject-reason',
    'replaces-order-id',
    'replacing-order-id',
    'complex-order-id',
    'complex-order-tag',
    'cancelled-at',
    'terminal-at',
    'stop-trigger',
    'price',
    'price-effect',
    'ext-client-order-id',
    'received-at',
}
TERMINAL_ONLY = {'terminal-at', 'cancelled-at'}
PRICE_KEYS = {'price', 'price-effect', 'stop-trigger'}
FUTURE_EXTRAS = {'instrument-type', 'roll-target-symbol'}
OPTION_EXTRAS = {'instrument-type'}


def _type(value: Any) -> str:
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, int):
        return 'integer'
    if isinstance(value, float):
        return 'number'
    return {str: 'string', list: 'array', dict: 'object'}[type(value)]


class Schema:
    """What a set of recorded samples says about a JSON value."""

    def __init__(self, samples: Iterable[Any]) -> None:
        samples = list(samples)
        self.types = {_type(s) for s in samples}
        dicts = [s for s in samples if isinstance(s, dict)]
        keys = {k for d in dicts for k in d}
        self.required = {k for k in keys if all(k in d for d in dicts)} if dicts else set()
        self.fields = {k: Schema(d[k] for d in dicts if k in d) for k in keys}
        items = [i for s in samples if isinstance(s, list) for i in s]
        self.items = Schema(items) if items else None

    def problems(
        self, value: Any, path: str = '$', extras: frozenset[str] = frozenset(), *, required: bool = True
    ) -> list[str]:
        """What is wrong with ``value``; ``required=False`` skips the top level's required-key check."""
        kind = _type(value)
        if kind not in self.types:
            return [f'{path}: {kind}, recorded {sorted(self.types)}']
        found: list[str] = []
        if isinstance(value, dict):
            if required:
                found += [f'{path}.{k}: missing' for k in sorted(self.required - set(value))]
            for key, item in value.items():
                if key in self.fields:
                    found += self.fields[key].problems(item, f'{path}.{key}', extras)
                elif key not in extras:
                    found.append(f'{path}.{key}: not in the recording')
        elif isinstance(value, list) and self.items is not None:
            for index, item in enumerate(value):
                found += self.items.problems(item, f'{path}[{index}]', extras)
        return found


def _recorded(name: str) -> Any:
    return json.loads((PAYLOADS / f'tastytrade_{name}.json').read_text())


def _recorded_orders() -> list[dict[str, Any]]:
    names = ('get_live_orders', 'search_orders', 'search_customer_orders')
    return [item for name in names for item in _recorded(name)['items']]


def _check_orders(orders: list[dict[str, Any]]) -> list[str]:
    """Types against every recorded order; required keys against recorded orders of the same kind.

    The kind is (status, part of a complex order) when the recordings have it, else the status, else just "an
    order". Price keys follow the order type (``price`` + ``price-effect`` for limits, ``stop-trigger`` for stops),
    since the recordings do not cover every type in every status.
    """
    recorded = _recorded_orders()
    everything = Schema(recorded)

    def kind(order: dict[str, Any], depth: int) -> tuple[Any, ...]:
        return (order['status'], 'complex-order-id' in order)[:depth]

    found = []
    for order in orders:
        depth = next(d for d in (2, 1, 0) if any(kind(r, d) == kind(order, d) for r in recorded))
        required = Schema(r for r in recorded if kind(r, depth) == kind(order, depth)).required - PRICE_KEYS
        if not depth:  # every recorded order is terminal: these only exist once an order is
            required -= TERMINAL_ONLY
        if order['order-type'] in {'Limit', 'Stop Limit', 'Marketable Limit'}:
            required |= {'price', 'price-effect'}
        if order['order-type'] in {'Stop', 'Stop Limit'}:
            required |= {'stop-trigger'}
        label = f'order {order.get("id")} ({order["status"]} {order["order-type"]})'
        found += [f'{label}.{k}: missing' for k in sorted(required - set(order))]
        found += everything.problems(order, label, frozenset(ORDER_EXTRAS), required=False)
    return found


@pytest.fixture
def busy_account(paper_broker: PaperBroker, api: httpx.Client) -> PaperBroker:
    """The demo account plus a cancelled, a filled, a rejected, a replaced order and an OCO."""
    api.delete('/accounts/5WT00001/orders/100006')
    api.put(
        '/accounts/5WT00001/orders/100002',
        json={'time-in-force': 'GTC', 'order-type': 'Stop', 'stop-trigger': '119.00'},
    )
    market = {
        'time-in-force': 'Day',
        'order-type': 'Market',
        'legs': [{'instrument-type': 'Equity', 'symbol': 'KO', 'quantity': 10, 'action': 'Buy to Open'}],
    }
    api.post('/accounts/5WT00001/orders', json=market)
    api.post('/accounts/5WT00001/orders', json={**market, 'behavior': 'reject'})
    limit = {
        'time-in-force': 'GTC',
        'order-type': 'Limit',
        'price': '99999.0',
        'price-effect': 'Credit',
        'legs': [{'instrument-type': 'Equity', 'symbol': 'SPY', 'quantity': 1, 'action': 'Sell to Close'}],
    }
    stop = {
        'time-in-force': 'GTC',
        'order-type': 'Stop',
        'stop-trigger': '1.0',
        'legs': [{'instrument-type': 'Equity', 'symbol': 'SPY', 'quantity': 1, 'action': 'Sell to Close'}],
    }
    group = api.post('/accounts/5WT00001/complex-orders', json={'type': 'OCO', 'orders': [limit, stop]}).json()
    api.delete(f'/accounts/5WT00001/complex-orders/{group["data"]["complex-order"]["id"]}')
    return paper_broker


def test_live_orders_match_the_recorded_live_orders(busy_account: PaperBroker, api: httpx.Client) -> None:
    orders = api.get('/accounts/5WT00001/orders/live').json()['data']['items']

    assert {o['status'] for o in orders} >= {'Live', 'Cancelled', 'Filled', 'Rejected'}
    assert _check_orders(orders) == []


def test_order_search_matches_the_recorded_searches(busy_account: PaperBroker, api: httpx.Client) -> None:
    account = api.get('/accounts/5WT00001/orders', params={'per-page': 100}).json()['data']['items']
    customer = api.get('/customers/me/orders', params={'per-page': 100}).json()['data']['items']

    assert _check_orders(account) == []
    assert _check_orders(customer) == []


def test_complex_dry_run_matches_the_recorded_oco_dry_run(api: httpx.Client) -> None:
    # The recording is an OCO on SPY whose limit child sells to open and whose stop sells to close.
    limit = {
        'time-in-force': 'GTC',
        'order-type': 'Limit',
        'price': '99999.0',
        'price-effect': 'Credit',
        'legs': [{'instrument-type': 'Equity', 'symbol': 'SPY', 'quantity': 1, 'action': 'Sell to Open'}],
    }
    stop = {
        'time-in-force': 'GTC',
        'order-type': 'Stop',
        'stop-trigger': '1.0',
        'legs': [{'instrument-type': 'Equity', 'symbol': 'INTC', 'quantity': 1, 'action': 'Sell to Close'}],
    }
    stop['legs'][0]['symbol'] = 'SPY'

    ours = api.post('/accounts/5WT00001/complex-orders/dry-run', json={'type': 'OCO', 'orders': [limit, stop]})

    recorded = _recorded('dry_run_complex_order')
    assert Schema([recorded]).problems(ours.json()['data']) == []


def test_closing_with_no_position_warning_has_the_recorded_shape(api: httpx.Client) -> None:
    stop = {
        'time-in-force': 'GTC',
        'order-type': 'Stop',
        'stop-trigger': '19.0',
        'legs': [{'instrument-type': 'Equity', 'symbol': 'INTC', 'quantity': 1, 'action': 'Sell to Close'}],
    }

    warnings = api.post('/accounts/5WT00001/orders/dry-run', json=stop).json()['data']['warnings']

    recorded = next(
        w for w in _recorded('dry_run_complex_order')['warnings'] if w['code'] == 'closing_with_no_position'
    )
    assert warnings == [recorded]


def test_quotes_match_the_recorded_market_data(api: httpx.Client) -> None:
    ours = api.get('/market-data/by-type', params={'equity': ['AAPL', 'SPY', 'KO']}).json()['data']['items']

    recorded = [i for i in _recorded('get_quote')['items'] if i['instrument-type'] == 'Equity' and 'bid' in i]
    schema = Schema(recorded)
    assert [p for item in ours for p in schema.problems(item, item['symbol'])] == []


def test_futures_match_the_recorded_futures(api: httpx.Client) -> None:
    listed = api.get('/instruments/futures', params={'symbol[]': ['/ESZ6']}).json()['data']['items']
    single = api.get('/instruments/futures/ESZ6').json()['data']

    schema = Schema(_recorded('get_futures')['items'])
    extras = frozenset(FUTURE_EXTRAS)
    assert schema.problems(listed[0], '/ESZ6', extras) == []
    assert schema.problems(single, '/ESZ6', extras) == []


def test_future_product_matches_the_recording(api: httpx.Client) -> None:
    ours = api.get('/instruments/future-products/CME/ES').json()['data']

    assert Schema([_recorded('get_future_product')]).problems(ours) == []


def test_futures_option_matches_the_recorded_futures_option_chain(api: httpx.Client) -> None:
    ours = api.get('/instruments/future-options/.%2FESZ6%20ESZ6%20%20261218P5800').json()['data']

    schema = Schema(_recorded('get_futures_option_chain_full')['items'])
    assert schema.problems(ours, 'future option', frozenset({'instrument-type'})) == []


def test_option_chain_and_equity_option_match_the_recorded_chain(api: httpx.Client) -> None:
    chain = api.get('/option-chains/AAPL').json()['data']['items']
    single = api.get('/instruments/equity-options/AAPL%20%20261218C00200000').json()['data']

    schema = Schema(_recorded('get_option_chain_full')['items'])
    extras = frozenset(OPTION_EXTRAS)
    assert [p for item in chain for p in schema.problems(item, item['symbol'], extras)] == []
    assert schema.problems(single, 'option', extras) == []


def test_nested_option_chain_matches_the_recording(api: httpx.Client) -> None:
    ours = api.get('/option-chains/AAPL/nested').json()['data']

    assert Schema([_recorded('get_option_chain_nested')]).problems(ours) == []


def test_transactions_match_the_recorded_transactions(api: httpx.Client) -> None:
    market = {
        'time-in-force': 'Day',
        'order-type': 'Market',
        'legs': [
            {
                'instrument-type': 'Equity Option',
                'symbol': 'AAPL  261218C00200000',
                'quantity': 1,
                'action': 'Buy to Open',
            }
        ],
    }
    api.post('/accounts/5WT00001/orders', json=market)

    items = api.get('/accounts/5WT00001/transactions').json()['data']['items']

    recorded = _recorded('get_transactions')['items']
    by_type: dict[str, list[dict[str, Any]]] = {}
    for item in recorded:
        by_type.setdefault(item['transaction-type'], []).append(item)
    assert {t['transaction-type'] for t in items} == {'Trade', 'Money Movement'}
    assert [p for t in items for p in Schema(by_type[t['transaction-type']]).problems(t, str(t['id']))] == []


def test_the_schema_check_catches_missing_keys_and_wrong_types() -> None:
    schema = Schema([{'size': 1, 'price': '1.0', 'legs': [{'quantity': 1}]}])

    assert schema.problems({'size': '1', 'legs': [{'quantity': 1.5}]}) == [
        '$.price: missing',
        "$.size: string, recorded ['integer']",
        "$.legs[0].quantity: number, recorded ['integer']",
    ]
