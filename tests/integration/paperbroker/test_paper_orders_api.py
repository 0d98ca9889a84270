"""Orders over HTTP: status codes, response shapes, replace/patch/cancel, complex orders, searches, live list."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from paperbroker.server import PaperBroker

pytestmark = pytest.mark.integration
ORDERS = '/accounts/5WT00001/orders'
STRICT = {'advanced-instructions': {'strict-position-effect-validation': True}}


def test_placing_a_stop_is_201_with_order_effects_and_warnings(api: httpx.Client, stop: Any) -> None:
    body = stop('AAPL', 100, '170.00', source='tastyguard/0.1.0', **{'external-identifier': 'tg-abc'}, **STRICT)

    response = api.post(ORDERS, json=body)

    assert response.status_code == 201
    data = response.json()['data']
    assert set(data) >= {'order', 'buying-power-effect', 'fee-calculation', 'warnings'}
    order = data['order']
    assert (order['status'], order['source'], order['external-identifier']) == ('Routed', 'tastyguard/0.1.0', 'tg-abc')
    assert order['advanced-instructions'] == {'strict-position-effect-validation': True}
    assert isinstance(order['id'], int) and isinstance(order['updated-at'], int)
    assert api.get(f'{ORDERS}/{order["id"]}').json()['data']['status'] == 'Live'


def test_dry_run_has_no_id_and_zero_updated_at(api: httpx.Client, stop: Any) -> None:
    data = api.post(f'{ORDERS}/dry-run', json=stop('AAPL', 100, '170.00')).json()['data']

    assert 'id' not in data['order']
    assert (data['order']['status'], data['order']['updated-at']) == ('Received', 0)
    assert data['warnings'] == []


def test_dry_run_of_a_stale_stop_warns_closing_with_no_position(api: httpx.Client, stop: Any) -> None:
    warnings = api.post(f'{ORDERS}/dry-run', json=stop('INTC', 100, '19.00')).json()['data']['warnings']

    assert warnings[0]['code'] == 'closing_with_no_position'


def test_strict_stale_stop_is_rejected_with_422(api: httpx.Client, stop: Any) -> None:
    response = api.post(ORDERS, json=stop('INTC', 100, '19.00', **STRICT))

    assert response.status_code == 422
    assert response.json()['error']['code'] == 'preflight_check_failure'
    assert response.json()['error']['errors'][0]['code'] == 'closing_with_no_position'


def test_price_on_a_stop_is_a_422_validation_error(api: httpx.Client, stop: Any) -> None:
    response = api.post(ORDERS, json=stop('AAPL', 100, '170.00', price='169.00', **{'price-effect': 'Credit'}))

    assert response.status_code == 422
    assert response.json()['error']['errors'] == [{'domain': 'price', 'reason': 'must be blank for Stop orders'}]


def test_cant_buy_for_credit(api: httpx.Client) -> None:
    body = {
        'time-in-force': 'Day',
        'order-type': 'Limit',
        'price': '100.00',
        'price-effect': 'Credit',
        'legs': [{'instrument-type': 'Equity', 'symbol': 'AAPL', 'quantity': 1, 'action': 'Buy to Open'}],
    }

    response = api.post(ORDERS, json=body)

    assert response.status_code == 422
    assert response.json()['error']['errors'][0]['code'] == 'cant_buy_for_credit'


def test_delete_returns_cancel_requested_and_then_the_order_is_cancelled(api: httpx.Client) -> None:
    response = api.delete(f'{ORDERS}/100001')

    assert response.status_code == 200
    assert response.json()['data']['status'] == 'Cancel Requested'
    order = api.get(f'{ORDERS}/100001').json()['data']
    assert order['status'] == 'Cancelled'
    assert (order['cancel-username'], order['cancel-user-id']) == ('paper-trader', 'U0000012345')


def test_cancelling_a_cancelled_order_is_422_cannot_update_order(api: httpx.Client) -> None:
    api.delete(f'{ORDERS}/100001')

    response = api.delete(f'{ORDERS}/100001')

    assert response.status_code == 422
    assert response.json() == {'error': {'code': 'cannot_update_order', 'message': 'the order could not be cancelled'}}


def test_unknown_order_is_404(api: httpx.Client) -> None:
    assert api.get(f'{ORDERS}/42').status_code == 404


def test_put_returns_the_new_order_in_data_not_data_order(api: httpx.Client, stop: Any) -> None:
    # Given the user's NVDA stop covers 100 of 200 shares; When it is resized with a full body
    response = api.put(f'{ORDERS}/100002', json=stop('NVDA', 200, '118.00'))

    new = response.json()['data']
    assert response.status_code == 200
    assert (new['status'], new['replaces-order-id'], new['legs'][0]['quantity']) == ('Contingent', 100002, 200)
    old = api.get(f'{ORDERS}/100002').json()['data']
    assert (old['status'], old['replacing-order-id'], old['edited']) == ('Cancelled', new['id'], True)
    assert api.get(f'{ORDERS}/{new["id"]}').json()['data']['status'] == 'Live'


def test_put_without_legs_keeps_them_as_the_sdk_sends_it(api: httpx.Client) -> None:
    body = {'time-in-force': 'GTC', 'order-type': 'Stop', 'stop-trigger': '396.00', 'behavior': 'immediate'}

    new = api.put(f'{ORDERS}/100001', json=body).json()['data']

    assert new['legs'][0]['symbol'] == 'MSFT'
    assert new['legs'][0]['quantity'] == 50
    assert new['stop-trigger'] == '396.0'


def test_patch_edits_only_execution_properties(api: httpx.Client) -> None:
    new = api.patch(f'{ORDERS}/100001', json={'stop-trigger': '397.00', 'legs': 'ignored'}).json()['data']

    assert (new['stop-trigger'], new['legs'][0]['symbol']) == ('397.0', 'MSFT')


def test_replacement_keeps_source_and_external_identifier_when_not_given(api: httpx.Client) -> None:
    body = {'time-in-force': 'GTC', 'order-type': 'Stop', 'stop-trigger': '505.00'}

    new = api.put(f'{ORDERS}/100003', json=body).json()['data']

    assert (new['source'], new['external-identifier']) == ('tastyguard/0.1.0', 'tg-demo-spy-1')


def test_live_orders_include_todays_terminal_orders_and_old_working_ones(api: httpx.Client) -> None:
    api.delete(f'{ORDERS}/100006')

    items = api.get(f'{ORDERS}/live').json()['data']['items']

    statuses = {o['id']: o['status'] for o in items}
    assert statuses == {
        100001: 'Live',
        100002: 'Live',
        100003: 'Live',
        100004: 'Live',
        100005: 'Live',
        100006: 'Cancelled',
    }


def test_old_terminal_orders_leave_the_live_list(paper_broker: PaperBroker, api: httpx.Client, relogin: Any) -> None:
    api.delete(f'{ORDERS}/100006')
    paper_broker.admin.advance_clock(2 * 24 * 3600)
    relogin()

    ids = [o['id'] for o in api.get(f'{ORDERS}/live').json()['data']['items']]

    assert 100006 not in ids


def test_order_search_paginates_and_filters(api: httpx.Client) -> None:
    first = api.get(ORDERS, params={'per-page': 4}).json()
    second = api.get(ORDERS, params={'per-page': 4, 'page-offset': 1}).json()
    spy = api.get(ORDERS, params={'underlying-symbol': 'SPY'}).json()['data']['items']
    cancelled = api.get(ORDERS, params={'status[]': ['Cancelled']}).json()['data']['items']

    assert first['pagination'] == {
        'per-page': 4,
        'page-offset': 0,
        'item-offset': 0,
        'total-items': 6,
        'total-pages': 2,
        'current-item-count': 4,
        'previous-link': None,
        'next-link': None,
        'paging-link-template': None,
    }
    assert len(second['data']['items']) == 2
    assert sorted(o['id'] for o in spy) == [100003, 100004]
    assert cancelled == []


def test_oco_children_appear_in_live_orders_and_complex_cancel_cancels_both(api: httpx.Client, stop: Any) -> None:
    limit = {
        'time-in-force': 'GTC',
        'order-type': 'Limit',
        'price': '200.00',
        'price-effect': 'Credit',
        'legs': [{'instrument-type': 'Equity', 'symbol': 'AAPL', 'quantity': 100, 'action': 'Sell to Close'}],
    }
    placed = api.post(
        '/accounts/5WT00001/complex-orders', json={'type': 'OCO', 'orders': [limit, stop('AAPL', 100, '170.00')]}
    )

    group = placed.json()['data']['complex-order']
    assert placed.status_code == 201
    live_ids = {o['id'] for o in api.get(f'{ORDERS}/live').json()['data']['items']}
    assert {o['id'] for o in group['orders']} <= live_ids
    assert api.get('/accounts/5WT00001/complex-orders/live').json()['data']['items'][0]['id'] == group['id']

    cancelled = api.delete(f'/accounts/5WT00001/complex-orders/{group["id"]}').json()['data']

    assert [o['status'] for o in cancelled['orders']] == ['Cancel Requested', 'Cancel Requested']
    final = api.get(f'/accounts/5WT00001/complex-orders/{group["id"]}').json()['data']
    assert [o['status'] for o in final['orders']] == ['Cancelled', 'Cancelled']


def test_bad_oco_is_invalid_oco_order_type_combo(api: httpx.Client, stop: Any) -> None:
    body = {'type': 'OCO', 'orders': [stop('AAPL', 100, '170.00'), stop('AAPL', 100, '160.00')]}

    response = api.post('/accounts/5WT00001/complex-orders', json=body)

    assert response.status_code == 422
    assert response.json()['error']['errors'][0]['code'] == 'invalid_oco_order_type_combo'


def test_quote_move_triggers_a_stop_and_updates_position_and_balance(
    paper_broker: PaperBroker, api: httpx.Client
) -> None:
    cash_before = api.get('/accounts/5WT00001/balances/USD').json()['data']['cash-balance']

    paper_broker.admin.set_quote('MSFT', bid='394.00', ask='394.10')

    order = api.get(f'{ORDERS}/100001').json()['data']
    assert order['status'] == 'Filled'
    assert order['legs'][0]['fills'][0]['fill-price'] == '394.0'
    symbols = [p['symbol'] for p in api.get('/accounts/5WT00001/positions').json()['data']['items']]
    assert 'MSFT' not in symbols
    assert api.get('/accounts/5WT00001/balances/USD').json()['data']['cash-balance'] != cash_before


def test_the_demo_breached_position_would_trigger_a_stop_at_once(api: httpx.Client, stop: Any) -> None:
    # AMD was bought at 160 and trades at 130: a stop 10% below entry (144) is already through the market.
    placed = api.post(ORDERS, json=stop('AMD', 100, '144.00', **STRICT)).json()['data']['order']

    assert api.get(f'{ORDERS}/{placed["id"]}').json()['data']['status'] == 'Filled'
