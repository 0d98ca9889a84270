"""Coverage and the closing cap: no stacking, resizing by replace, duplicates, orphans, flips, human orders."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from tastyguard.config.models import Severity
from tastyguard.engine import PlanInputError, plan
from tastyguard.engine.actions import AlertKind, CancelOrder, CoverageStatus, PlaceStop, ReplaceStop, Report
from tastyguard.engine.types import OrderAction, OrderStatus, OrderType
from tests.unit.engine.builders import (
    alerts,
    buy_stop,
    cancels,
    coverage,
    future,
    inputs,
    order,
    places,
    quote,
    replaces,
    reports,
    run,
    sell_stop,
    stock,
)

pytestmark = pytest.mark.unit
D = Decimal
AAPL = [quote('AAPL', '185.20', '185.25')]
LONG_100 = [stock('AAPL', 100, '178.50')]


def test_a_human_stop_covering_part_of_the_position_leaves_only_the_remainder_to_place() -> None:
    human = sell_stop('AAPL', 60, '150.00', ours=False)
    result = run(LONG_100, [human], AAPL)
    (place,) = places(result)
    assert place.quantity == D(40)
    assert '40 of 100 not covered by a stop' in place.reason
    assert coverage(result, 'AAPL').protected_after == D(100)


def test_a_position_fully_covered_by_a_human_stop_gets_nothing_and_our_extra_stop_is_cancelled() -> None:
    human = sell_stop('AAPL', 100, '150.00', ours=False)
    ours = sell_stop('AAPL', 100, '160.00')
    result = run(LONG_100, [human, ours], AAPL)
    assert places(result) == []
    (cancel,) = cancels(result)
    assert cancel.order_id == ours.id and 'other working stops already cover the position' in cancel.reason


def test_a_human_take_profit_limit_blocks_room_so_we_place_only_what_fits_and_suggest_an_oco() -> None:
    take_profit = order('AAPL', OrderAction.SELL_TO_CLOSE, 70, price='200.00', ours=False)
    result = run(LONG_100, [take_profit], AAPL)
    assert places(result)[0].quantity == D(30)
    (alert,) = alerts(result, AlertKind.BLOCKED_BY_HUMAN_ORDERS)
    assert 'OCO' in alert.reason and alert.severity is Severity.WARNING


def test_a_human_oco_counts_once_toward_the_cap() -> None:
    legs = [
        order(
            'AAPL',
            OrderAction.SELL_TO_CLOSE,
            100,
            price='200.00',
            ours=False,
            complex_order_id='9',
            complex_order_tag='OCO::order',
        ),
        sell_stop('AAPL', 100, '150.00', ours=False, complex_order_id='9', complex_order_tag='OCO::order'),
    ]
    result = run(LONG_100, legs, AAPL)
    assert result.writes == () and alerts(result, AlertKind.HUMAN_OVER_COVERAGE) == []
    assert coverage(result, 'AAPL').status is CoverageStatus.PROTECTED


def test_human_orders_exceeding_the_position_are_reported_and_ours_add_nothing() -> None:
    human = [
        sell_stop('AAPL', 80, '150.00', ours=False),
        order('AAPL', OrderAction.SELL_TO_CLOSE, 50, price='210', ours=False),
    ]
    ours = sell_stop('AAPL', 20, '160.00')
    result = run(LONG_100, [*human, ours], AAPL)
    assert [c.order_id for c in cancels(result)] == [ours.id]
    assert places(result) == []
    assert alerts(result, AlertKind.HUMAN_OVER_COVERAGE)[0].severity is Severity.WARNING
    assert {r.order_id for r in reports(result)} == {h.id for h in human}


def test_a_human_stop_being_cancelled_counts_toward_the_cap_but_not_as_coverage() -> None:
    pending = sell_stop('AAPL', 100, '150.00', ours=False, status=OrderStatus.CANCEL_REQUESTED)
    result = run(LONG_100, [pending], AAPL)
    assert places(result) == []
    assert coverage(result, 'AAPL').protected_after == D(0)
    assert alerts(result, AlertKind.BLOCKED_BY_HUMAN_ORDERS)


def test_when_the_position_grows_our_stop_is_replaced_not_stacked() -> None:
    ours = sell_stop('AAPL', 60, '160.65')
    result = run(LONG_100, [ours], AAPL)
    assert places(result) == []
    (replace,) = replaces(result)
    assert (replace.order_id, replace.spec.quantity, replace.spec.stop_trigger) == (ours.id, D(100), D('160.65'))
    assert 'quantity 60 → 100' in replace.reason


def test_when_the_position_shrinks_our_stop_is_replaced_smaller() -> None:
    ours = sell_stop('AAPL', 150, '160.65')
    result = run(LONG_100, [ours], AAPL)
    assert replaces(result)[0].spec.quantity == D(100)


def test_a_partly_filled_stop_counts_its_remaining_quantity() -> None:
    ours = sell_stop('AAPL', 100, '160.65', remaining=40)
    result = run([stock('AAPL', 40, '178.50')], [ours], AAPL)
    assert result.writes == ()


def test_duplicates_of_ours_keep_the_tightest_and_cancel_the_rest() -> None:
    loose, tight = sell_stop('AAPL', 100, '150.00'), sell_stop('AAPL', 100, '155.00')
    result = run(LONG_100, [loose, tight], AAPL, policy={'distance': '20%'})  # 142.80: both already tighter
    assert [c.order_id for c in cancels(result)] == [loose.id]
    assert replaces(result) == [] and places(result) == []
    assert f'duplicate of our stop #{tight.id}' in cancels(result)[0].reason


def test_duplicates_prefer_the_one_that_already_needs_no_change() -> None:
    exact, other = sell_stop('AAPL', 100, '160.65'), sell_stop('AAPL', 50, '170.00')
    result = run(LONG_100, [other, exact], AAPL)
    assert [c.order_id for c in cancels(result)] == [other.id] and replaces(result) == []


def test_two_partial_stops_of_ours_become_one() -> None:
    first, second = sell_stop('AAPL', 50, '160.65'), sell_stop('AAPL', 50, '160.65')
    result = run(LONG_100, [first, second], AAPL)
    assert len(cancels(result)) == 1 and replaces(result)[0].spec.quantity == D(100)


def test_a_stop_whose_position_is_missing_once_is_kept_pending_confirmation() -> None:
    ours = sell_stop('MSFT', 10, '300.00')
    result = run([], [ours], absent_counts={'MSFT': 1})
    assert result.writes == ()
    assert alerts(result, AlertKind.PENDING_ABSENCE)[0].severity is Severity.INFO


def test_a_stop_whose_position_is_gone_for_two_reads_is_cancelled() -> None:
    ours = sell_stop('MSFT', 10, '300.00')
    result = run([], [ours], absent_counts={'MSFT': 2})
    (cancel,) = cancels(result)
    assert cancel.order_id == ours.id and 'gone for 2 reads' in cancel.reason


def test_an_unknown_absence_count_is_treated_as_the_first_absent_read() -> None:
    result = run([], [sell_stop('MSFT', 10, '300.00')])
    assert result.writes == ()


def test_a_human_closing_order_without_a_position_is_reported_not_cancelled() -> None:
    human = sell_stop('MSFT', 10, '300.00', ours=False)
    result = run([], [human], absent_counts={'MSFT': 5})
    assert result.writes == () and reports(result)[0].order_id == human.id


def test_a_flip_cancels_our_old_sell_stop_and_places_a_buy_stop() -> None:
    # Given our Sell to Close stop from when AAPL was long, and AAPL is now short 100
    old = sell_stop('AAPL', 100, '160.65')
    result = run([stock('AAPL', -100, '190.00')], [old], AAPL)
    # Then the old stop is cancelled (first) and a Buy to Close placed
    assert [type(a) for a in result.writes] == [CancelOrder, PlaceStop]
    assert result.writes[0].order_id == old.id and 'wrong side' in result.writes[0].reason
    assert places(result)[0].action is OrderAction.BUY_TO_CLOSE


def test_human_orders_are_reported_and_never_acted_on() -> None:
    human = sell_stop('AAPL', 100, '150.00', ours=False)
    impostor = sell_stop('AAPL', 5, '140.00', ours=False, source='tastyguard/0.1.0')  # source alone is not trusted
    result = run([stock('AAPL', 10, '178.50')], [human, impostor], AAPL)
    touched = {a.order_id for a in result.writes if isinstance(a, CancelOrder | ReplaceStop)}
    assert touched == set()
    assert {r.order_id for r in reports(result)} == {human.id, impostor.id}


def test_a_human_order_on_the_wrong_side_is_reported_and_ignored_for_coverage() -> None:
    wrong = buy_stop('AAPL', 100, '200.00', ours=False)
    result = run(LONG_100, [wrong], AAPL)
    assert places(result)[0].quantity == D(100)
    assert 'not a closing order for this position' in reports(result)[0].reason


def test_our_stop_being_cancelled_is_left_alone() -> None:
    pending = sell_stop('AAPL', 100, '160.65', status=OrderStatus.CANCEL_REQUESTED)
    result = run(LONG_100, [pending], AAPL)
    assert result.writes == ()
    assert alerts(result, AlertKind.BLOCKED_BY_PENDING_ORDERS)


def test_our_stop_already_through_the_market_is_triggering_and_left_alone() -> None:
    triggering = sell_stop('AAPL', 100, '186.00')
    result = run(LONG_100, [triggering], AAPL)
    assert result.writes == ()


def test_our_limit_order_is_never_resized_as_if_it_were_a_stop() -> None:
    ours = order('AAPL', OrderAction.SELL_TO_CLOSE, 100, price='150.00', order_type=OrderType.LIMIT)
    result = run(LONG_100, [ours], AAPL)
    assert result.writes == ()


def test_fractional_shares_get_a_stop_for_the_whole_shares_and_a_note() -> None:
    result = run([stock('AAPL', '10.5', '178.50')], quotes=AAPL)
    assert places(result)[0].quantity == D(10)
    assert 'fraction 0.5' in alerts(result, AlertKind.FRACTIONAL)[0].reason


def test_actions_come_out_cancels_then_replaces_then_places_then_alerts_then_reports() -> None:
    result = run(
        [stock('AAPL', 100, '178.50'), stock('TSLA', 10, '200.00'), stock('NVDA', 10, '100.00')],
        [
            sell_stop('AAPL', 50, '160.65'),
            sell_stop('MSFT', 1, '1.00'),
            order('TSLA', OrderAction.SELL_TO_CLOSE, 5, price='300', ours=False),
        ],
        [*AAPL, quote('TSLA', '210', '210.10')],
        absent_counts={'MSFT': 2},
    )
    kinds = [type(a).__name__ for a in result.actions]
    assert kinds == sorted(kinds, key=['CancelOrder', 'ReplaceStop', 'PlaceStop', 'Alert', 'Report'].index)
    assert isinstance(result.actions[-1], Report)


def test_coverage_reports_money_at_risk_now_and_after_the_plan() -> None:
    result = run([stock('AAPL', 100, '178.50')], [sell_stop('AAPL', 40, '160.65', ours=False)], AAPL)
    cov = coverage(result, 'AAPL')
    assert (cov.protected_now, cov.protected_after, cov.price) == (D(40), D(100), D('185.225'))
    assert cov.money_at_risk_now == D(60) * D('185.225') and cov.money_at_risk_after == 0
    assert cov.status is CoverageStatus.PROTECTED


def test_two_positions_with_one_symbol_are_an_input_error() -> None:
    with pytest.raises(PlanInputError, match='two positions for AAPL'):
        plan(inputs([stock('AAPL', 1, '1'), stock('AAPL', 2, '1')]))


def test_an_equity_without_instrument_data_uses_the_standard_equity_ticks() -> None:
    result = plan(replace(inputs([stock('AAPL', 10, '178.55')], quotes=AAPL), instruments={}))
    assert places(result)[0].spec.stop_trigger == D('160.70')


def test_a_future_without_instrument_data_is_unprotectable() -> None:
    data = inputs([future('/ESZ5', 1, '5000')], quotes=[quote('/ESZ5', '5000', '5000.25')])
    result = plan(replace(data, instruments={}))
    assert places(result) == [] and 'tick table' in alerts(result, AlertKind.UNPROTECTABLE)[0].reason


def test_a_resize_needs_a_cancel_and_place_but_a_trigger_move_can_be_an_in_place_edit() -> None:
    resize = run(LONG_100, [sell_stop('AAPL', 60, '160.65')], AAPL)
    move = run(LONG_100, [sell_stop('AAPL', 100, '150.00')], AAPL)
    assert replaces(resize)[0].in_place is False
    assert replaces(move)[0].in_place is True and replaces(move)[0].spec.stop_trigger == D('160.65')
