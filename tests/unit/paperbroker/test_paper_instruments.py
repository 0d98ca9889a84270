"""Symbols, streamer symbols and tick tables of the paper broker's reference data."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from paperbroker.instruments import (
    EQUITY_TICKS,
    PENNY_PILOT,
    Equity,
    EquityOption,
    Future,
    FutureOption,
    on_tick,
    tick_for,
)
from paperbroker.registry import Registry, normalize_occ

pytestmark = pytest.mark.unit


@pytest.fixture
def registry() -> Registry:
    return Registry(date(2026, 11, 21))


def test_occ_symbol_is_parsed_into_root_expiry_type_and_strike(registry: Registry) -> None:
    option = registry.ensure('AAPL  261218C00200000')

    assert isinstance(option, EquityOption)
    assert (option.root, option.expiration, option.option_type, option.strike) == ('AAPL', date(2026, 12, 18), 'C', 200)
    assert option.underlying_symbol == 'AAPL'
    assert option.streamer_symbol == '.AAPL261218C200'
    assert option.multiplier == 100


def test_unpadded_occ_symbol_is_normalized_to_the_padded_form(registry: Registry) -> None:
    assert normalize_occ('SPY261218P00520000') == 'SPY   261218P00520000'
    assert registry.ensure('SPY261218P00520000').symbol == 'SPY   261218P00520000'
    assert registry.get('SPY   261218P00520000') is registry.get('SPY261218P00520000')


def test_fractional_strike_keeps_its_decimals_in_the_streamer_symbol(registry: Registry) -> None:
    option = registry.ensure('SPY   261218P00522500')

    assert option.streamer_symbol == '.SPY261218P522.5'


def test_option_creates_its_underlying_equity_with_option_tick_sizes(registry: Registry) -> None:
    registry.ensure('SPY   261218P00520000')
    spy = registry.get('SPY')
    aapl = registry.ensure('AAPL')

    assert isinstance(spy, Equity) and isinstance(aapl, Equity)
    assert spy.option_ticks == [(None, Decimal('0.01'))]
    assert aapl.option_ticks == PENNY_PILOT
    assert aapl.ticks == EQUITY_TICKS


def test_future_symbol_has_product_tick_multiplier_and_streamer_symbol(registry: Registry) -> None:
    future = registry.ensure('/ESZ6')

    assert isinstance(future, Future)
    assert future.product.code == 'ES'
    assert future.expiration == date(2026, 12, 18)
    assert future.multiplier == 50
    assert future.ticks == [(None, Decimal('0.25'))]
    assert future.streamer_symbol == '/ESZ26:XCME'


def test_future_option_symbol_as_recorded_is_understood(registry: Registry) -> None:
    option = registry.ensure('./ESZ6 ESZ6  261218P5800')

    assert isinstance(option, FutureOption)
    assert option.future.symbol == '/ESZ6'
    assert (option.option_type, option.strike, option.expiration) == ('P', 5800, date(2026, 12, 18))
    assert option.streamer_symbol == './ESZ26P5800:XCME'
    assert option.underlying_symbol == '/ESZ6'


def test_streamer_symbols_map_back_to_instruments(registry: Registry) -> None:
    for symbol in ('AAPL', 'AAPL  261218C00200000', '/ESZ6', './ESZ6 ESZ6  261218P5800'):
        instrument = registry.ensure(symbol)
        assert registry.from_streamer(instrument.streamer_symbol) is instrument


def test_symbol_of_the_wrong_type_is_refused(registry: Registry) -> None:
    registry.ensure('AAPL')

    with pytest.raises(ValueError, match='Equity'):
        registry.ensure('AAPL', 'Equity Option')
    with pytest.raises(ValueError, match='not a valid'):
        registry.ensure('not a symbol')


@pytest.mark.parametrize(
    ('price', 'ticks', 'tick'),
    [
        (Decimal('0.5'), EQUITY_TICKS, Decimal('0.0001')),
        (Decimal('1.0'), EQUITY_TICKS, Decimal('0.01')),
        (Decimal('2.99'), PENNY_PILOT, Decimal('0.01')),
        (Decimal('3.00'), PENNY_PILOT, Decimal('0.05')),
    ],
)
def test_threshold_entries_apply_below_their_threshold(price: Decimal, ticks: list, tick: Decimal) -> None:
    assert tick_for(price, ticks) == tick


def test_on_tick_checks_whole_ticks() -> None:
    assert on_tick(Decimal('3.05'), PENNY_PILOT)
    assert not on_tick(Decimal('3.07'), PENNY_PILOT)
    assert on_tick(Decimal('6050.25'), [(None, Decimal('0.25'))])
    assert not on_tick(Decimal('6050.10'), [(None, Decimal('0.25'))])
