"""Deterministic external identifiers and the planner's speed."""

from __future__ import annotations

import re
import time
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tastyguard.engine import plan
from tastyguard.engine.identifiers import external_identifier
from tests.unit.engine.builders import inputs, places, quote, run, sell_stop, stock

pytestmark = pytest.mark.unit
D = Decimal
BASE = {
    'account_number': '5WX01234',
    'symbol': 'AAPL',
    'side': 'Sell to Close',
    'purpose': 'place',
    'quantity': D(100),
    'trigger': D('160.65'),
    'salt': '2026-03-02T15:00:00Z',
}


@given(
    st.text(max_size=30), st.text(max_size=30), st.decimals(allow_nan=False, allow_infinity=False), st.text(max_size=40)
)
def test_identifiers_are_short_and_use_only_safe_characters(symbol: str, purpose: str, quantity: D, salt: str) -> None:
    ident = external_identifier(**{**BASE, 'symbol': symbol, 'purpose': purpose, 'quantity': quantity, 'salt': salt})
    assert re.fullmatch(r'tg-[a-z2-7]{26}', ident) and len(ident) <= 40


def test_the_same_inputs_give_the_same_identifier_so_a_retried_run_finds_its_order() -> None:
    assert external_identifier(**BASE) == external_identifier(**BASE)
    assert external_identifier(**BASE) == external_identifier(**{**BASE, 'quantity': D('100.00')})


@pytest.mark.parametrize('field', ['account_number', 'symbol', 'side', 'purpose', 'salt'])
def test_any_different_input_gives_a_different_identifier(field: str) -> None:
    assert external_identifier(**BASE) != external_identifier(**{**BASE, field: 'other'})


def test_a_different_quantity_or_trigger_gives_a_different_identifier() -> None:
    assert external_identifier(**BASE) != external_identifier(**{**BASE, 'quantity': D(99)})
    assert external_identifier(**BASE) != external_identifier(**{**BASE, 'trigger': D('160.66')})


def test_the_planner_derives_the_same_identifier_on_a_retry_and_a_new_one_on_the_next_run() -> None:
    args = ([stock('AAPL', 100, '178.50')], [], [quote('AAPL', '185.20', '185.25')])
    first = places(run(*args, salt='2026-03-02T15:00:00Z'))[0].spec.external_identifier
    retry = places(run(*args, salt='2026-03-02T15:00:00Z'))[0].spec.external_identifier
    later = places(run(*args, salt='2026-03-02T15:05:00Z'))[0].spec.external_identifier
    assert first == retry != later


def test_planning_500_positions_and_300_orders_takes_well_under_100_ms() -> None:
    holdings = [stock(f'S{i:03d}', 100 if i % 3 else -100, '50.00') for i in range(500)]
    orders = [sell_stop(f'S{i:03d}', 50, '40.00') for i in range(1, 500, 5)]
    orders += [sell_stop(f'S{i:03d}', 50, '41.00', ours=False) for i in range(2, 500, 5)]
    orders += [sell_stop(f'X{i:03d}', 10, '10.00') for i in range(100)]
    quotes = [quote(f'S{i:03d}', '55.00', '55.05') for i in range(500)]
    data = inputs(holdings, orders, quotes, absent_counts={f'X{i:03d}': 2 for i in range(100)})
    assert len(orders) == 300
    plan(data)  # warm up
    best = min(_timed(lambda: plan(data)) for _ in range(5))
    assert best < 0.1, f'plan took {best * 1000:.1f} ms'


def _timed(call: object) -> float:
    start = time.perf_counter()
    call()  # type: ignore[operator]
    return time.perf_counter() - start
