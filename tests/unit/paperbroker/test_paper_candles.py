"""Candle symbols, periods, the generated history and the recorded quote path of the paper broker's candle book."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperbroker.candle_book import CandleBook, SyntheticPath
from paperbroker.candle_periods import next_start, period_start, previous_start
from paperbroker.candle_symbols import CandleSymbol, parse_candle_symbol
from paperbroker.clock import NEW_YORK
from paperbroker.model import Quote

pytestmark = pytest.mark.unit


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _symbol(text: str) -> CandleSymbol:
    parsed = parse_candle_symbol(text)
    assert parsed is not None
    return parsed


@pytest.mark.parametrize(
    ('text', 'base', 'count', 'unit', 'tho', 'price'),
    [
        ('AAPL{=5m}', 'AAPL', 5, 'm', False, 'last'),
        ('AAPL{=d}', 'AAPL', 1, 'd', False, 'last'),
        ('SPY{=1h,tho=true}', 'SPY', 1, 'h', True, 'last'),
        ('/ESZ26:XCME{=2h,price=mark}', '/ESZ26:XCME', 2, 'h', False, 'mark'),
        ('AAPL&Q{=1mo}', 'AAPL', 1, 'mo', False, 'last'),
        ('AAPL{=1w,a=s,price=bogus}', 'AAPL', 1, 'w', False, 'last'),
    ],
)
def test_candle_symbols_parse(text: str, base: str, count: int, unit: str, tho: bool, price: str) -> None:
    parsed = _symbol(text)

    assert (parsed.text, parsed.base, parsed.count, parsed.unit, parsed.trading_hours_only, parsed.price) == (
        text,
        base,
        count,
        unit,
        tho,
        price,
    )


@pytest.mark.parametrize('text', ['AAPL', 'AAPL{5m}', 'AAPL{=5t}', 'AAPL{=15s}', 'AAPL{=0m}', '{=1d}', 'AAPL{=1.5h}'])
def test_what_is_not_a_candle_symbol_this_broker_models(text: str) -> None:
    assert parse_candle_symbol(text) is None


def test_minute_periods_align_to_multiples_of_the_period() -> None:
    moment = datetime(2026, 11, 20, 15, 7, 31, tzinfo=UTC)

    start = period_start(_symbol('AAPL{=5m}'), _ms(moment))

    assert start == _ms(datetime(2026, 11, 20, 15, 5, tzinfo=UTC))


def test_days_start_at_new_york_midnight_and_step_across_daylight_saving() -> None:
    daily = _symbol('AAPL{=1d}')
    moment = datetime(2026, 11, 2, 12, 0, tzinfo=NEW_YORK)  # the day after the clocks went back

    start = period_start(daily, _ms(moment))

    assert start == _ms(datetime(2026, 11, 2, tzinfo=NEW_YORK))
    assert previous_start(daily, start) == _ms(datetime(2026, 11, 1, tzinfo=NEW_YORK))
    assert next_start(daily, start) == _ms(datetime(2026, 11, 3, tzinfo=NEW_YORK))


def test_weeks_start_on_monday_and_months_on_the_first() -> None:
    moment = _ms(datetime(2026, 11, 20, 12, 0, tzinfo=NEW_YORK))  # a Friday

    assert period_start(_symbol('AAPL{=1w}'), moment) == _ms(datetime(2026, 11, 16, tzinfo=NEW_YORK))
    assert period_start(_symbol('AAPL{=1mo}'), moment) == _ms(datetime(2026, 11, 1, tzinfo=NEW_YORK))
    assert next_start(_symbol('AAPL{=1mo}'), _ms(datetime(2026, 12, 1, tzinfo=NEW_YORK))) == _ms(
        datetime(2027, 1, 1, tzinfo=NEW_YORK)
    )


def test_the_generated_history_is_deterministic_and_ends_at_the_anchor_price() -> None:
    anchor = _ms(datetime(2026, 11, 20, 15, 0, tzinfo=UTC))
    one, two = SyntheticPath('AAPL', anchor, 190.0), SyntheticPath('AAPL', anchor, 190.0)

    assert one.price(anchor) == pytest.approx(190.0)
    assert [one.price(anchor - i * 3_600_000) for i in range(50)] == [
        two.price(anchor - i * 3_600_000) for i in range(50)
    ]
    assert SyntheticPath('MSFT', anchor, 190.0).price(anchor - 86_400_000) != one.price(anchor - 86_400_000)


def test_the_generated_history_moves_like_a_stock() -> None:
    anchor = _ms(datetime(2026, 11, 20, 15, 0, tzinfo=UTC))
    path = SyntheticPath('AAPL', anchor, 100.0)

    year = [path.price(anchor - day * 86_400_000) for day in range(365)]

    assert 60 < min(year) < max(year) < 160
    assert max(abs(a / b - 1) for a, b in itertools.pairwise(year)) < 0.1


class _Quotes:
    """A minimal core for the book: a virtual clock and a quote table."""

    def __init__(self) -> None:
        self.clock = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
        self.state = self
        self.quotes: dict[str, Any] = {}

    def now(self) -> datetime:
        return self.clock

    def set(self, symbol: str, last: float) -> None:
        self.quotes[symbol] = Quote(symbol, bid=Decimal(str(last)), ask=Decimal(str(last)), last=Decimal(str(last)))


def test_the_history_after_the_reset_is_the_recorded_path() -> None:
    core = _Quotes()
    core.set('AAPL', 100.0)
    book = CandleBook(core)  # type: ignore[arg-type]
    book.reset()
    start = core.clock
    for price in (101.0, 120.0, 95.0, 99.0):
        core.clock += timedelta(hours=1)
        core.set('AAPL', price)
        book.quote_changed('AAPL')

    series = book.history('AAPL', _symbol('AAPL{=1h}'), _ms(start), 100)

    assert [(c.open, c.high, c.low, c.close) for c in reversed(series.candles)] == [
        (100.0, 100.0, 100.0, 100.0),
        (100.0, 101.0, 100.0, 101.0),
        (101.0, 120.0, 101.0, 120.0),
        (120.0, 120.0, 95.0, 95.0),
        (95.0, 99.0, 95.0, 99.0),
    ]
    assert not series.snipped


def test_a_history_longer_than_the_limit_is_snipped_at_the_old_end() -> None:
    core = _Quotes()
    core.set('AAPL', 100.0)
    book = CandleBook(core)  # type: ignore[arg-type]
    book.reset()

    series = book.history('AAPL', _symbol('AAPL{=1m}'), 0, 50)

    assert len(series.candles) == 50 and series.snipped
    assert series.candles[0].close == 100.0


@settings(max_examples=25, deadline=None)
@given(
    moves=st.lists(st.tuples(st.floats(1, 1000, allow_nan=False), st.integers(0, 6 * 3600)), min_size=1, max_size=30),
    unit=st.sampled_from(['AAPL{=5m}', 'AAPL{=1h}', 'AAPL{=1d}', 'AAPL{=1w}']),
)
def test_every_candle_is_well_formed_and_the_series_runs_newest_first(
    moves: list[tuple[float, int]], unit: str
) -> None:
    core = _Quotes()
    core.set('AAPL', 50.0)
    book = CandleBook(core)  # type: ignore[arg-type]
    book.reset()
    for price, wait in moves:
        core.clock += timedelta(seconds=wait)
        core.set('AAPL', round(price, 2))
        book.quote_changed('AAPL')

    series = book.history('AAPL', _symbol(unit), _ms(core.clock - timedelta(days=5)), 10_000)

    times = [c.time for c in series.candles]
    assert times == sorted(set(times), reverse=True)
    assert series.candles[0].close == round(moves[-1][0], 2)
    for candle in series.candles:
        assert candle.low <= min(candle.open, candle.close) <= max(candle.open, candle.close) <= candle.high
