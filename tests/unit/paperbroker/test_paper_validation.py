"""Order validation and preflight checks, with the API's error codes."""

from __future__ import annotations

from typing import Any

import pytest

from paperbroker.errors import ApiError

pytestmark = pytest.mark.unit


def _error(call: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value


def test_price_on_a_stop_order_is_a_validation_error(desk: Any) -> None:
    desk.position('AAPL', 100, '150')
    body = desk.stop('AAPL', 100, '140.00', price='139.00', **{'price-effect': 'Credit'})

    error = _error(lambda: desk.place(body))

    assert (error.status, error.code) == (422, 'validation_error')
    assert {'domain': 'price', 'reason': 'must be blank for Stop orders'} in (error.errors or [])


def test_negative_price_is_rejected_with_the_price_domain(desk: Any) -> None:
    error = _error(lambda: desk.place(desk.limit('AAPL', 1, '-1.00', 'Buy to Open')))

    assert error.code == 'validation_error'
    assert error.errors == [{'domain': 'price', 'reason': 'does not have a valid value'}]


def test_missing_stop_trigger_and_legs_are_reported_together(desk: Any) -> None:
    error = _error(lambda: desk.place({'time-in-force': 'GTC', 'order-type': 'Stop'}))

    domains = {e['domain'] for e in error.errors or []}
    assert domains == {'stop-trigger', 'legs'}


def test_unknown_keys_are_ignored(desk: Any) -> None:
    desk.quote('AAPL', '190.00', '190.02')
    body = desk.limit('AAPL', 1, '100.00', 'Buy to Open', **{'some-new-field': 1, 'preflight-id': 'x'})

    assert desk.place(body)['order']['status'] == 'Routed'


def test_buying_for_a_credit_fails_preflight(desk: Any) -> None:
    desk.quote('AAPL', '190.00', '190.02')
    body = desk.limit('AAPL', 1, '100.00', 'Buy to Open', **{'price-effect': 'Credit'})

    error = _error(lambda: desk.place(body))

    assert (error.status, error.code) == (422, 'preflight_check_failure')
    assert error.errors == [{'code': 'cant_buy_for_credit', 'message': 'You cannot buy for a credit.'}]


def test_closing_without_a_position_warns_on_dry_run(desk: Any) -> None:
    desk.quote('AAPL', '190.00', '190.02')

    result = desk.dry_run(desk.stop('AAPL', 10, '150.00'))

    assert [w['code'] for w in result['warnings']] == ['closing_with_no_position']
    assert 'updated to a sell to open order' in result['warnings'][0]['message']
    assert result['order']['status'] == 'Received'
    assert result['order']['updated-at'] == 0
    assert 'id' not in result['order']


def test_closing_without_a_position_is_silently_converted_to_opening_when_placed(desk: Any) -> None:
    desk.quote('AAPL', '190.00', '190.02')

    placed = desk.place(desk.stop('AAPL', 10, '150.00'))

    assert placed['order']['legs'][0]['action'] == 'Sell to Open'


def test_strict_position_effect_validation_rejects_closing_without_a_position(desk: Any) -> None:
    desk.quote('AAPL', '190.00', '190.02')
    body = desk.stop('AAPL', 10, '150.00', **{'advanced-instructions': {'strict-position-effect-validation': True}})

    error = _error(lambda: desk.place(body))

    assert error.code == 'preflight_check_failure'
    assert [e['code'] for e in error.errors or []] == ['closing_with_no_position']
    assert desk.broker.core.state.orders == {}


def test_strict_validation_rejects_closing_more_than_is_open(desk: Any) -> None:
    desk.position('AAPL', 50, '150')
    body = desk.stop('AAPL', 100, '150.00', **{'advanced-instructions': {'strict-position-effect-validation': True}})

    error = _error(lambda: desk.place(body))

    assert [e['code'] for e in error.errors or []] == ['closing_quantity_exceeds_position']


def test_stops_on_futures_options_are_not_accepted(desk: Any) -> None:
    desk.quote('./ESZ6 ESZ6  261218P5800', '40.00', '41.00')
    desk.position('./ESZ6 ESZ6  261218P5800', -1, '45.00')
    body = {
        'time-in-force': 'GTC',
        'order-type': 'Stop',
        'stop-trigger': '90.00',
        'legs': [
            {
                'instrument-type': 'Future Option',
                'symbol': './ESZ6 ESZ6  261218P5800',
                'quantity': 1,
                'action': 'Buy to Close',
            },
        ],
    }

    error = _error(lambda: desk.place(body))

    assert [e['code'] for e in error.errors or []] == ['stop_orders_not_supported']


def test_unknown_symbol_fails_preflight(desk: Any) -> None:
    error = _error(lambda: desk.place(desk.limit('NOPE', 1, '1.00', 'Buy to Open')))

    assert [e['code'] for e in error.errors or []] == ['invalid_symbol']


def test_market_orders_cannot_be_gtc(desk: Any) -> None:
    desk.quote('AAPL', '190.00', '190.02')
    body = desk.market('AAPL', 1, 'Buy to Open', **{'time-in-force': 'GTC'})

    error = _error(lambda: desk.place(body))

    assert error.errors == [{'domain': 'time-in-force', 'reason': 'GTC is not allowed for Market orders'}]


def test_invalid_fill_behavior_is_a_validation_error(desk: Any) -> None:
    desk.quote('AAPL', '190.00', '190.02')

    error = _error(lambda: desk.place(desk.market('AAPL', 1, 'Buy to Open', behavior='sometimes')))

    assert error.errors == [{'domain': 'behavior', 'reason': 'does not have a valid value'}]
