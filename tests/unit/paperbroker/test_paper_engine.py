"""The order engine: status transitions, stop triggering, fill behaviours, replace/cancel, OCO, expiry."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from paperbroker.errors import ApiError

pytestmark = pytest.mark.unit


def test_placed_stop_returns_routed_then_goes_live_and_streams_each_step(desk: Any) -> None:
    desk.position('AAPL', 100, '150')
    desk.quote('AAPL', '190.00', '190.02')

    placed = desk.place(desk.stop('AAPL', 100, '170.00'))
    order_id = placed['order']['id']

    assert placed['order']['status'] == 'Routed'
    assert desk.order(order_id).status == 'Live'
    assert desk.statuses(order_id) == ['Received', 'Routed', 'Live']


def test_updated_at_strictly_increases_across_transitions(desk: Any) -> None:
    desk.position('AAPL', 100, '150')
    desk.quote('AAPL', '190.00', '190.02')

    order_id = desk.place(desk.stop('AAPL', 100, '170.00'))['order']['id']

    stamps = [e['data']['updated-at'] for e in desk.events if e['type'] == 'Order' and e['data']['id'] == order_id]
    assert stamps == sorted(set(stamps))


def test_sell_stop_triggers_when_the_bid_reaches_the_trigger_and_fills_at_the_bid(desk: Any) -> None:
    desk.position('AAPL', 100, '150')
    desk.quote('AAPL', '190.00', '190.02')
    order_id = desk.place(desk.stop('AAPL', 100, '170.00'))['order']['id']

    desk.quote('AAPL', '170.01', '170.05')
    assert desk.order(order_id).status == 'Live'
    desk.quote('AAPL', '169.90', '170.00')

    order = desk.order(order_id)
    assert order.status == 'Filled'
    assert order.legs[0].fills[0].price == Decimal('169.90')
    assert desk.held('AAPL') == 0


def test_buy_stop_triggers_on_the_ask(desk: Any) -> None:
    desk.position('TSLA', -30, '250')
    desk.quote('TSLA', '242.00', '242.10')
    order_id = desk.place(desk.stop('TSLA', 30, '260.00', action='Buy to Close'))['order']['id']

    desk.quote('TSLA', '259.95', '260.00')

    assert desk.order(order_id).status == 'Filled'
    assert desk.order(order_id).legs[0].fills[0].price == Decimal('260.00')
    assert desk.held('TSLA') == 0


def test_stop_without_bid_or_ask_falls_back_to_last(desk: Any) -> None:
    desk.position('AAPL', 10, '150')
    desk.quote('AAPL', '190.00', '190.02')
    order_id = desk.place(desk.stop('AAPL', 10, '170.00'))['order']['id']
    quote = desk.broker.core.state.quotes['AAPL']
    quote.bid = None

    desk.quote('AAPL', None, None, last='169.00')  # type: ignore[arg-type]

    assert desk.order(order_id).legs[0].fills[0].price == Decimal('169.00')


def test_triggered_stop_limit_waits_until_the_limit_is_marketable(desk: Any) -> None:
    desk.position('AAPL', 100, '150')
    desk.quote('AAPL', '190.00', '190.02')
    body = desk.stop('AAPL', 100, '180.00', **{'order-type': 'Stop Limit', 'price': '179.50', 'price-effect': 'Credit'})
    order_id = desk.place(body)['order']['id']

    desk.quote('AAPL', '175.00', '175.05')  # gaps through trigger and limit

    order = desk.order(order_id)
    assert order.triggered and order.status == 'Live'
    desk.quote('AAPL', '179.60', '179.70')
    assert order.status == 'Filled'
    assert order.legs[0].fills[0].price == Decimal('179.60')


def test_limit_fills_only_when_marketable_at_its_price_or_better(desk: Any) -> None:
    desk.quote('F', '10.50', '10.51')
    order_id = desk.place(desk.limit('F', 100, '9.00', 'Buy to Open'))['order']['id']
    assert desk.order(order_id).status == 'Live'

    desk.quote('F', '8.90', '8.95')

    assert desk.order(order_id).status == 'Filled'
    assert desk.order(order_id).legs[0].fills[0].price == Decimal('8.95')
    assert desk.held('F') == 100


def test_market_order_fills_at_once_and_moves_cash_and_position(desk: Any) -> None:
    desk.quote('KO', '61.50', '61.52')
    cash_before = desk.broker.core.state.accounts['5WT00001'].cash

    desk.place(desk.market('KO', 100, 'Buy to Open'))

    cash_after = desk.broker.core.state.accounts['5WT00001'].cash
    assert desk.held('KO') == 100
    assert cash_before - cash_after == Decimal('6152') + Decimal('0.08')  # price x qty + clearing fee


@pytest.mark.parametrize(
    ('trades', 'quantity', 'average'),
    [
        ([('Buy to Open', 100, '10.00'), ('Buy to Open', 100, '12.00')], 200, Decimal('11')),  # add
        ([('Buy to Open', 100, '10.00'), ('Sell to Close', 40, '12.00')], 60, Decimal('10')),  # reduce
        ([('Buy to Open', 100, '10.00'), ('Sell to Close', 100, '12.00')], 0, Decimal('10')),  # close
        ([('Buy to Open', 100, '10.00'), ('Sell to Close', 150, '12.00')], -50, Decimal('12')),  # flip
    ],
)
def test_fills_open_add_reduce_close_and_flip_positions(
    desk: Any, trades: list[tuple[str, int, str]], quantity: int, average: Decimal
) -> None:
    for action, size, price in trades:
        desk.quote('XYZ', price, price)
        desk.place(desk.market('XYZ', size, action))

    position = desk.broker.core.state.positions[('5WT00001', 'XYZ')]
    assert position.quantity == quantity
    assert position.average_open_price == average


def test_realized_day_gain_is_booked_on_closing(desk: Any) -> None:
    desk.position('AAPL', 100, '150')
    desk.quote('AAPL', '160.00', '160.02')

    desk.place(desk.market('AAPL', 40, 'Sell to Close'))

    assert desk.broker.core.state.positions[('5WT00001', 'AAPL')].realized_day_gain == Decimal('400')


def test_fill_streams_order_position_and_balance(desk: Any) -> None:
    desk.quote('KO', '61.50', '61.52')

    desk.place(desk.market('KO', 10, 'Buy to Open'))

    kinds = [e['type'] for e in desk.events]
    assert kinds[-3:] == ['Order', 'CurrentPosition', 'AccountBalance']
    assert all(isinstance(e['timestamp'], int) for e in desk.events)


@pytest.mark.parametrize('behavior', ['never', 'reject'])
def test_never_and_reject_behaviours(desk: Any, behavior: str) -> None:
    desk.quote('KO', '61.50', '61.52')

    placed = desk.place(desk.market('KO', 10, 'Buy to Open', behavior=behavior))

    status = desk.order(placed['order']['id']).status
    assert status == ('Live' if behavior == 'never' else 'Rejected')
    assert desk.held('KO') == 0


def test_delayed_fill_happens_when_virtual_time_passes(desk: Any) -> None:
    desk.quote('KO', '61.50', '61.52')
    order_id = desk.place(desk.market('KO', 10, 'Buy to Open', behavior='delayed', delay=30))['order']['id']
    assert desk.order(order_id).status == 'Live'

    desk.advance(29)
    assert desk.order(order_id).status == 'Live'
    desk.advance(1)

    assert desk.order(order_id).status == 'Filled'


def test_delay_may_be_an_iso_duration_as_the_sdk_sends_timedelta(desk: Any) -> None:
    desk.quote('KO', '61.50', '61.52')
    order_id = desk.place(desk.market('KO', 10, 'Buy to Open', behavior='delayed', delay='PT1M'))['order']['id']

    desk.advance(60)

    assert desk.order(order_id).status == 'Filled'


def test_scheduled_fill_happens_at_the_scheduled_time(desk: Any) -> None:
    desk.quote('KO', '61.50', '61.52')
    schedule = (desk.broker.clock.now() + timedelta(minutes=2)).isoformat()
    order_id = desk.place(desk.market('KO', 10, 'Buy to Open', behavior='scheduled', schedule=schedule))['order']['id']
    assert desk.order(order_id).status == 'Live'

    desk.advance(121)

    assert desk.order(order_id).status == 'Filled'


def test_partial_fills_half_now_and_the_rest_one_second_later(desk: Any) -> None:
    desk.quote('KO', '61.50', '61.52')
    order_id = desk.place(desk.market('KO', 100, 'Buy to Open', behavior='partial'))['order']['id']

    order = desk.order(order_id)
    assert (order.status, order.legs[0].remaining, desk.held('KO')) == ('Live', 50, 50)
    desk.advance(1)

    assert (order.status, order.legs[0].remaining, desk.held('KO')) == ('Filled', 0, 100)
    assert [f.quantity for f in order.legs[0].fills] == [50, 50]


def test_broker_default_behaviour_applies_to_orders_without_their_own(desk: Any) -> None:
    desk.broker.core.settings.behavior = 'never'
    desk.quote('KO', '61.50', '61.52')

    own = desk.place(desk.market('KO', 1, 'Buy to Open', behavior='immediate'))['order']['id']
    default = desk.place(desk.market('KO', 1, 'Buy to Open'))['order']['id']

    assert desk.order(own).status == 'Filled'
    assert desk.order(default).status == 'Live'


def test_cancel_goes_through_cancel_requested_and_records_who(desk: Any) -> None:
    desk.position('AAPL', 100, '150')
    desk.quote('AAPL', '190.00', '190.02')
    order_id = desk.place(desk.stop('AAPL', 100, '170.00'))['order']['id']

    answer = desk.broker.engine.cancel('5WT00001', order_id, desk.user)

    assert answer['status'] == 'Cancel Requested'
    order = desk.order(order_id)
    assert order.status == 'Cancelled'
    assert order.cancel_username == 'paper-trader'
    assert order.cancelled_at is not None and order.terminal_at is not None
    assert desk.statuses(order_id)[-2:] == ['Cancel Requested', 'Cancelled']


def test_cancelling_a_terminal_order_is_cannot_update_order(desk: Any) -> None:
    desk.quote('KO', '61.50', '61.52')
    order_id = desk.place(desk.market('KO', 1, 'Buy to Open'))['order']['id']

    with pytest.raises(ApiError) as caught:
        desk.broker.engine.cancel('5WT00001', order_id, desk.user)

    assert (caught.value.status, caught.value.code) == (422, 'cannot_update_order')


def test_a_fill_during_cancel_requested_wins(desk: Any) -> None:
    desk.broker.core.settings.cancel_delay = 5
    desk.position('AAPL', 100, '150')
    desk.quote('AAPL', '190.00', '190.02')
    order_id = desk.place(desk.stop('AAPL', 100, '170.00'))['order']['id']
    desk.broker.engine.cancel('5WT00001', order_id, desk.user)

    desk.quote('AAPL', '160.00', '160.05')
    desk.advance(5)

    assert desk.order(order_id).status == 'Filled'


def test_replace_resizes_a_stop_through_replace_requested_and_contingent(desk: Any) -> None:
    desk.position('AAPL', 150, '150')
    desk.quote('AAPL', '190.00', '190.02')
    old_id = desk.place(desk.stop('AAPL', 100, '170.00'))['order']['id']

    new = desk.broker.engine.replace('5WT00001', old_id, desk.stop('AAPL', 150, '171.00'), desk.user)

    assert new['status'] == 'Contingent'
    assert new['replaces-order-id'] == old_id
    old, replacement = desk.order(old_id), desk.order(new['id'])
    assert (old.status, old.replacing_order_id, old.edited) == ('Cancelled', new['id'], True)
    assert replacement.status == 'Live'
    assert replacement.legs[0].quantity == 150
    assert desk.statuses(old_id)[-2:] == ['Replace Requested', 'Cancelled']
    assert desk.statuses(new['id']) == ['Contingent', 'Received', 'Routed', 'Live']


def test_replace_without_legs_keeps_the_legs_and_patch_edits_the_price(desk: Any) -> None:
    desk.position('AAPL', 100, '150')
    desk.quote('AAPL', '190.00', '190.02')
    old_id = desk.place(desk.stop('AAPL', 100, '170.00'))['order']['id']

    put = desk.broker.engine.replace(
        '5WT00001', old_id, {'time-in-force': 'GTC', 'order-type': 'Stop', 'stop-trigger': '172.00'}, desk.user
    )
    patched = desk.broker.engine.replace('5WT00001', put['id'], {'stop-trigger': '173.00'}, desk.user, patch=True)

    order = desk.order(patched['id'])
    assert (order.stop_trigger, order.legs[0].symbol, order.legs[0].quantity) == (Decimal('173.00'), 'AAPL', 100)


def test_replace_with_different_legs_is_refused(desk: Any) -> None:
    desk.position('AAPL', 100, '150')
    desk.quote('AAPL', '190.00', '190.02')
    desk.quote('MSFT', '400.00', '400.02')
    old_id = desk.place(desk.stop('AAPL', 100, '170.00'))['order']['id']

    with pytest.raises(ApiError) as caught:
        desk.broker.engine.replace('5WT00001', old_id, desk.stop('MSFT', 100, '170.00'), desk.user)

    assert caught.value.code == 'validation_error'


def test_a_fill_of_the_original_aborts_a_pending_replace(desk: Any) -> None:
    desk.broker.core.settings.replace_delay = 5
    desk.position('AAPL', 100, '150')
    desk.quote('AAPL', '190.00', '190.02')
    old_id = desk.place(desk.stop('AAPL', 100, '170.00'))['order']['id']
    new_id = desk.broker.engine.replace('5WT00001', old_id, desk.stop('AAPL', 100, '165.00'), desk.user)['id']
    assert desk.order(old_id).status == 'Replace Requested'

    desk.quote('AAPL', '168.00', '168.05')
    desk.advance(5)

    assert desk.order(old_id).status == 'Filled'
    assert desk.order(new_id).status == 'Cancelled'


def test_oco_fill_of_one_child_cancels_the_other(desk: Any) -> None:
    desk.position('SPY', 10, '500')
    desk.quote('SPY', '575.00', '575.02')
    body = {
        'type': 'OCO',
        'orders': [desk.limit('SPY', 10, '600.00', 'Sell to Close'), desk.stop('SPY', 10, '550.00')],
    }
    group = desk.broker.engine.complex.submit('5WT00001', body, desk.user, dry_run=False)['complex-order']
    limit_id, stop_id = (o['id'] for o in group['orders'])
    assert all(o['complex-order-tag'] == 'OCO::order' for o in group['orders'])

    desk.quote('SPY', '601.00', '601.02')

    assert desk.order(limit_id).status == 'Filled'
    assert desk.order(stop_id).status == 'Cancelled'
    assert desk.broker.core.state.complex_orders[group['id']].terminal_at is not None


def test_oco_needs_one_limit_and_one_stop(desk: Any) -> None:
    desk.quote('SPY', '575.00', '575.02')
    body = {'type': 'OCO', 'orders': [desk.stop('SPY', 1, '550.00'), desk.stop('SPY', 1, '540.00')]}

    with pytest.raises(ApiError) as caught:
        desk.broker.engine.complex.submit('5WT00001', body, desk.user, dry_run=False)

    assert caught.value.code == 'preflight_check_failure'
    assert caught.value.errors and caught.value.errors[0]['code'] == 'invalid_oco_order_type_combo'


def test_otoco_children_wait_for_the_trigger_fill(desk: Any) -> None:
    desk.quote('AAPL', '190.00', '190.02')
    body = {
        'type': 'OTOCO',
        'trigger-order': desk.limit('AAPL', 10, '180.00', 'Buy to Open'),
        'orders': [desk.limit('AAPL', 10, '210.00', 'Sell to Close'), desk.stop('AAPL', 10, '170.00')],
    }
    group = desk.broker.engine.complex.submit('5WT00001', body, desk.user, dry_run=False)['complex-order']
    children = [o['id'] for o in group['orders']]
    assert [desk.order(i).status for i in children] == ['Contingent', 'Contingent']

    desk.quote('AAPL', '179.90', '179.95')

    assert desk.order(group['trigger-order']['id']).status == 'Filled'
    assert [desk.order(i).status for i in children] == ['Live', 'Live']
    assert [leg.action for i in children for leg in desk.order(i).legs] == ['Sell to Close', 'Sell to Close']


def test_stale_non_strict_stop_opens_a_short_when_it_triggers(desk: Any) -> None:
    desk.position('INTC', 100, '20')
    desk.quote('INTC', '21.00', '21.02')
    desk.place(desk.stop('INTC', 100, '19.00'))
    desk.place(desk.market('INTC', 100, 'Sell to Close'))  # the position is closed elsewhere

    desk.quote('INTC', '18.90', '18.95')

    assert desk.held('INTC') == -100


def test_stale_strict_stop_is_rejected_instead_of_opening_a_position(desk: Any) -> None:
    desk.position('INTC', 100, '20')
    desk.quote('INTC', '21.00', '21.02')
    strict = {'advanced-instructions': {'strict-position-effect-validation': True}}
    order_id = desk.place(desk.stop('INTC', 100, '19.00', **strict))['order']['id']
    desk.place(desk.market('INTC', 100, 'Sell to Close'))

    desk.quote('INTC', '18.90', '18.95')

    assert desk.order(order_id).status == 'Rejected'
    assert desk.held('INTC') == 0


def test_off_tick_prices_are_accepted_then_rejected_at_the_venue(desk: Any) -> None:
    desk.position('AAPL', 100, '150')
    desk.quote('AAPL', '190.00', '190.02')

    placed = desk.place(desk.stop('AAPL', 100, '170.005'))

    assert placed['order']['status'] == 'Routed'
    assert desk.order(placed['order']['id']).status == 'Rejected'


def test_day_orders_expire_at_the_session_close(desk: Any) -> None:
    desk.quote('F', '10.50', '10.51')
    order_id = desk.place(desk.limit('F', 100, '9.00', 'Buy to Open', **{'time-in-force': 'Day'}))['order']['id']

    desk.advance(4 * 24 * 3600)

    assert desk.order(order_id).status == 'Expired'


def test_market_closed_holds_orders_in_received_until_it_opens(desk: Any) -> None:
    desk.broker.core.settings.market_open = False
    desk.quote('KO', '61.50', '61.52')

    placed = desk.place(desk.market('KO', 10, 'Buy to Open'))

    assert placed['order']['status'] == 'Received'
    assert [w['code'] for w in placed['warnings']] == ['tif.next_valid_session']
    desk.broker.core.settings.market_open = True
    desk.broker.engine.open_market()
    assert desk.order(placed['order']['id']).status == 'Filled'


def test_a_debit_spread_fills_when_its_natural_price_reaches_the_limit(desk: Any) -> None:
    long_call, short_call = 'AAPL  261218C00200000', 'AAPL  261218C00210000'
    desk.quote(long_call, '7.10', '7.20')
    desk.quote(short_call, '4.00', '4.10')
    legs = [
        {'instrument-type': 'Equity Option', 'symbol': long_call, 'quantity': 2, 'action': 'Buy to Open'},
        {'instrument-type': 'Equity Option', 'symbol': short_call, 'quantity': 2, 'action': 'Sell to Open'},
    ]
    body = {'time-in-force': 'Day', 'order-type': 'Limit', 'price': '3.00', 'price-effect': 'Debit', 'legs': legs}
    order_id = desk.place(body)['order']['id']
    assert desk.order(order_id).status == 'Live'  # natural debit 7.20 - 4.00 = 3.20

    desk.quote(short_call, '4.20', '4.30')  # natural debit 3.00

    assert desk.order(order_id).status == 'Filled'
    assert (desk.held(long_call), desk.held(short_call)) == (2, -2)
    assert desk.order(order_id).size == 2


def test_futures_move_cash_only_by_realized_profit_and_fees(desk: Any) -> None:
    desk.quote('/ESZ6', '6050.00', '6050.25')
    cash = desk.broker.core.state.accounts['5WT00001'].cash
    future = {'instrument-type': 'Future', 'symbol': '/ESZ6', 'quantity': 1}
    desk.place({'time-in-force': 'Day', 'order-type': 'Market', 'legs': [{**future, 'action': 'Buy'}]})
    desk.quote('/ESZ6', '6060.00', '6060.25')

    desk.place({'time-in-force': 'Day', 'order-type': 'Market', 'legs': [{**future, 'action': 'Sell'}]})

    fees = 2 * (Decimal('1.25') + Decimal('0.30') + Decimal('0.02') + Decimal('1.38'))
    assert desk.broker.core.state.accounts['5WT00001'].cash - cash == Decimal('9.75') * 50 - fees


def test_notional_market_buys_the_value_in_fractional_shares(desk: Any) -> None:
    desk.quote('KO', '61.50', '62.50')
    body = {
        'time-in-force': 'Day',
        'order-type': 'Notional Market',
        'value': '100.00',
        'value-effect': 'Debit',
        'legs': [{'instrument-type': 'Equity', 'symbol': 'KO', 'action': 'Buy to Open'}],
    }

    order_id = desk.place(body)['order']['id']

    assert desk.order(order_id).status == 'Filled'
    assert desk.held('KO') == Decimal('1.6')
