"""Subscription diffs and chunking: no message over the byte or item limit, nothing lost, reset first."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tastyguard.streaming.dxlink import CandlePeriod, CandleSubscription, CandleUnit, EventType
from tastyguard.streaming.dxlink.subscriptions import Changes, changes, chunked, encoded_size

pytestmark = pytest.mark.unit


def test_the_diff_adds_what_is_new_and_removes_what_is_gone() -> None:
    delta = changes(EventType.QUOTE, {'AAPL': None, 'MSFT': None}, {'MSFT': None, 'SPY': None})

    assert delta.add == ({'type': 'Quote', 'symbol': 'SPY'},)
    assert delta.remove == ({'type': 'Quote', 'symbol': 'AAPL'},)


def test_a_candle_with_a_new_from_time_is_added_again() -> None:
    delta = changes(EventType.CANDLE, {'AAPL{=1d}': 1000}, {'AAPL{=1d}': 500})

    assert delta.add == ({'type': 'Candle', 'symbol': 'AAPL{=1d}', 'fromTime': 500},)
    assert delta.remove == ()


def test_no_change_is_empty() -> None:
    assert not changes(EventType.QUOTE, {'AAPL': None}, {'AAPL': None})


def test_the_first_chunk_carries_reset_even_with_nothing_to_add() -> None:
    assert chunked(1, Changes(), reset=True, max_bytes=8192, max_items=250) == [
        {'type': 'FEED_SUBSCRIPTION', 'channel': 1, 'reset': True}
    ]


def test_an_unsendable_symbol_is_refused_loudly() -> None:
    delta = changes(EventType.QUOTE, {}, {'X' * 600: None})

    with pytest.raises(ValueError, match='longer than 512 bytes'):
        chunked(1, delta, reset=False, max_bytes=512, max_items=250)


@given(
    have=st.sets(st.text('ABCDEFGHIJKLMNOPQRSTUVWXYZ', min_size=1, max_size=20), max_size=600),
    want=st.sets(st.text('ABCDEFGHIJKLMNOPQRSTUVWXYZ', min_size=1, max_size=20), max_size=600),
    max_bytes=st.integers(512, 9000),
    max_items=st.integers(1, 300),
    reset=st.booleans(),
)
def test_chunks_respect_the_limits_and_carry_exactly_the_diff(
    have: set[str], want: set[str], max_bytes: int, max_items: int, reset: bool
) -> None:
    delta = changes(EventType.QUOTE, dict.fromkeys(have), dict.fromkeys(want))

    messages = chunked(7, delta, reset=reset, max_bytes=max_bytes, max_items=max_items)

    for message in messages:
        assert encoded_size(message) <= max_bytes
        assert len(message.get('add', [])) + len(message.get('remove', [])) <= max_items
        assert message['type'] == 'FEED_SUBSCRIPTION' and message['channel'] == 7
    added = [i['symbol'] for m in messages for i in m.get('add', [])]
    removed = [i['symbol'] for m in messages for i in m.get('remove', [])]
    assert sorted(added) == sorted(want - have)
    assert sorted(removed) == sorted(have - want)
    assert [bool(m.get('reset')) for m in messages] == ([reset] + [False] * (len(messages) - 1) if messages else [])


def test_two_thousand_symbols_fit_in_8_kib_messages() -> None:
    symbols = {f'.SPXW261218C{5000 + i}': None for i in range(2000)}

    messages = chunked(1, changes(EventType.QUOTE, {}, symbols), reset=True, max_bytes=8192, max_items=250)

    assert len(messages) >= 8
    assert max(len(json.dumps(m, separators=(',', ':'))) for m in messages) <= 8192


def test_candle_periods_and_symbols() -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)

    assert CandlePeriod.parse('5m') == CandlePeriod(5, CandleUnit.MINUTE)
    assert CandlePeriod.parse('d') == CandlePeriod(1, CandleUnit.DAY)
    assert str(CandlePeriod.parse('1mo')) == '1mo'
    assert CandleSubscription('AAPL', CandlePeriod.parse('1d'), start).candle_symbol == 'AAPL{=1d}'
    assert CandleSubscription('SPY', CandlePeriod.parse('1h'), start, True).candle_symbol == 'SPY{=1h,tho=true}'
    assert CandleSubscription('AAPL', CandlePeriod.parse('1d'), start).from_time_ms == 1793491200000


@pytest.mark.parametrize('text', ['', '0m', '5x', 'm5', '1.5h'])
def test_a_bad_candle_period_names_the_allowed_units(text: str) -> None:
    with pytest.raises(ValueError, match='use <count><unit>'):
        CandlePeriod.parse(text)


def test_a_candle_subscription_wants_a_plain_symbol_and_an_aware_start() -> None:
    with pytest.raises(ValueError, match='streamer symbol'):
        CandleSubscription('AAPL{=1d}', CandlePeriod.parse('1d'), datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match='timezone-aware'):
        CandleSubscription('AAPL', CandlePeriod.parse('1d'), datetime(2026, 1, 1))  # noqa: DTZ001
