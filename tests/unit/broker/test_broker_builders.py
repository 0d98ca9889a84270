"""Order request models and the protective-order builders produce exactly the wire JSON we intend."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from pydantic import ValidationError

from tastyguard import __version__
from tastyguard.broker import (
    InstrumentType,
    InvalidOrderError,
    NewOrder,
    NewOrderLeg,
    OrderAction,
    OrderEdit,
    OrderType,
    PriceEffect,
    TimeInForce,
    limit_order,
    oco_order,
    protective_rounding,
    spread_stop_limit_order,
    stop_limit_order,
    stop_order,
    validate_external_identifier,
)
from tastyguard.ticks import Rounding, Tick

pytestmark = pytest.mark.unit

EQ = InstrumentType.EQUITY
STC = OrderAction.SELL_TO_CLOSE
BTC = OrderAction.BUY_TO_CLOSE
STRICT = {'strict-position-effect-validation': True}
PENNY_PILOT = (Tick(Decimal('0.01'), Decimal('3')), Tick(Decimal('0.05')))


def wire(order: NewOrder) -> str:
    return json.dumps(order.to_wire(), sort_keys=True)


def test_stop_order_wire_json_is_exact() -> None:
    order = stop_order(
        symbol='AAPL',
        instrument_type=EQ,
        action=STC,
        quantity=100,
        stop_trigger=Decimal('105.00'),
        external_identifier='tg-5WT00001-AAPL-1',
    )
    assert order.to_wire() == {
        'time-in-force': 'GTC',
        'order-type': 'Stop',
        'stop-trigger': '105.00',
        'legs': [{'instrument-type': 'Equity', 'symbol': 'AAPL', 'action': 'Sell to Close', 'quantity': 100}],
        'source': f'tastyguard/{__version__}',
        'external-identifier': 'tg-5WT00001-AAPL-1',
        'advanced-instructions': STRICT,
    }
    assert 'price' not in order.to_wire()


def test_stop_limit_for_a_long_is_a_credit_with_the_limit_below_the_trigger() -> None:
    order = stop_limit_order(
        symbol='AAPL',
        instrument_type=EQ,
        action=STC,
        quantity=Decimal(100),
        stop_trigger=Decimal('180.00'),
        limit_price=Decimal('179.50'),
        external_identifier='tg-a',
    )
    body = order.to_wire()
    assert body['order-type'] == 'Stop Limit'
    assert (body['price'], body['price-effect'], body['stop-trigger']) == ('179.50', 'Credit', '180.00')
    assert body['advanced-instructions'] == STRICT


def test_stop_limit_for_a_short_is_a_debit_with_the_limit_above_the_trigger() -> None:
    order = stop_limit_order(
        symbol='TSLA',
        instrument_type=EQ,
        action=BTC,
        quantity=5,
        stop_trigger=Decimal('250'),
        limit_price=Decimal('251'),
        external_identifier='tg-b',
    )
    assert order.price_effect is PriceEffect.DEBIT


@pytest.mark.parametrize(('action', 'limit'), [(STC, '181'), (BTC, '179')])
def test_stop_limit_on_the_wrong_side_of_the_trigger_is_refused(action: OrderAction, limit: str) -> None:
    with pytest.raises(InvalidOrderError, match='trigger'):
        stop_limit_order(
            symbol='AAPL',
            instrument_type=EQ,
            action=action,
            quantity=1,
            stop_trigger=Decimal('180'),
            limit_price=Decimal(limit),
            external_identifier='tg-c',
        )


def test_fractional_equity_quantity_is_sent_as_a_string_and_whole_as_an_int() -> None:
    frac = stop_order(
        symbol='AAPL',
        instrument_type=EQ,
        action=STC,
        quantity=Decimal('0.50'),
        stop_trigger=1,
        external_identifier='tg-d',
    )
    whole = stop_order(
        symbol='AAPL',
        instrument_type=EQ,
        action=STC,
        quantity=Decimal('3.000'),
        stop_trigger=1,
        external_identifier='tg-e',
    )
    assert frac.to_wire()['legs'][0]['quantity'] == '0.5'
    assert whole.to_wire()['legs'][0]['quantity'] == 3


def test_large_prices_never_use_exponent_notation() -> None:
    order = stop_order(
        symbol='BRK/A',
        instrument_type=EQ,
        action=STC,
        quantity=1,
        stop_trigger=Decimal('7E+5'),
        external_identifier='tg-f',
    )
    assert order.to_wire()['stop-trigger'] == '700000'


@pytest.mark.parametrize('action', [OrderAction.SELL_TO_OPEN, OrderAction.BUY_TO_OPEN, OrderAction.SELL])
def test_builders_refuse_opening_actions(action: OrderAction) -> None:
    with pytest.raises(InvalidOrderError, match='closing action'):
        stop_order(
            symbol='AAPL', instrument_type=EQ, action=action, quantity=1, stop_trigger=1, external_identifier='tg-g'
        )


@pytest.mark.parametrize(
    'ident', ['', 'abc', 'TG-upper', 'tg-' + 'x' * 62, 'tg-has space', 'tg-semi;colon', 'tg-ünïcode']
)
def test_external_identifier_rules(ident: str) -> None:
    with pytest.raises(InvalidOrderError):
        validate_external_identifier(ident)


def test_external_identifier_accepts_the_house_format() -> None:
    assert validate_external_identifier('tg-5WT00001:AAPL.g3_x-1') == 'tg-5WT00001:AAPL.g3_x-1'
    assert validate_external_identifier('tg-' + 'x' * 61)


def test_off_tick_prices_are_refused_when_a_tick_table_is_given() -> None:
    with pytest.raises(InvalidOrderError, match='tick'):
        stop_order(
            symbol='AAPL  261218C00200000',
            instrument_type=InstrumentType.EQUITY_OPTION,
            action=STC,
            quantity=1,
            stop_trigger=Decimal('3.02'),
            external_identifier='tg-h',
            ticks=PENNY_PILOT,
        )
    ok = stop_order(
        symbol='AAPL  261218C00200000',
        instrument_type=InstrumentType.EQUITY_OPTION,
        action=STC,
        quantity=1,
        stop_trigger=Decimal('3.05'),
        external_identifier='tg-h',
        ticks=PENNY_PILOT,
    )
    assert ok.stop_trigger == Decimal('3.05')


def test_gtc_ext_is_for_equities_only() -> None:
    eq = stop_order(
        symbol='AAPL',
        instrument_type=EQ,
        action=STC,
        quantity=1,
        stop_trigger=1,
        external_identifier='tg-i',
        time_in_force=TimeInForce.GTC_EXT,
    )
    assert eq.to_wire()['time-in-force'] == 'GTC Ext'
    with pytest.raises(InvalidOrderError, match='equity'):
        stop_order(
            symbol='/ESZ6',
            instrument_type=InstrumentType.FUTURE,
            action=STC,
            quantity=1,
            stop_trigger=1,
            external_identifier='tg-i',
            time_in_force=TimeInForce.GTC_EXT,
        )


@pytest.mark.parametrize('tif', [TimeInForce.IOC, TimeInForce.GTD, TimeInForce.EXT])
def test_other_time_in_force_values_are_refused_for_protective_orders(tif: TimeInForce) -> None:
    with pytest.raises(InvalidOrderError):
        stop_order(
            symbol='AAPL',
            instrument_type=EQ,
            action=STC,
            quantity=1,
            stop_trigger=1,
            external_identifier='tg-j',
            time_in_force=tif,
        )


def test_futures_options_take_no_stops() -> None:
    with pytest.raises(InvalidOrderError, match='futures options'):
        stop_order(
            symbol='./ESZ6 ESZ6  261218P6300',
            instrument_type=InstrumentType.FUTURE_OPTION,
            action=STC,
            quantity=1,
            stop_trigger=5,
            external_identifier='tg-k',
        )


@pytest.mark.parametrize('bad', [Decimal(0), Decimal(-1), Decimal('NaN'), 0.1])
def test_prices_must_be_positive_finite_decimals(bad: object) -> None:
    with pytest.raises(InvalidOrderError):
        stop_order(
            symbol='AAPL',
            instrument_type=EQ,
            action=STC,
            quantity=1,
            stop_trigger=bad,  # type: ignore[arg-type]
            external_identifier='tg-l',
        )


def test_option_and_future_quantities_must_be_whole() -> None:
    with pytest.raises(InvalidOrderError, match='whole'):
        stop_order(
            symbol='/ESZ6',
            instrument_type=InstrumentType.FUTURE,
            action=STC,
            quantity=Decimal('1.5'),
            stop_trigger=1,
            external_identifier='tg-m',
        )


def test_spread_stop_limit_has_all_legs_and_the_given_effect() -> None:
    order = spread_stop_limit_order(
        legs=[
            ('SPY   261218P00520000', InstrumentType.EQUITY_OPTION, BTC, 1),
            ('SPY   261218P00510000', InstrumentType.EQUITY_OPTION, STC, 1),
        ],
        stop_trigger=Decimal('4.00'),
        limit_price=Decimal('4.50'),
        price_effect=PriceEffect.DEBIT,
        external_identifier='tg-spread',
        ticks=PENNY_PILOT,
    )
    body = order.to_wire()
    assert len(body['legs']) == 2 and body['price-effect'] == 'Debit' and body['order-type'] == 'Stop Limit'
    assert body['advanced-instructions'] == STRICT


def test_spread_stop_limit_needs_two_option_legs() -> None:
    with pytest.raises(InvalidOrderError, match='2 to 4'):
        spread_stop_limit_order(
            legs=[('SPY   261218P00520000', InstrumentType.EQUITY_OPTION, BTC, 1)],
            stop_trigger=1,
            limit_price=1,
            price_effect=PriceEffect.DEBIT,
            external_identifier='tg-n',
        )


def test_oco_pairs_a_limit_and_a_stop_on_the_same_legs() -> None:
    take = limit_order(
        symbol='AAPL',
        instrument_type=EQ,
        action=STC,
        quantity=100,
        limit_price=Decimal('200.50'),
        external_identifier='tg-tp',
    )
    stop = stop_order(
        symbol='AAPL',
        instrument_type=EQ,
        action=STC,
        quantity=100,
        stop_trigger=Decimal('150.25'),
        external_identifier='tg-sl',
    )
    body = oco_order(take_profit=take, stop_loss=stop).to_wire()
    assert body['type'] == 'OCO'
    assert [o['order-type'] for o in body['orders']] == ['Limit', 'Stop']
    assert body['orders'][0]['price-effect'] == 'Credit'
    assert all(o['advanced-instructions'] == STRICT for o in body['orders'])


def test_oco_refuses_two_stops_or_different_legs() -> None:
    stop = stop_order(
        symbol='AAPL', instrument_type=EQ, action=STC, quantity=100, stop_trigger=1, external_identifier='tg-s1'
    )
    other = limit_order(
        symbol='MSFT', instrument_type=EQ, action=STC, quantity=100, limit_price=1, external_identifier='tg-s2'
    )
    with pytest.raises(InvalidOrderError, match='Limit'):
        oco_order(take_profit=stop, stop_loss=stop)
    with pytest.raises(InvalidOrderError, match='same legs'):
        oco_order(take_profit=other, stop_loss=stop)


def test_protective_rounding_moves_toward_the_market() -> None:
    assert protective_rounding(STC) is Rounding.UP
    assert protective_rounding(BTC) is Rounding.DOWN


def test_new_order_rejects_a_price_on_a_stop_and_a_missing_trigger() -> None:
    leg = NewOrderLeg(instrument_type=EQ, symbol='AAPL', action=STC, quantity=Decimal(1))
    with pytest.raises(ValidationError, match='must not carry a price'):
        NewOrder(
            time_in_force=TimeInForce.GTC,
            order_type=OrderType.STOP,
            legs=(leg,),
            stop_trigger=Decimal(1),
            price=Decimal(1),
            price_effect=PriceEffect.CREDIT,
        )
    with pytest.raises(ValidationError, match='stop-trigger'):
        NewOrder(time_in_force=TimeInForce.GTC, order_type=OrderType.STOP, legs=(leg,))
    with pytest.raises(ValidationError, match='price-effect'):
        NewOrder(time_in_force=TimeInForce.GTC, order_type=OrderType.LIMIT, legs=(leg,), price=Decimal(1))
    with pytest.raises(ValidationError, match='repeat'):
        NewOrder(time_in_force=TimeInForce.GTC, order_type=OrderType.MARKET, legs=(leg, leg))
    with pytest.raises(ValidationError, match='Extra inputs'):
        NewOrder(time_in_force=TimeInForce.GTC, order_type=OrderType.MARKET, legs=(leg,), pirce=1)  # type: ignore[call-arg]


def test_order_edit_serialises_only_what_changes() -> None:
    edit = OrderEdit(stop_trigger=Decimal('99.50'))
    assert edit.to_wire() == {'stop-trigger': '99.50'}
    with pytest.raises(ValidationError, match='at least one'):
        OrderEdit()
