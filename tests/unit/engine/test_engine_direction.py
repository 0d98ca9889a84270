"""Direction and instrument rules: which side a stop goes on, for stocks, options, futures, futures options."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tastyguard.engine.actions import AlertKind, CoverageStatus, PriceEffect
from tastyguard.engine.types import Holding, InstrumentType, OrderAction, OrderType, TimeInForce
from tastyguard.ticks import Tick
from tests.unit.engine.builders import (
    ACCOUNT,
    NOW,
    alerts,
    coverage,
    future,
    option,
    places,
    quote,
    run,
    stock,
)

pytestmark = pytest.mark.unit
D = Decimal


def test_a_long_stock_without_a_stop_gets_a_sell_to_close_stop_below_rounded_up() -> None:
    # Given 100 AAPL bought at 178.50, trading at 185.20 / 185.25, and no stop
    result = run([stock('AAPL', 100, '178.50')], quotes=[quote('AAPL', '185.20', '185.25')])
    # When planned with the default policy (stop, 10% below entry)
    (place,) = places(result)
    # Then one Sell to Close 100 Stop at 160.65 (GTC) is placed, and the reason says why
    assert place.action is OrderAction.SELL_TO_CLOSE
    assert (place.quantity, place.spec.stop_trigger) == (D(100), D('160.65'))
    assert place.spec.order_type is OrderType.STOP and place.spec.time_in_force is TimeInForce.GTC
    assert place.reason == (
        'AAPL long 100: no stop; placing Sell to Close 100 Stop @ 160.65 '
        '(10% below entry 178.50, rounded up to tick 0.01)'
    )


def test_a_long_stop_off_tick_rounds_up_toward_the_market() -> None:
    result = run([stock('AAPL', 10, '178.55')], quotes=[quote('AAPL', '185.20', '185.25')])
    # 178.55 x 0.9 = 160.695: up to 160.70, never down to 160.69 (the distance is the most a stop can lose)
    assert places(result)[0].spec.stop_trigger == D('160.70')


def test_a_short_stock_gets_a_buy_to_close_stop_above_rounded_down() -> None:
    result = run([stock('TSLA', -50, '200.05')], quotes=[quote('TSLA', '190.00', '190.10')])
    (place,) = places(result)
    # 200.05 x 1.1 = 220.055: down to 220.05
    assert place.action is OrderAction.BUY_TO_CLOSE
    assert (place.quantity, place.spec.stop_trigger) == (D(50), D('220.05'))
    assert 'rounded down to tick 0.01' in place.reason


def test_a_sub_dollar_stock_uses_the_sub_penny_tick() -> None:
    ticks = {'PENY': (Tick(D('0.0001'), D(1)), Tick(D('0.01')))}
    result = run([stock('PENY', 1000, '0.5555')], quotes=[quote('PENY', '0.60', '0.61')], ticks=ticks)
    assert places(result)[0].spec.stop_trigger == D('0.5000')  # 0.49995 rounded up to 0.0001


def test_a_long_option_gets_a_sell_stop_on_premium_at_half_the_premium_by_default() -> None:
    symbol = 'AAPL  270115C00200000'
    result = run([option(symbol, 'AAPL', 2, '4.20')], quotes=[quote(symbol, '4.00', '4.10')])
    (place,) = places(result)
    assert place.action is OrderAction.SELL_TO_CLOSE and place.spec.stop_trigger == D('2.10')
    assert place.spec.legs[0].instrument_type is InstrumentType.EQUITY_OPTION


def test_a_short_option_gets_a_buy_stop_at_a_multiple_of_the_credit() -> None:
    symbol = 'SPY   270115P00500000'
    result = run([option(symbol, 'SPY', -3, '1.25')], quotes=[quote(symbol, '1.10', '1.15')])
    (place,) = places(result)
    assert place.action is OrderAction.BUY_TO_CLOSE and place.spec.stop_trigger == D('2.50')
    assert '2x the entry premium 1.25' in place.reason


def test_an_option_stop_above_three_dollars_uses_the_nickel_tick() -> None:
    symbol = 'SPY   270115P00500000'
    # 3.33 x 3 = 9.99, on the 0.05 tick above 3.00: rounded down (toward the market) to 9.95
    policy = {'instrument_types': {'equity_option': {'credit_multiple': 3}}}
    result = run([option(symbol, 'SPY', -1, '3.33')], quotes=[quote(symbol, '3.30', '3.40')], policy=policy)
    assert places(result)[0].spec.stop_trigger == D('9.95')


def test_a_future_gets_a_stop_on_the_contract_tick() -> None:
    result = run(
        [future('/ESZ5', 2, '5000.00')],
        quotes=[quote('/ESZ5', '5010.00', '5010.25')],
        policy={'instrument_types': {'future': {'distance': '2.1%'}}},
        ticks={'/ESZ5': (Tick(D('0.25')),)},
    )
    (place,) = places(result)
    # 5000 x 0.979 = 4895.00 -> on tick already
    assert place.spec.stop_trigger == D('4895.00') and place.action is OrderAction.SELL_TO_CLOSE


def test_a_futures_option_is_never_given_a_broker_stop_but_a_software_stop() -> None:
    symbol = './ESZ5 E1AZ5 251205P6000'
    holding = Holding(ACCOUNT, symbol, InstrumentType.FUTURE_OPTION, '/ESZ5', D(1), D(20), D(50), NOW, None, '/ES')
    result = run([holding], quotes=[quote(symbol, '19', '21')])
    assert places(result) == []
    (alert,) = alerts(result, AlertKind.SOFTWARE_STOP)
    # 50% below the 20.00 premium; the streamer watches the bid and alerts by default
    assert 'software stop at 10' in alert.reason and 'watches the bid' in alert.reason
    assert 'one critical alert' in alert.reason
    assert coverage(result, symbol).status is CoverageStatus.SOFTWARE_STOP


def test_a_short_futures_option_software_stop_is_a_multiple_of_its_premium_and_can_close_with_a_limit() -> None:
    symbol = './ESZ5 E1AZ5 251205P6000'
    holding = Holding(ACCOUNT, symbol, InstrumentType.FUTURE_OPTION, '/ESZ5', D(-2), D(20), D(50), NOW, None, '/ES')
    result = run(
        [holding],
        quotes=[quote(symbol, '19', '21')],
        policy={'instrument_types': {'future_option': {'on_software_trigger': 'close_limit'}}},
    )
    (alert,) = alerts(result, AlertKind.SOFTWARE_STOP)
    assert 'software stop at 40' in alert.reason and 'watches the ask' in alert.reason
    assert 'limit order 2% through the market' in alert.reason


def test_an_unknown_instrument_type_is_reported_as_unprotectable() -> None:
    holding = Holding(ACCOUNT, 'BOND1', InstrumentType.OTHER, 'BOND1', D(5), D(100))
    result = run([holding], quotes=[quote('BOND1', '99', '101')])
    assert places(result) == [] and alerts(result, AlertKind.UNPROTECTABLE)


def test_a_stop_limit_policy_puts_the_limit_past_the_trigger_rounded_away_from_the_market() -> None:
    policy = {'kind': 'stop_limit', 'limit_offset': '1%'}
    long = run([stock('AAPL', 10, '178.50')], quotes=[quote('AAPL', '185.20', '185.25')], policy=policy)
    short = run([stock('TSLA', -10, '200.00')], quotes=[quote('TSLA', '190.00', '190.10')], policy=policy)
    (sell,) = places(long)
    (buy,) = places(short)
    # 160.65 - 1.6065 = 159.0435 -> down to 159.04; 220.00 + 2.20 = 222.20
    assert (sell.spec.order_type, sell.spec.limit_price, sell.spec.price_effect) == (
        OrderType.STOP_LIMIT,
        D('159.04'),
        PriceEffect.CREDIT,
    )
    assert (buy.spec.limit_price, buy.spec.price_effect) == (D('222.20'), PriceEffect.DEBIT)


def test_gtc_ext_applies_to_equities_and_options_fall_back_to_gtc_with_a_note() -> None:
    symbol = 'AAPL  270115C00200000'
    result = run(
        [stock('AAPL', 10, '178.50'), option(symbol, 'AAPL', 1, '4.20')],
        quotes=[quote('AAPL', '185.20', '185.25'), quote(symbol, '4.00', '4.10')],
        policy={'time_in_force': 'GTC Ext'},
    )
    by_symbol = {p.symbol: p for p in places(result)}
    assert by_symbol['AAPL'].spec.time_in_force is TimeInForce.GTC_EXT
    assert by_symbol[symbol].spec.time_in_force is TimeInForce.GTC
    assert 'GTC Ext is for equities only' in by_symbol[symbol].reason
