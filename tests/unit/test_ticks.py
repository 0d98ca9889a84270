"""Tick rounding properties (hypothesis) and the threshold cases from the API reference (§2.10)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from tastyguard.ticks import (
    PENNY,
    Rounding,
    Tick,
    TickTableError,
    is_on_tick,
    round_to_tick,
    tick_for,
    ticks_from_wire,
)

pytestmark = pytest.mark.unit

D = Decimal
EQUITY = (Tick(D('0.0001'), D('1.0')), Tick(D('0.01')))
PENNY_PILOT = (Tick(D('0.01'), D('3.0')), Tick(D('0.05')))
NON_PENNY = (Tick(D('0.05'), D('3.0')), Tick(D('0.1')))
ES_OPTIONS = (Tick(D('0.05'), D('5.0')), Tick(D('0.1'), D('20.0')), Tick(D('0.25'), D('100.0')), Tick(D('0.5')))
UNALIGNED = (Tick(D('0.01'), D('3.02')), Tick(D('0.05')))  # 3.02 is not on the 0.05 grid above it
FINER_ABOVE = (Tick(D('0.05'), D('0.01')), Tick(D('0.01')))
REAL_TABLES = [EQUITY, PENNY_PILOT, NON_PENNY, ES_OPTIONS, PENNY, (Tick(D('0.25')),)]

TICK_VALUES = [D(v) for v in ('0.01', '0.05', '0.1', '0.25', '0.5', '1')]
DIRECTIONS = st.sampled_from([Rounding.UP, Rounding.DOWN, Rounding.NEAREST])


@st.composite
def tick_tables(draw: st.DrawFn) -> tuple[Tick, ...]:
    """Real tables, and random ones: up to 3 thresholds (multiples of 0.01, not necessarily aligned)."""
    if draw(st.booleans()):
        return draw(st.sampled_from(REAL_TABLES))
    thresholds = draw(st.lists(st.integers(1, 30_000), min_size=0, max_size=3, unique=True))
    entries = [Tick(draw(st.sampled_from(TICK_VALUES)), D(t) / 100) for t in sorted(thresholds)]
    return (*entries, Tick(draw(st.sampled_from(TICK_VALUES))))


prices = st.decimals(min_value=D('0.0001'), max_value=D('500'), places=4, allow_nan=False, allow_infinity=False)


def valid_ticks_between(low: Decimal, high: Decimal, table: tuple[Tick, ...]) -> list[Decimal]:
    """Every valid price strictly between ``low`` and ``high`` (valid prices lie on some tick's grid)."""
    found = []
    for tick in {t.value for t in table}:
        k = (low / tick).to_integral_value(rounding='ROUND_FLOOR') + 1
        while k * tick < high:
            if k * tick > low and is_on_tick(k * tick, table):
                found.append(k * tick)
            k += 1
    return found


@given(price=prices, table=tick_tables())
def test_up_never_goes_below_the_input(price: Decimal, table: tuple[Tick, ...]) -> None:
    assert round_to_tick(price, table, Rounding.UP) >= price


@given(price=prices, table=tick_tables())
def test_down_never_goes_above_the_input(price: Decimal, table: tuple[Tick, ...]) -> None:
    assert round_to_tick(price, table, Rounding.DOWN) <= price


@given(price=prices, table=tick_tables(), direction=DIRECTIONS)
def test_a_positive_result_is_on_a_valid_tick_of_the_band_it_lands_in(
    price: Decimal, table: tuple[Tick, ...], direction: Rounding
) -> None:
    result = round_to_tick(price, table, direction)
    assume(result > 0)
    assert is_on_tick(result, table)
    assert result % tick_for(result, table) == 0


@given(price=prices, table=tick_tables(), direction=DIRECTIONS)
def test_rounding_a_valid_price_changes_nothing(price: Decimal, table: tuple[Tick, ...], direction: Rounding) -> None:
    valid = round_to_tick(price, table, Rounding.UP)
    assert round_to_tick(valid, table, direction) == valid
    result = round_to_tick(price, table, direction)
    if result > 0:
        assert round_to_tick(result, table, direction) == result


@settings(max_examples=150)
@given(price=prices, table=tick_tables(), direction=st.sampled_from([Rounding.UP, Rounding.DOWN]))
def test_no_valid_tick_lies_strictly_between_the_input_and_the_result(
    price: Decimal, table: tuple[Tick, ...], direction: Rounding
) -> None:
    assume(min(t.value for t in table) >= D('0.01'))  # keeps the enumeration small
    result = round_to_tick(price, table, direction)
    low, high = sorted((price, result))
    assert valid_ticks_between(low, high, table) == []


@given(price=prices, table=tick_tables())
def test_nearest_stays_within_the_coarsest_tick(price: Decimal, table: tuple[Tick, ...]) -> None:
    result = round_to_tick(price, table, Rounding.NEAREST)
    assert abs(result - price) <= max(t.value for t in table)


@given(a=prices, b=prices, table=tick_tables(), direction=st.sampled_from([Rounding.UP, Rounding.DOWN]))
def test_rounding_is_monotonic(a: Decimal, b: Decimal, table: tuple[Tick, ...], direction: Rounding) -> None:
    low, high = sorted((a, b))
    assert round_to_tick(low, table, direction) <= round_to_tick(high, table, direction)


@given(
    threshold=st.sampled_from([D('1.0'), D('3.0'), D('5.0'), D('20.0'), D('100.0')]),
    offset=st.decimals(min_value=D('0.0001'), max_value=D('0.0499'), places=4),
)
@example(threshold=D('3.0'), offset=D('0.0001'))
def test_threshold_crossings_in_real_tables(threshold: Decimal, offset: Decimal) -> None:
    for table in (EQUITY, PENNY_PILOT, NON_PENNY, ES_OPTIONS):
        if all(t.threshold != threshold for t in table):
            continue
        below, above = threshold - offset, threshold + offset
        # The threshold itself belongs to the band above; a price just below it may round up onto it.
        assert tick_for(threshold, table) == tick_for(above, table)
        assert round_to_tick(below, table, Rounding.UP) <= threshold or not is_on_tick(threshold, table)
        assert round_to_tick(above, table, Rounding.DOWN) >= threshold


@pytest.mark.parametrize(
    ('table', 'price', 'direction', 'expected'),
    [
        (PENNY_PILOT, '2.999', Rounding.UP, '3.00'),
        (PENNY_PILOT, '2.999', Rounding.DOWN, '2.99'),
        (PENNY_PILOT, '3.00', Rounding.UP, '3.00'),
        (PENNY_PILOT, '3.01', Rounding.UP, '3.05'),
        (PENNY_PILOT, '3.01', Rounding.DOWN, '3.00'),
        (PENNY_PILOT, '3.03', Rounding.NEAREST, '3.05'),
        (PENNY_PILOT, '2.994', Rounding.NEAREST, '2.99'),
        (EQUITY, '0.99995', Rounding.UP, '1.00'),
        (EQUITY, '0.50005', Rounding.DOWN, '0.5000'),
        (EQUITY, '1.005', Rounding.DOWN, '1.00'),
        (EQUITY, '1.001', Rounding.UP, '1.01'),
        (NON_PENNY, '2.97', Rounding.UP, '3.0'),
        (NON_PENNY, '3.01', Rounding.DOWN, '3.0'),
        (ES_OPTIONS, '4.97', Rounding.UP, '5.0'),
        (ES_OPTIONS, '19.97', Rounding.UP, '20.00'),
        (ES_OPTIONS, '99.99', Rounding.UP, '100.0'),
        (ES_OPTIONS, '100.1', Rounding.DOWN, '100.0'),
        (ES_OPTIONS, '100.1', Rounding.UP, '100.5'),
        (UNALIGNED, '3.016', Rounding.NEAREST, '3.01'),
        (UNALIGNED, '3.016', Rounding.UP, '3.05'),
        (UNALIGNED, '3.04', Rounding.DOWN, '3.01'),
        (FINER_ABOVE, '0.0001', Rounding.UP, '0.01'),
    ],
)
def test_reference_examples(table: tuple[Tick, ...], price: str, direction: Rounding, expected: str) -> None:
    result = round_to_tick(D(price), table, direction)
    assert result == D(expected)
    assert str(result) == expected


def test_down_below_the_first_tick_is_zero_meaning_no_valid_price() -> None:
    assert round_to_tick(D('0.004'), PENNY_PILOT, Rounding.DOWN) == 0


@pytest.mark.parametrize('bad', [D(0), D(-1), D('NaN'), D('Infinity')])
def test_non_positive_or_non_finite_prices_are_refused(bad: Decimal) -> None:
    with pytest.raises(ValueError, match='positive finite'):
        round_to_tick(bad, PENNY, Rounding.UP)


def test_unusable_tables_are_refused() -> None:
    with pytest.raises(TickTableError):
        tick_for(D(1), ())
    with pytest.raises(TickTableError):
        tick_for(D(1), (Tick(D(0)),))


def test_a_table_without_an_open_ended_entry_continues_its_last_band() -> None:
    table = (Tick(D('0.05'), D('5.0')),)  # as the recorded futures option chain has it
    assert tick_for(D('7'), table) == D('0.05')


def test_ticks_from_wire() -> None:
    table = ticks_from_wire([{'threshold': '3.0', 'value': '0.01'}, {'value': '0.05'}])
    assert table == PENNY_PILOT
    assert ticks_from_wire(None) == PENNY and ticks_from_wire([]) == PENNY
    assert not is_on_tick(D(0), PENNY)
