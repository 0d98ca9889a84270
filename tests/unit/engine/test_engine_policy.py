"""Policy knobs: distance, basis, trailing, guards, breached stops, human cancels, hands-off, alert-only."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from tastyguard.config.models import Severity
from tastyguard.engine.actions import AlertKind, CoverageStatus
from tests.unit.engine.builders import (
    NOW,
    alerts,
    cancels,
    config,
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
AAPL = [quote('AAPL', '185.20', '185.25')]


def test_an_absolute_distance_is_subtracted_from_the_entry() -> None:
    result = run([stock('AAPL', 10, '178.50')], quotes=AAPL, policy={'distance': '5.25'})
    assert places(result)[0].spec.stop_trigger == D('173.25')


def test_a_mark_basis_measures_from_the_current_mark() -> None:
    result = run([stock('AAPL', 10, '100.00')], quotes=AAPL, policy={'basis': 'mark', 'distance': '10%'})
    # mark = 185.225; 10% below = 166.7025 -> up to 166.71
    assert places(result)[0].spec.stop_trigger == D('166.71')
    assert '10% below mark 185.225' in places(result)[0].reason


def test_a_mark_based_stop_is_set_once_and_not_moved_with_the_market() -> None:
    existing = sell_stop('AAPL', 10, '150.00')
    result = run([stock('AAPL', 10, '100.00')], [existing], AAPL, policy={'basis': 'mark'})
    assert result.writes == ()


def test_a_trailing_stop_ratchets_up_from_the_high_water_mark() -> None:
    # Given our stop at 150.00 and a high water of 200.00 (10% trail -> 180.00)
    existing = sell_stop('AAPL', 10, '150.00')
    result = run(
        [stock('AAPL', 10, '100.00')],
        [existing],
        [quote('AAPL', '195.00', '195.05')],
        policy={'basis': 'high_water'},
        high_water={'AAPL': D('200.00')},
    )
    # Then it is moved up by a replace, same quantity
    (replace,) = replaces(result)
    assert (replace.order_id, replace.spec.stop_trigger, replace.spec.quantity) == (existing.id, D('180.00'), D(10))
    assert 'trigger 150.00 → 180.00' in replace.reason


def test_a_trailing_stop_does_not_move_for_less_than_the_minimum_step() -> None:
    existing = sell_stop('AAPL', 10, '179.50')
    result = run(
        [stock('AAPL', 10, '100.00')],
        [existing],
        [quote('AAPL', '195.00', '195.05')],
        policy={'basis': 'high_water', 'trail_min_step': '1%'},
        high_water={'AAPL': D('200.00')},
    )
    assert result.writes == ()  # 180.00 - 179.50 = 0.50 < 1% of 179.50


def test_a_trailing_stop_never_moves_down() -> None:
    existing = sell_stop('AAPL', 10, '190.00')
    result = run(
        [stock('AAPL', 10, '100.00')],
        [existing],
        [quote('AAPL', '195.00', '195.05')],
        policy={'basis': 'high_water'},
        high_water={'AAPL': D('200.00')},
    )
    assert result.writes == ()


def test_an_entry_stop_is_tightened_when_the_policy_tightens_but_never_loosened() -> None:
    tight = run([stock('AAPL', 10, '178.50')], [sell_stop('AAPL', 10, '150.00')], AAPL, policy={'distance': '5%'})
    loose = run([stock('AAPL', 10, '178.50')], [sell_stop('AAPL', 10, '170.00')], AAPL, policy={'distance': '20%'})
    assert replaces(tight)[0].spec.stop_trigger == D('169.58')
    assert loose.writes == ()


def test_the_max_distance_guard_pulls_a_far_stop_toward_the_market_and_says_so() -> None:
    result = run([stock('AAPL', 10, '100.00')], quotes=AAPL, policy={'distance': '10%', 'max_distance': '20%'})
    (place,) = places(result)
    # 90.00 is 51% below the bid 185.20; the guard allows 20%: 148.16
    assert place.spec.stop_trigger == D('148.16')
    assert 'tightened to max_distance (20% below the bid 185.20)' in place.reason


def test_the_min_distance_guard_pushes_a_near_stop_away_from_the_market() -> None:
    result = run([stock('AAPL', 10, '186.00')], quotes=AAPL, policy={'distance': '1%', 'min_distance': '5%'})
    (place,) = places(result)
    # 184.14 is only 0.6% below the bid; 5% below the bid = 175.94
    assert place.spec.stop_trigger == D('175.94')
    assert 'widened to min_distance' in place.reason


def test_a_breached_stop_alerts_and_places_nothing_by_default() -> None:
    # 10% below 220.00 = 198.00, but the bid is already 185.20
    result = run([stock('AAPL', 10, '220.00')], quotes=AAPL)
    assert places(result) == []
    (alert,) = alerts(result, AlertKind.BREACHED)
    assert alert.severity is Severity.CRITICAL
    assert 'already through the bid 185.20' in alert.reason
    assert coverage(result, 'AAPL').status is CoverageStatus.UNPROTECTED


def test_a_breached_stop_with_clamp_is_placed_at_the_clamp_distance_below_the_bid() -> None:
    result = run([stock('AAPL', 10, '220.00')], quotes=AAPL, policy={'when_breached': 'clamp', 'clamp_distance': '2%'})
    (place,) = places(result)
    assert place.spec.stop_trigger == D('181.50')  # 185.20 x 0.98 = 181.496 -> up to 181.50
    assert 'clamped to 2% below the bid' in place.reason


def test_a_breached_stop_with_skip_places_nothing_and_only_notes_it() -> None:
    result = run([stock('AAPL', 10, '220.00')], quotes=AAPL, policy={'when_breached': 'skip'})
    assert places(result) == []
    assert alerts(result, AlertKind.BREACHED)[0].severity is Severity.INFO


def test_a_stop_is_never_placed_on_or_through_the_market_after_rounding() -> None:
    # A clamp of 0.001% lands within a tick of the bid: it must stay one tick below it
    result = run(
        [stock('AAPL', 10, '220.00')], quotes=AAPL, policy={'when_breached': 'clamp', 'clamp_distance': '0.001%'}
    )
    (place,) = places(result)
    assert place.spec.stop_trigger == D('185.19')
    assert 'kept one tick below the bid' in place.reason


def test_a_cheap_option_whose_stop_would_round_to_zero_gets_an_alert_not_an_order() -> None:
    # Given a long option bid at one tick (0.01): a sell stop must sit below it, and there is no tick below
    symbol = 'XYZ   270115C00050000'
    result = run([option(symbol, 'XYZ', 1, '0.01')], quotes=[quote(symbol, '0.01', '0.03')])
    assert places(result) == []
    assert 'rounds to zero' in alerts(result, AlertKind.UNPROTECTABLE)[0].reason


def test_a_cheap_option_stop_below_a_tick_rounds_up_to_the_smallest_tick() -> None:
    symbol = 'XYZ   270115C00050000'
    policy = {'instrument_types': {'equity_option': {'distance': '90%'}}}
    result = run([option(symbol, 'XYZ', 1, '0.05')], quotes=[quote(symbol, '0.05', '0.10')], policy=policy)
    assert places(result)[0].spec.stop_trigger == D('0.01')  # 0.005 rounded up (toward the market)


def test_a_respected_human_cancel_is_not_replaced_and_is_announced_once() -> None:
    result = run([stock('AAPL', 10, '178.50')], quotes=AAPL, human_cancels=frozenset({'AAPL'}))
    assert places(result) == []
    (alert,) = alerts(result, AlertKind.HUMAN_CANCELLED)
    assert alert.dedupe_key == 'human_cancelled:5WX01234:AAPL'


def test_a_human_cancel_with_replace_policy_is_replaced() -> None:
    result = run(
        [stock('AAPL', 10, '178.50')],
        quotes=AAPL,
        policy={'on_human_cancel': 'replace'},
        human_cancels=frozenset({'AAPL'}),
    )
    assert len(places(result)) == 1


def test_a_hands_off_symbol_is_never_touched_not_even_our_own_stop() -> None:
    ours = sell_stop('GME', 99, '10.00')
    cfg = config(hands_off=['GME'])
    result = run([stock('GME', 10, '20.00')], [ours], [quote('GME', '21', '21.05')], cfg=cfg)
    assert result.writes == ()
    assert coverage(result, 'GME').status is CoverageStatus.HANDS_OFF


def test_alert_only_places_nothing_and_says_so() -> None:
    result = run([stock('AAPL', 10, '178.50')], quotes=AAPL, policy={'kind': 'alert_only'})
    assert places(result) == []
    assert alerts(result, AlertKind.ALERT_ONLY)
    assert coverage(result, 'AAPL').status is CoverageStatus.ALERT_ONLY


def test_alert_only_still_shrinks_our_leftover_stop_to_the_position() -> None:
    ours = sell_stop('AAPL', 30, '150.00')
    result = run([stock('AAPL', 10, '178.50')], [ours], AAPL, policy={'kind': 'alert_only'})
    (replace,) = replaces(result)
    assert replace.spec.quantity == D(10) and replace.spec.stop_trigger == D('150.00')


def test_a_symbol_override_on_the_underlying_can_be_limited_to_one_instrument_type() -> None:
    symbol = 'SPY   270115P00500000'
    policy = {'symbols': {'SPY': {'distance': '3%', 'applies_to': ['equity']}}}
    result = run(
        [stock('SPY', 10, '500.00'), option(symbol, 'SPY', 1, '4.00')],
        quotes=[quote('SPY', '505', '505.05'), quote(symbol, '4.00', '4.10')],
        policy=policy,
    )
    by_symbol = {p.symbol: p.spec.stop_trigger for p in places(result)}
    assert by_symbol == {'SPY': D('485.00'), symbol: D('2.00')}


def test_no_quote_means_no_new_stop_and_an_alert() -> None:
    result = run([stock('AAPL', 10, '178.50')])
    assert places(result) == [] and alerts(result, AlertKind.NO_QUOTE)


def test_an_expired_option_gets_no_stop() -> None:
    symbol = 'XYZ   260227C00050000'
    holding = option(symbol, 'XYZ', 1, '1.00')
    expired = replace(holding, expires_at=NOW - timedelta(days=1))
    result = run([expired], quotes=[quote(symbol, '1.00', '1.10')])
    assert places(result) == [] and 'expired' in alerts(result, AlertKind.UNPROTECTABLE)[0].reason


def test_a_human_cancel_does_not_cancel_our_remaining_stops() -> None:
    ours = sell_stop('AAPL', 10, '150.00')
    result = run([stock('AAPL', 10, '178.50')], [ours], AAPL, human_cancels=frozenset({'AAPL'}))
    assert cancels(result) == [] and replaces(result) == []
