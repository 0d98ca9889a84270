"""Splits: positions, average prices, cash in lieu, quotes, transactions, options, and the three order policies."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from paperbroker.instruments import occ_symbol
from paperbroker.splits import parse_ratio
from paperbroker.wire_accounts import transaction_json
from tests.unit.paperbroker.conftest import ACCOUNT

pytestmark = pytest.mark.unit

D = Decimal


def _split(desk: Any, symbol: str, ratio: str, orders: str = 'adjust') -> dict[str, Any]:
    return desk.broker.engine.splits.apply(symbol, parse_ratio(ratio), orders).as_json()


def _position(desk: Any, symbol: str) -> Any:
    return desk.broker.core.state.positions[(ACCOUNT, symbol)]


@pytest.mark.parametrize(
    ('text', 'ratio'),
    [
        ('2:1', Fraction(2)),
        ('3-for-2', Fraction(3, 2)),
        ('1:10', Fraction(1, 10)),
        (4, Fraction(4)),
        ('0.5', Fraction(1, 2)),
    ],
)
def test_ratios_are_read_as_new_shares_per_old_share(text: Any, ratio: Fraction) -> None:
    assert parse_ratio(text) == ratio


@pytest.mark.parametrize('text', ['1:1', '0:2', 'two for one', '-2', True])
def test_a_ratio_that_is_no_split_is_refused(text: Any) -> None:
    with pytest.raises(ValueError, match='ratio'):
        parse_ratio(text)


def test_a_forward_split_keeps_the_cost_basis_and_records_two_rows(desk: Any) -> None:
    desk.quote('AAPL', '190.20', '190.24', '190.22')
    desk.position('AAPL', 100, '178.50')

    result = _split(desk, 'AAPL', '2:1')

    position = _position(desk, 'AAPL')
    assert (position.quantity, position.average_open_price) == (D(200), D('89.25'))
    assert result['kind'] == 'Forward Split' and result['positions'][0]['cash-in-lieu'] == '0.0'
    rows = [transaction_json(t) for t in desk.broker.core.state.transactions if t.transaction_type == 'Receive Deliver']
    assert [(r['transaction-sub-type'], r['action'], r['description']) for r in rows] == [
        ('Forward Split', 'Sell to Close', 'Forward split: Close 100.0 AAPL'),
        ('Forward Split', 'Buy to Open', 'Forward split: Open 200.0 AAPL'),
    ]
    assert rows[0]['value'] == rows[1]['value'] == '17850.0'
    quote = desk.broker.core.state.quotes['AAPL']
    assert (quote.bid, quote.ask, quote.last) == (D('95.1'), D('95.12'), D('95.11'))


def test_an_odd_lot_is_paid_out_in_cash(desk: Any) -> None:
    desk.quote('AAPL', '150.00', '150.02', '150.00')
    desk.position('AAPL', 101, '120.00')
    cash = desk.broker.core.state.accounts[ACCOUNT].cash

    _split(desk, 'AAPL', '3:2')

    assert (_position(desk, 'AAPL').quantity, _position(desk, 'AAPL').average_open_price) == (D(151), D(80))
    assert desk.broker.core.state.accounts[ACCOUNT].cash == cash + D('50.00')  # half a share at 100.00
    (lieu,) = [t for t in desk.broker.core.state.transactions if t.sub_type == 'Cash In Lieu']
    assert (lieu.transaction_type, lieu.quantity, lieu.value) == ('Money Movement', D('0.5'), D('50.00'))


def test_a_reverse_split_of_a_short_truncates_toward_zero_and_the_short_pays(desk: Any) -> None:
    desk.quote('F', '10.50', '10.51', '10.50')
    desk.position('F', -105, '12.00')
    cash = desk.broker.core.state.accounts[ACCOUNT].cash

    result = _split(desk, 'F', '1:10')

    assert (_position(desk, 'F').quantity, _position(desk, 'F').average_open_price) == (D(-10), D(120))
    assert result['kind'] == 'Reverse Split'
    assert desk.broker.core.state.accounts[ACCOUNT].cash == cash - D('52.50')


def test_a_reverse_split_below_one_share_closes_the_position(desk: Any) -> None:
    desk.quote('F', '10.50', '10.51', '10.50')
    desk.position('F', 7, '9.00')

    _split(desk, 'F', '1:10')

    assert _position(desk, 'F').quantity == 0


def _stop(symbol: str, quantity: int, trigger: str) -> dict[str, Any]:
    return {
        'time-in-force': 'GTC',
        'order-type': 'Stop',
        'stop-trigger': trigger,
        'legs': [{'instrument-type': 'Equity', 'symbol': symbol, 'quantity': quantity, 'action': 'Sell to Close'}],
    }


def test_adjust_follows_finra_5330_on_a_forward_split(desk: Any) -> None:
    desk.quote('AAPL', '190.20', '190.24')
    desk.position('AAPL', 101, '150.00')
    order_id = desk.place(_stop('AAPL', 101, '135.01'))['order']['id']
    desk.events.clear()

    _split(desk, 'AAPL', '3:2', 'adjust')

    order = desk.order(order_id)
    assert order.status == 'Live' and (order.legs[0].quantity, order.stop_trigger) == (D(151), D('90'))
    assert any(e['type'] == 'Order' and e['data']['id'] == order_id for e in desk.events)


def test_adjust_cancels_on_a_reverse_split(desk: Any) -> None:
    desk.quote('F', '10.50', '10.51')
    desk.position('F', 100, '9.00')
    order_id = desk.place(_stop('F', 100, '8.10'))['order']['id']

    _split(desk, 'F', '1:10', 'adjust')

    assert desk.order(order_id).status == 'Cancelled' and desk.order(order_id).cancel_user_id is None


def test_keep_leaves_the_pre_split_order_to_trigger_against_the_new_market(desk: Any) -> None:
    desk.quote('AAPL', '190.20', '190.24')
    desk.position('AAPL', 100, '150.00')
    order_id = desk.place(_stop('AAPL', 100, '135.00'))['order']['id']

    _split(desk, 'AAPL', '2:1', 'keep')

    assert desk.order(order_id).status == 'Filled'  # the market was open: 135 > the new bid 95.10
    assert desk.held('AAPL') == 100


def test_keep_with_the_market_closed_waits_for_the_open(desk: Any) -> None:
    desk.quote('AAPL', '190.20', '190.24')
    desk.position('AAPL', 100, '150.00')
    order_id = desk.place(_stop('AAPL', 100, '135.00'))['order']['id']
    desk.broker.core.settings.market_open = False

    _split(desk, 'AAPL', '2:1', 'keep')

    assert desk.order(order_id).status == 'Live' and desk.order(order_id).stop_trigger == D(135)


def test_an_integer_split_adjusts_the_options_too(desk: Any) -> None:
    desk.quote('AAPL', '190.20', '190.24', '190.22')
    day = desk.broker.clock.today() + timedelta(days=30)
    old = occ_symbol('AAPL', day, 'C', D(200))
    desk.quote(old, '7.10', '7.20')
    desk.position(old, 2, '6.40')

    _split(desk, 'AAPL', '2:1')

    new = occ_symbol('AAPL', day, 'C', D(100))
    assert desk.held(old) == 0
    assert (_position(desk, new).quantity, _position(desk, new).average_open_price) == (D(4), D('3.2'))
    assert desk.broker.core.state.quotes[new].bid == D('3.55')


def test_a_fractional_split_with_option_positions_is_refused_and_changes_nothing(desk: Any) -> None:
    desk.quote('AAPL', '190.20', '190.24')
    option = occ_symbol('AAPL', desk.broker.clock.today() + timedelta(days=30), 'C', D(200))
    desk.quote(option, '7.10', '7.20')
    desk.position(option, 2, '6.40')
    desk.position('AAPL', 100, '150.00')

    with pytest.raises(ValueError, match='non-standard deliverable'):
        _split(desk, 'AAPL', '3:2')

    assert desk.held('AAPL') == 100 and desk.broker.core.state.quotes['AAPL'].bid == D('190.20')


def test_an_unknown_stock_cannot_split(desk: Any) -> None:
    with pytest.raises(ValueError, match='not a stock the paper broker knows'):
        _split(desk, 'NOPE', '2:1')
