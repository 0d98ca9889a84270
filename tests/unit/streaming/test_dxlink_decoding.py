"""COMPACT decoding by announced fields: any order, merged per type, changed mid-stream; missing is None, never 0."""

from __future__ import annotations

import dataclasses
import json
import random
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tastyguard.streaming.dxlink import Candle, FeedDecoder, Greeks, Profile, Quote, Summary, Trade
from tastyguard.streaming.dxlink.values import no_constant, to_bool, to_decimal, to_int, to_text

pytestmark = pytest.mark.unit
QUOTE = ['eventType', 'eventSymbol', 'eventTime', 'bidPrice', 'askPrice', 'bidSize', 'askSize']


def _wire(text: str) -> Any:
    """Decode JSON the way the client does: numbers as Decimal, bare NaN/Infinity as None."""
    return json.loads(text, parse_float=Decimal, parse_constant=no_constant)


def _decoder(fields: dict[str, list[str]]) -> FeedDecoder:
    decoder = FeedDecoder()
    decoder.configure(fields)
    return decoder


def test_rows_are_decoded_by_the_announced_fields() -> None:
    decoder = _decoder({'Quote': QUOTE})
    data = _wire('["Quote", ["Quote", "SPY", 0, 576.88, 576.9, 200.0, 300.0, "Quote", "AAPL", 0, 211.2, 211.25, 1, 2]]')

    decoded = decoder.decode(data)

    assert decoded.events == [
        Quote('SPY', 0, Decimal('576.88'), Decimal('576.9'), Decimal('200.0'), Decimal('300.0')),
        Quote('AAPL', 0, Decimal('211.2'), Decimal('211.25'), Decimal(1), Decimal(2)),
    ]
    assert (decoded.malformed, decoded.unannounced) == (0, set())


def test_a_non_default_field_order_is_followed() -> None:
    decoder = _decoder({'Quote': ['askPrice', 'eventSymbol', 'bidPrice']})

    (quote,) = decoder.decode(_wire('["Quote", [190.24, "AAPL", 190.2]]')).events

    assert (quote.symbol, quote.bid_price, quote.ask_price) == ('AAPL', Decimal('190.2'), Decimal('190.24'))


def test_announcements_merge_per_type() -> None:
    decoder = _decoder({'Quote': ['eventSymbol', 'bidPrice']})
    decoder.configure({'Trade': ['eventSymbol', 'price', 'size']})

    decoded = decoder.decode(_wire('["Quote", ["AAPL", 1.5], "Trade", ["AAPL", 1.6, 100]]'))

    assert decoded.events == [Quote('AAPL', bid_price=Decimal('1.5')), Trade('AAPL', price=Decimal('1.6'), size=100)]


def test_a_changed_layout_applies_to_the_rows_after_it() -> None:
    decoder = _decoder({'Quote': ['eventSymbol', 'bidPrice', 'askPrice']})
    before = decoder.decode(_wire('["Quote", ["AAPL", 1.0, 2.0]]')).events

    changed = decoder.configure({'Quote': ['askPrice', 'bidPrice', 'eventSymbol']})
    after = decoder.decode(_wire('["Quote", [2.5, 1.5, "AAPL"]]')).events

    assert changed == ['Quote']
    assert before == [Quote('AAPL', bid_price=Decimal('1.0'), ask_price=Decimal('2.0'))]
    assert after == [Quote('AAPL', bid_price=Decimal('1.5'), ask_price=Decimal('2.5'))]


def test_reannouncing_the_same_layout_changes_nothing() -> None:
    decoder = _decoder({'Quote': QUOTE})

    assert decoder.configure({'Quote': list(QUOTE)}) == []


@pytest.mark.parametrize('missing', ['"NaN"', '"Infinity"', '"-Infinity"', 'NaN', 'Infinity', 'null', '""'])
def test_missing_prices_are_none_never_zero(missing: str) -> None:
    decoder = _decoder({'Quote': ['eventSymbol', 'bidPrice', 'askPrice']})

    (quote,) = decoder.decode(_wire(f'["Quote", ["AAPL", {missing}, 190.3]]')).events

    assert quote.bid_price is None
    assert quote.ask_price == Decimal('190.3')
    assert quote.mid is None


def test_a_zero_price_stays_zero() -> None:
    (quote,) = _decoder({'Quote': ['eventSymbol', 'bidPrice']}).decode(_wire('["Quote", ["AAPL", 0]]')).events

    assert quote.bid_price == 0


def test_prices_keep_their_decimal_text() -> None:
    (trade,) = (
        _decoder({'Trade': ['eventSymbol', 'price', 'dayVolume']})
        .decode(_wire('["Trade", ["SPY", 559.36, 1.3743299E7]]'))
        .events
    )

    assert trade.price == Decimal('559.36')
    assert str(trade.price) == '559.36'
    assert trade.day_volume == Decimal('13743299')


def test_rows_of_an_unannounced_type_are_dropped_and_counted() -> None:
    decoder = _decoder({'Quote': ['eventSymbol', 'bidPrice']})

    decoded = decoder.decode(_wire('["Trade", ["AAPL", 1.0, 100], "Quote", ["AAPL", 2.0]]'))

    assert decoded.unannounced == {'Trade'}
    assert decoded.events == [Quote('AAPL', bid_price=Decimal('2.0'))]


def test_a_value_list_that_is_not_whole_rows_is_dropped() -> None:
    decoded = _decoder({'Quote': ['eventSymbol', 'bidPrice']}).decode(_wire('["Quote", ["AAPL", 1.0, "MSFT"]]'))

    assert (decoded.events, decoded.malformed) == ([], 1)


def test_a_row_without_a_symbol_is_dropped_alone() -> None:
    decoded = _decoder({'Quote': ['eventSymbol', 'bidPrice']}).decode(_wire('["Quote", ["NaN", 1.0, "MSFT", 2.0]]'))

    assert decoded.events == [Quote('MSFT', bid_price=Decimal('2.0'))]
    assert decoded.malformed == 1


def test_a_layout_without_event_symbol_cannot_be_decoded() -> None:
    decoded = _decoder({'Quote': ['bidPrice', 'askPrice']}).decode(_wire('["Quote", [1.0, 2.0]]'))

    assert (decoded.events, decoded.malformed) == ([], 1)


def test_unknown_fields_are_skipped_and_unknown_types_ignored() -> None:
    decoder = _decoder({'Quote': ['eventSymbol', 'madeUp', 'bidPrice'], 'TheoPrice': ['eventSymbol', 'price']})

    decoded = decoder.decode(_wire('["Quote", ["AAPL", "x", 1.0], "TheoPrice", ["AAPL", 3.0]]'))

    assert decoded.events == [Quote('AAPL', bid_price=Decimal('1.0'))]
    assert (decoded.malformed, decoded.unannounced) == (0, set())


def test_the_full_format_is_decoded_by_name() -> None:
    decoded = FeedDecoder().decode(
        _wire('[{"eventType": "Quote", "eventSymbol": "AAPL", "bidPrice": 1.5, "askPrice": "NaN"}]')
    )

    assert decoded.events == [Quote('AAPL', bid_price=Decimal('1.5'))]


def test_every_event_type_decodes() -> None:
    decoder = _decoder(
        {
            'Summary': ['eventSymbol', 'dayOpenPrice', 'prevDayClosePrice', 'openInterest'],
            'Profile': ['eventSymbol', 'description', 'tradingStatus', 'highLimitPrice', 'statusReason'],
            'Greeks': ['eventSymbol', 'price', 'volatility', 'delta'],
            'Candle': ['eventSymbol', 'eventFlags', 'time', 'open', 'high', 'low', 'close', 'VWAP'],
        }
    )
    data = _wire(
        '["Summary", ["AAPL", 189.5, 188.0, 0], "Profile", ["AAPL", "Apple", "ACTIVE", 199.5, "NaN"],'
        ' "Greeks", [".AAPL261218C200", 7.15, 0.31, 0.52],'
        ' "Candle", ["AAPL{=1d}", 12, 1796187600000, 190.1, 191.0, 189.0, 190.5, 190.2]]'
    )

    summary, profile, greeks, candle = decoder.decode(data).events

    assert summary == Summary(
        'AAPL', day_open_price=Decimal('189.5'), prev_day_close_price=Decimal('188.0'), open_interest=0
    )
    assert profile == Profile('AAPL', description='Apple', trading_status='ACTIVE', high_limit_price=Decimal('199.5'))
    assert greeks == Greeks('.AAPL261218C200', price=Decimal('7.15'), volatility=Decimal('0.31'), delta=Decimal('0.52'))
    assert isinstance(candle, Candle)
    assert (candle.time, candle.close, candle.vwap) == (1796187600000, Decimal('190.5'), Decimal('190.2'))
    assert candle.snapshot_begin and candle.snapshot_end and not candle.snapshot_snip


def test_value_conversions() -> None:
    assert to_decimal('12.50') == Decimal('12.50')
    assert to_decimal(1.1) == Decimal('1.1')
    assert to_decimal(True) is None
    assert to_int(Decimal('1796187600000')) == 1796187600000
    assert to_int(Decimal('1.5')) is None
    assert to_int(False) is None
    assert to_text('NaN') is None
    assert to_bool('true') is True
    assert to_bool(1) is None


_VALUES = {
    'bidPrice': st.decimals(min_value=0, max_value=10_000, places=4, allow_nan=False),
    'askPrice': st.decimals(min_value=0, max_value=10_000, places=4, allow_nan=False),
    'bidSize': st.integers(0, 10**9),
    'askSize': st.integers(0, 10**9),
    'bidTime': st.integers(0, 2**53),
    'eventTime': st.integers(0, 2**53),
}


@given(
    order=st.permutations(['eventSymbol', *_VALUES]),
    rows=st.lists(
        st.fixed_dictionaries(
            {'eventSymbol': st.text('ABCDEFGHIJKLMNOPQRSTUVWXYZ./:', min_size=1, max_size=12), **_VALUES}
        ),
        min_size=1,
        max_size=20,
    ),
    nan_seed=st.integers(0, 2**32),
)
def test_any_announced_order_decodes_the_same_values(
    order: list[str], rows: list[dict[str, Any]], nan_seed: int
) -> None:
    rng = random.Random(nan_seed)
    for row in rows:  # some prices missing, as "NaN"
        for name in ('bidPrice', 'askPrice'):
            if rng.random() < 0.3:
                row[name] = 'NaN'
    flat = [row[name] for row in rows for name in order]
    text = json.dumps(['Quote', [float(v) if isinstance(v, Decimal) else v for v in flat]])

    events = _decoder({'Quote': order}).decode(_wire(text)).events

    assert [e.symbol for e in events] == [r['eventSymbol'] for r in rows]
    for event, row in zip(events, rows, strict=True):
        for name, attribute in (('bidPrice', 'bid_price'), ('askPrice', 'ask_price')):
            expected = None if row[name] == 'NaN' else Decimal(repr(float(row[name])))
            assert getattr(event, attribute) == expected
        assert event.bid_size == row['bidSize'] and event.bid_time == row['bidTime']


def test_decoded_events_are_immutable_instances_of_their_class() -> None:
    (quote,) = _decoder({'Quote': ['eventSymbol', 'bidPrice']}).decode(_wire('["Quote", ["AAPL", 1.5]]')).events

    assert type(quote) is Quote
    assert hash(quote) == hash(Quote('AAPL', bid_price=Decimal('1.5')))
    with pytest.raises(dataclasses.FrozenInstanceError):
        quote.bid_price = Decimal(0)  # type: ignore[misc]
