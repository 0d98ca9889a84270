"""Multi-leg option structures: detection, alert-only by default, one multi-leg Stop Limit when configured."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tastyguard.engine.actions import AlertKind, CoverageStatus, PriceEffect
from tastyguard.engine.structures import find_structures
from tastyguard.engine.types import OrderAction, OrderLeg, OrderStatus, OrderType, TimeInForce, WorkingOrder
from tastyguard.ticks import PENNY
from tests.unit.engine.builders import (
    alerts,
    cancels,
    coverage,
    option,
    places,
    quote,
    replaces,
    run,
    sell_stop,
    stock,
)

pytestmark = pytest.mark.unit
D = Decimal
LONG_CALL, SHORT_CALL = 'SPY   270115C00500000', 'SPY   270115C00510000'
VERTICAL = [option(LONG_CALL, 'SPY', 2, '10.00'), option(SHORT_CALL, 'SPY', -2, '6.00')]
VERTICAL_QUOTES = [quote(LONG_CALL, '11.00', '11.20'), quote(SHORT_CALL, '6.50', '6.70')]
STOP_LIMIT = {'instrument_types': {'spread': {'kind': 'stop_limit', 'limit_offset': '0.05'}}}


def test_options_on_one_underlying_held_both_ways_form_a_structure_and_same_way_ones_do_not() -> None:
    strangle = [option('QQQ   270115C00500000', 'QQQ', -1, '2'), option('QQQ   270115P00400000', 'QQQ', -1, '2')]
    covered_call = [stock('SPY', 100, '500'), option(SHORT_CALL, 'SPY', -1, '6')]
    assert set(find_structures([*VERTICAL, *strangle])) == {'SPY'}
    assert find_structures([*strangle, *covered_call]) == {}


def test_a_spread_is_alert_only_by_default() -> None:
    result = run(VERTICAL, quotes=VERTICAL_QUOTES)
    assert places(result) == []
    assert {a.symbol for a in alerts(result, AlertKind.SPREAD)} == {LONG_CALL, SHORT_CALL}
    assert coverage(result, LONG_CALL).status is CoverageStatus.ALERT_ONLY


def test_our_single_leg_stop_on_a_spread_leg_is_cancelled_because_it_would_break_the_spread() -> None:
    ours = sell_stop(LONG_CALL, 2, '5.00')
    result = run(VERTICAL, [ours], VERTICAL_QUOTES)
    (cancel,) = cancels(result)
    assert cancel.order_id == ours.id and 'break the multi-leg structure' in cancel.reason


def test_a_debit_spread_with_stop_limit_policy_gets_one_multi_leg_stop_limit_for_a_credit() -> None:
    # Opened for 10.00 - 6.00 = 4.00 debit; natural now 11.00 - 6.70 = 4.30; 50% below 4.00 = 2.00
    result = run(VERTICAL, quotes=VERTICAL_QUOTES, policy=STOP_LIMIT, spread_ticks=PENNY)
    (place,) = places(result)
    spec = place.spec
    assert [(leg.symbol, leg.action, leg.quantity) for leg in spec.legs] == [
        (LONG_CALL, OrderAction.SELL_TO_CLOSE, D(2)),
        (SHORT_CALL, OrderAction.BUY_TO_CLOSE, D(2)),
    ]
    assert (spec.order_type, spec.stop_trigger, spec.limit_price, spec.price_effect) == (
        OrderType.STOP_LIMIT,
        D('2.00'),
        D('1.95'),
        PriceEffect.CREDIT,
    )
    assert coverage(result, LONG_CALL).protected_after == D(2)
    assert coverage(result, SHORT_CALL).status is CoverageStatus.PROTECTED


def test_a_credit_iron_condor_gets_a_debit_stop_at_a_multiple_of_the_credit() -> None:
    legs = [
        option('IWM   270115P00180000', 'IWM', 1, '0.50'),
        option('IWM   270115P00190000', 'IWM', -1, '1.50'),
        option('IWM   270115C00230000', 'IWM', -1, '1.40'),
        option('IWM   270115C00240000', 'IWM', 1, '0.40'),
    ]
    quotes = [
        quote('IWM   270115P00180000', '0.40', '0.45'),
        quote('IWM   270115P00190000', '1.20', '1.25'),
        quote('IWM   270115C00230000', '1.10', '1.15'),
        quote('IWM   270115C00240000', '0.30', '0.35'),
    ]
    result = run(legs, quotes=quotes, policy=STOP_LIMIT, spread_ticks=PENNY)
    (place,) = places(result)
    # credit 2.00; natural debit 1.25 + 1.15 - 0.40 - 0.30 = 1.70; stop at 2 x 2.00 = 4.00, limit 4.05
    assert (place.spec.stop_trigger, place.spec.limit_price, place.spec.price_effect) == (
        D('4.00'),
        D('4.05'),
        PriceEffect.DEBIT,
    )
    assert len(place.spec.legs) == 4


def test_more_than_four_legs_is_alert_only() -> None:
    symbols = [f'IWM   270115C00{200 + i}000' for i in range(5)]
    legs = [option(s, 'IWM', 1 if i % 2 else -1, '1.00') for i, s in enumerate(symbols)]
    result = run(legs, quotes=[quote(s, '1.00', '1.05') for s in symbols], policy=STOP_LIMIT)
    assert places(result) == []
    assert 'more than 4 legs' in alerts(result, AlertKind.SPREAD)[0].reason


def test_a_matching_structure_stop_of_ours_is_kept() -> None:
    ours = WorkingOrder(
        '77',
        OrderStatus.LIVE,
        OrderType.STOP_LIMIT,
        TimeInForce.GTC,
        (
            OrderLeg(LONG_CALL, VERTICAL[0].instrument_type, OrderAction.SELL_TO_CLOSE, D(2), D(2)),
            OrderLeg(SHORT_CALL, VERTICAL[0].instrument_type, OrderAction.BUY_TO_CLOSE, D(2), D(2)),
        ),
        stop_trigger=D('2.00'),
        price=D('1.95'),
        external_identifier='tg-structure',
    )
    result = run(VERTICAL, [ours], VERTICAL_QUOTES, policy=STOP_LIMIT, spread_ticks=PENNY)
    assert result.writes == ()
    assert coverage(result, LONG_CALL).protected_now == D(2)


def test_a_structure_stop_that_no_longer_matches_the_legs_is_cancelled_and_replaced_by_a_new_one() -> None:
    old = WorkingOrder(
        '78',
        OrderStatus.LIVE,
        OrderType.STOP_LIMIT,
        TimeInForce.GTC,
        (
            OrderLeg(LONG_CALL, VERTICAL[0].instrument_type, OrderAction.SELL_TO_CLOSE, D(1), D(1)),
            OrderLeg(SHORT_CALL, VERTICAL[0].instrument_type, OrderAction.BUY_TO_CLOSE, D(1), D(1)),
        ),
        stop_trigger=D('2.00'),
        price=D('1.95'),
        external_identifier='tg-structure-old',
    )
    result = run(VERTICAL, [old], VERTICAL_QUOTES, policy=STOP_LIMIT, spread_ticks=PENNY)
    assert [c.order_id for c in cancels(result)] == ['78'] and len(places(result)) == 1
    assert replaces(result) == []


def test_a_human_closing_order_on_a_leg_blocks_the_structure_stop() -> None:
    human = sell_stop(LONG_CALL, 1, '5.00', ours=False)
    result = run(VERTICAL, [human], VERTICAL_QUOTES, policy=STOP_LIMIT)
    assert places(result) == []
    assert "person's closing orders on its legs" in alerts(result, AlertKind.SPREAD)[0].reason


def test_a_hands_off_leg_makes_the_whole_structure_hands_off() -> None:
    policy = {**STOP_LIMIT, 'symbols': {SHORT_CALL: {'kind': 'none'}}}
    result = run(VERTICAL, quotes=VERTICAL_QUOTES, policy=policy)
    assert result.writes == ()
    assert {c.status for c in result.coverage} == {CoverageStatus.HANDS_OFF}


def test_an_alert_only_debit_spread_states_its_software_stop_per_unit() -> None:
    # Opened for 10.00 - 6.00 = 4.00 debit per unit (2 units); the built-in spread policy is 50% below: 2.00
    result = run(VERTICAL, quotes=VERTICAL_QUOTES)
    (software,) = alerts(result, AlertKind.SOFTWARE_STOP)
    assert software.symbol == 'SPY' and places(result) == []
    assert 'software stop at a natural credit of 2.00 per unit' in software.reason
    assert 'sends one critical alert' in software.reason and 'no order is placed' in software.reason


def test_an_alert_only_credit_spread_watches_the_debit_to_close() -> None:
    # A put credit spread opened for 3.00 - 1.00 = 2.00 credit: the level is 2x the credit, a 4.00 debit
    short_put, long_put = 'QQQ   270115P00400000', 'QQQ   270115P00390000'
    legs = [option(short_put, 'QQQ', -1, '3.00'), option(long_put, 'QQQ', 1, '1.00')]
    result = run(legs, quotes=[quote(short_put, '2.90', '3.10'), quote(long_put, '0.90', '1.00')])
    (software,) = alerts(result, AlertKind.SOFTWARE_STOP)
    assert 'software stop at a natural debit of 4.00 per unit' in software.reason


def test_a_spread_opened_for_nothing_gets_no_software_stop_and_says_so() -> None:
    legs = [option(LONG_CALL, 'SPY', 1, '5.00'), option(SHORT_CALL, 'SPY', -1, '5.00')]
    result = run(legs, quotes=VERTICAL_QUOTES)
    assert alerts(result, AlertKind.SOFTWARE_STOP) == []
    assert any('no software stop' in a.reason and a.symbol == 'SPY' for a in alerts(result, AlertKind.SPREAD))


def test_a_hands_off_or_stop_limit_spread_gets_no_software_stop() -> None:
    for policy in ({'instrument_types': {'spread': {'kind': 'none'}}}, STOP_LIMIT):
        result = run(VERTICAL, quotes=VERTICAL_QUOTES, policy=policy, spread_ticks=PENNY)
        assert alerts(result, AlertKind.SOFTWARE_STOP) == []
