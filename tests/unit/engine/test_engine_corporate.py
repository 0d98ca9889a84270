"""Splits in the planner: pre-split stops of ours are re-derived from scratch; the person's are reviewed."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tastyguard.engine import plan
from tastyguard.engine.actions import CancelOrder, PlaceStop
from tastyguard.engine.corporate import Split, plan_with_splits, pre_split_orders, review
from tastyguard.engine.types import OrderAction, OrderStatus
from tests.unit.engine.builders import (
    NOW,
    buy_stop,
    cancels,
    coverage,
    inputs,
    order,
    places,
    quote,
    sell_stop,
    stock,
)

pytestmark = pytest.mark.unit

D = Decimal
SPLIT = Split('AAPL', Fraction(2), NOW - timedelta(hours=12))
BEFORE = NOW - timedelta(days=3)


def test_our_pre_split_stop_is_cancelled_and_a_stop_derived_from_scratch_is_placed() -> None:
    # broker left it as it was: 100 @ 160.65 on a position now 200 @ 89.25 with the bid at 95.10
    old = sell_stop('AAPL', 100, '160.65', received_at=BEFORE, order_id='7')
    given_inputs = inputs([stock('AAPL', 200, '89.25')], [old], [quote('AAPL', '95.10', '95.12')])

    result = plan_with_splits(given_inputs, [SPLIT])

    assert [c.order_id for c in cancels(result)] == ['7'] and '2:1 split' in cancels(result)[0].reason
    (new,) = places(result)
    assert (new.quantity, new.spec.stop_trigger) == (D(200), D('80.33'))  # 10% below 89.25, rounded up
    assert isinstance(result.actions[0], CancelOrder)  # the cancel goes first and frees the closing quantity


def test_without_the_split_the_old_trigger_would_only_be_resized() -> None:
    """What the ordinary planner does with the same inputs: the hazard corporate actions exist for."""
    old = sell_stop('AAPL', 100, '90.00', received_at=BEFORE)
    result = plan(inputs([stock('AAPL', 200, '89.25')], [old], [quote('AAPL', '95.10', '95.12')]))

    assert not places(result) and result.writes[0].spec.stop_trigger == D('90.00')  # type: ignore[union-attr]


def test_a_stop_broker_adjusted_by_finra_5330_is_re_derived_too() -> None:
    adjusted = sell_stop('AAPL', 200, '80.32', received_at=BEFORE, order_id='8')
    result = plan_with_splits(
        inputs([stock('AAPL', 200, '89.25')], [adjusted], [quote('AAPL', '95.10', '95.12')]), [SPLIT]
    )

    assert [c.order_id for c in cancels(result)] == ['8'] and places(result)[0].spec.stop_trigger == D('80.33')


def test_stops_placed_after_the_split_are_left_to_the_ordinary_planner() -> None:
    fresh = sell_stop('AAPL', 200, '80.33', received_at=NOW - timedelta(hours=1))
    given_inputs = inputs([stock('AAPL', 200, '89.25')], [fresh], [quote('AAPL', '95.10', '95.12')])

    assert plan_with_splits(given_inputs, [SPLIT]) == plan(given_inputs)


def test_the_persons_orders_and_ours_being_cancelled_are_never_touched() -> None:
    person = sell_stop('AAPL', 100, '118.00', ours=False, received_at=BEFORE)
    pending = sell_stop('AAPL', 50, '120.00', received_at=BEFORE, status=OrderStatus.CANCEL_REQUESTED)
    given_inputs = inputs([stock('AAPL', 200, '89.25')], [person, pending], [quote('AAPL', '95.10', '95.12')])

    assert pre_split_orders(given_inputs, [SPLIT]) == []


def test_coverage_now_still_counts_the_stop_until_its_cancel_lands() -> None:
    old = sell_stop('AAPL', 100, '160.65', received_at=BEFORE)
    result = plan_with_splits(inputs([stock('AAPL', 200, '89.25')], [old], [quote('AAPL', '95.10', '95.12')]), [SPLIT])

    cover = coverage(result, 'AAPL')
    assert (cover.protected_now, cover.protected_after) == (D(100), D(200))


def test_a_short_position_gets_a_buy_stop_derived_from_the_new_entry() -> None:
    reverse = Split('XYZ', Fraction(1, 10), NOW - timedelta(hours=2))
    old = buy_stop('XYZ', 1000, '5.50', received_at=BEFORE)
    result = plan_with_splits(inputs([stock('XYZ', -100, '50.00')], [old], [quote('XYZ', '45.00', '45.05')]), [reverse])

    (new,) = places(result)
    assert (new.quantity, new.spec.stop_trigger, new.action.value) == (D(100), D('55.00'), 'Buy to Close')


@settings(max_examples=200, deadline=None)
@given(
    quantity=st.integers(min_value=1, max_value=5000),
    long=st.booleans(),
    ratio=st.sampled_from([Fraction(2), Fraction(3, 2), Fraction(4), Fraction(1, 2), Fraction(1, 10), Fraction(7, 3)]),
    cents=st.integers(min_value=500, max_value=90000),
)
def test_after_any_split_our_one_new_stop_covers_the_new_quantity_on_the_safe_side(
    quantity: int, long: bool, ratio: Fraction, cents: int
) -> None:
    price = D(cents) / 100
    entry = (price * D('0.95') if long else price * D('1.05')).quantize(D('0.01'))
    factor = D(ratio.numerator) / D(ratio.denominator)
    new_qty = int(quantity * factor) or 1
    new_entry, new_price = entry / factor, (price / factor).quantize(D('0.01'))
    stale = (sell_stop if long else buy_stop)(
        'S', quantity, str((entry * D('0.9')).quantize(D('0.01'))), received_at=BEFORE
    )
    holding = stock('S', new_qty if long else -new_qty, str(new_entry))
    market = quote('S', str(new_price), str(new_price + D('0.01')))

    result = plan_with_splits(inputs([holding], [stale], [market]), [Split('S', ratio, NOW - timedelta(hours=1))])

    assert [c.order_id for c in cancels(result)] == [stale.id]
    new = places(result)
    if new:  # none only when rounding put the policy's stop through the new market (then an alert says so)
        (stop,) = new
        assert stop.quantity == new_qty and stop.spec.stop_trigger > 0
        assert stop.spec.stop_trigger < new_price if long else stop.spec.stop_trigger > new_price + D('0.01')
    else:
        assert result.alerts


def test_review_flags_a_person_stop_left_at_the_pre_split_price() -> None:
    person = sell_stop('AAPL', 100, '150.00', ours=False, order_id='42')
    text = review(SPLIT, person, stock('AAPL', 200, '89.25'), quote('AAPL', '95.10', '95.12'))

    assert text is not None and '#42' in text
    assert 'through the bid 95.10 and would trigger at once' in text
    assert 'looks unadjusted (2:1 makes 150.00 about 75.00)' in text
    assert 'it covers 100 of the 200 held now' in text


def test_review_accepts_a_stop_the_broker_adjusted() -> None:
    person = sell_stop('AAPL', 200, '75.00', ours=False)
    assert review(SPLIT, person, stock('AAPL', 200, '89.25'), quote('AAPL', '95.10', '95.12')) is None


def test_review_flags_a_take_profit_that_a_reverse_split_made_marketable() -> None:
    reverse = Split('F', Fraction(1, 10), NOW)
    take_profit = order('F', OrderAction.SELL_TO_CLOSE, 100, price='12.00', ours=False)
    text = review(reverse, take_profit, stock('F', 10, '90.00'), quote('F', '105.00', '105.10'))

    assert text is not None and 'would fill at once against the bid 105.00' in text


def test_our_own_orders_are_not_reviewed() -> None:
    ours = sell_stop('AAPL', 100, '150.00')
    assert review(SPLIT, ours, stock('AAPL', 200, '89.25'), quote('AAPL', '95.10', '95.12')) is None


def test_no_split_no_change() -> None:
    given_inputs = inputs(
        [stock('AAPL', 100, '150')], [sell_stop('AAPL', 100, '135.00')], [quote('AAPL', '190', '190.02')]
    )
    assert plan_with_splits(given_inputs, []) == plan(given_inputs)
    assert plan_with_splits(replace(given_inputs), [Split('MSFT', Fraction(2), NOW)]) == plan(given_inputs)
    assert all(not isinstance(a, PlaceStop) for a in plan(given_inputs).actions)
