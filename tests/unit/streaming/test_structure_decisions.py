"""The software stop of an alert-only option structure, as the streamer judges it on its legs' quotes.

Properties over random quote paths for a debit vertical and a credit vertical: the decision fires at most once,
only when every leg's quote is present, sane and fresh, and exactly when the natural closing price per unit
(computed here independently: long legs sold at the bid, short legs bought at the ask) reaches the level.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tastyguard.config import parse_config
from tastyguard.config.effective import EffectivePolicy, account_policy
from tastyguard.config.policy import PolicyScope
from tastyguard.engine.spread_stop import StructureLevel, natural_price, structure_level
from tastyguard.engine.types import Holding, InstrumentType
from tastyguard.streaming.prices import StructureCross, Tick, WatchedStructure, decide_structure

pytestmark = pytest.mark.unit
ACCOUNT = '5WT00001'
START = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
MAX_AGE = 10
LONG_CALL, SHORT_CALL = 'SPY   270115C00500000', 'SPY   270115C00510000'
SHORT_PUT, LONG_PUT = 'QQQ   270115P00400000', 'QQQ   270115P00390000'


def _policy() -> EffectivePolicy:
    config = parse_config(
        {
            'environment': 'paper',
            'accounts': [{'account_number': ACCOUNT}],
            'policy': {'trail_quote_max_age_seconds': MAX_AGE},
        }
    )
    return account_policy(config, ACCOUNT).resolve(PolicyScope.SPREAD)


def _leg(symbol: str, underlying: str, quantity: int, entry: str) -> Holding:
    return Holding(
        ACCOUNT, symbol, InstrumentType.EQUITY_OPTION, underlying, Decimal(quantity), Decimal(entry), Decimal(100)
    )


def _structure(debit: bool) -> WatchedStructure:
    policy = _policy()
    if debit:  # 2 units of a call vertical opened for 10.00 - 6.00 = 4.00: the stop is a 2.00 credit
        legs = [_leg(LONG_CALL, 'SPY', 2, '10.00'), _leg(SHORT_CALL, 'SPY', -2, '6.00')]
        shape = structure_level('SPY', legs, policy)
    else:  # a put vertical opened for 3.00 - 1.00 = 2.00 credit: the stop is a 4.00 debit (2x)
        legs = [_leg(SHORT_PUT, 'QQQ', -1, '3.00'), _leg(LONG_PUT, 'QQQ', 1, '1.00')]
        shape = structure_level('QQQ', legs, policy)
    assert isinstance(shape, StructureLevel)
    return WatchedStructure(ACCOUNT, shape, policy)


def test_the_levels_are_measured_per_unit_from_the_net_entry() -> None:
    debit, credit = _structure(True).shape, _structure(False).shape
    assert (debit.debit, debit.units, debit.entry, debit.level) == (True, 2, Decimal('4.00'), Decimal('2.00'))
    assert (credit.debit, credit.units, credit.entry, credit.level) == (False, 1, Decimal('2.00'), Decimal('4.00'))


def _tick(bid: str | None, ask: str | None, age: float = 0.0, at: datetime = START) -> Tick:
    return Tick(
        bid=None if bid is None else Decimal(bid),
        ask=None if ask is None else Decimal(ask),
        last=None,
        received_at=at - timedelta(seconds=age),
    )


def test_a_debit_spread_fires_when_its_natural_credit_falls_to_the_level() -> None:
    structure = _structure(True)
    above = {LONG_CALL: _tick('8.00', '8.20'), SHORT_CALL: _tick('5.70', '5.90')}  # 8.00 - 5.90 = 2.10
    assert decide_structure(structure, above, START) is None
    at = {LONG_CALL: _tick('7.90', '8.10'), SHORT_CALL: _tick('5.70', '5.90')}  # 2.00: reached
    cross = decide_structure(structure, at, START)
    assert isinstance(cross, StructureCross) and cross.price == Decimal('2.00') and cross.level == Decimal('2.00')
    assert decide_structure(structure, at, START) is None  # once


def test_a_credit_spread_fires_when_its_natural_debit_rises_to_the_level() -> None:
    structure = _structure(False)
    below = {SHORT_PUT: _tick('4.40', '4.60'), LONG_PUT: _tick('0.70', '0.80')}  # 4.60 - 0.70 = 3.90
    assert decide_structure(structure, below, START) is None
    through = {SHORT_PUT: _tick('4.60', '4.80'), LONG_PUT: _tick('0.70', '0.80')}  # 4.10
    cross = decide_structure(structure, through, START)
    assert isinstance(cross, StructureCross) and cross.price == Decimal('4.10')


def test_a_missing_crossed_or_stale_leg_decides_nothing() -> None:
    structure = _structure(True)
    through = {LONG_CALL: _tick('1.00', '1.20'), SHORT_CALL: _tick('0.50', '0.60')}
    assert decide_structure(structure, {LONG_CALL: through[LONG_CALL]}, START) is None
    assert decide_structure(structure, {**through, SHORT_CALL: _tick(None, '0.60')}, START) is None
    assert decide_structure(structure, {**through, SHORT_CALL: _tick('0.70', '0.60')}, START) is None
    assert decide_structure(structure, {**through, SHORT_CALL: _tick('0.50', '0.60', age=MAX_AGE + 1)}, START) is None
    assert decide_structure(structure, through, START) is not None


PRICES = st.sampled_from([None, '0', '0.05', '0.50', '1.00', '1.95', '2.00', '2.05', '3.00', '4.00', '4.10', '6.00'])
QUOTE = st.tuples(PRICES, PRICES, st.sampled_from([0, 1, 5, MAX_AGE, MAX_AGE + 1, 60]))


def _expected(structure: WatchedStructure, quotes: dict[str, tuple[str | None, str | None, int]]) -> bool:
    """Whether a sane, fresh book puts the natural closing price through the level (computed independently)."""
    total = Decimal(0)
    for symbol, ratio, long in structure.shape.legs:
        bid, ask, age = quotes[symbol]
        if bid is None or ask is None or Decimal(bid) <= 0 or Decimal(ask) <= 0 or Decimal(bid) > Decimal(ask):
            return False
        if age > MAX_AGE:
            return False
        total += ratio * Decimal(bid) if long else -ratio * Decimal(ask)
    price = total if structure.shape.debit else -total
    level = structure.shape.level
    return price > 0 and (price <= level if structure.shape.debit else price >= level)


@settings(max_examples=300, deadline=None)
@given(debit=st.booleans(), path=st.lists(st.tuples(QUOTE, QUOTE), min_size=1, max_size=25))
def test_the_decision_fires_once_exactly_when_a_sane_fresh_book_reaches_the_level(
    debit: bool, path: list[tuple[tuple[str | None, str | None, int], ...]]
) -> None:
    structure = _structure(debit)
    symbols = structure.leg_symbols
    fired = 0
    for step, legs in enumerate(path):
        now = START + timedelta(seconds=step)
        quotes = dict(zip(symbols, legs, strict=True))
        ticks = {s: _tick(bid, ask, age, now) for s, (bid, ask, age) in quotes.items()}
        expected = not fired and _expected(structure, quotes)
        decision = decide_structure(structure, ticks, now)
        assert (decision is not None) == expected, (quotes, decision)
        if decision is not None:
            fired += 1
            views = {s: t.view(s) for s, t in ticks.items()}
            assert decision.price == natural_price(structure.shape, views)
    assert fired <= 1
