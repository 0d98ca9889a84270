"""The fill tracker's position baseline: a change a REST read shows first is an event, its late message is not."""

from __future__ import annotations

from datetime import UTC, datetime

from tastyguard.broker import models as wire
from tastyguard.broker.models.streamer import Notification, parse_notification
from tastyguard.streaming.events import DetailType
from tastyguard.streaming.fills import FillTracker

A = '5WT00001'
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def _position(symbol: str, quantity: int, account: str = A) -> wire.Position:
    return wire.Position.model_validate(
        {
            'account-number': account,
            'symbol': symbol,
            'instrument-type': 'Equity',
            'underlying-symbol': symbol,
            'quantity': str(abs(quantity)),
            'quantity-direction': 'Long' if quantity > 0 else 'Short' if quantity < 0 else 'Zero',
            'average-open-price': '100.0',
            'multiplier': 1,
            'updated-at': '2026-03-02T15:00:00.000+00:00',
        }
    )


def _message(symbol: str, quantity: int) -> Notification:
    data = _position(symbol, quantity).model_dump(mode='json', by_alias=True, exclude_none=True)
    return parse_notification({'type': 'CurrentPosition', 'data': data})


def _tracker() -> FillTracker:
    tracker = FillTracker(lambda: NOW)
    assert tracker.positions_read([A], [_position('AAPL', 100)]) == []  # the first read only seeds
    return tracker


def test_a_quantity_a_positions_read_shows_first_is_a_position_change_and_its_message_a_duplicate() -> None:
    tracker = _tracker()
    # When a positions read shows 300 SPY that the tracker never heard of
    [event] = tracker.positions_read([A], [_position('AAPL', 100), _position('SPY', 300)])
    # Then that is the change, with the id SPY's own message would have given it
    assert (event.detail_type, event.symbol, event.quantity) == (DetailType.POSITION_CHANGED, 'SPY', 300)
    assert tracker.events([_message('SPY', 300)]) == [] and tracker.duplicates == 1


def test_the_same_quantity_read_again_or_announced_again_is_nothing() -> None:
    tracker = _tracker()
    assert tracker.positions_read([A], [_position('AAPL', 100)]) == []
    assert tracker.events([_message('AAPL', 100)]) == []
    [moved] = tracker.events([_message('AAPL', 50)])
    assert moved.quantity == 50
    assert tracker.positions_read([A], [_position('AAPL', 50)]) == []  # the read after the message
    assert tracker.events([_message('AAPL', 50)]) == [] and tracker.duplicates == 2


def test_a_position_a_read_no_longer_lists_is_a_change_to_flat() -> None:
    tracker = _tracker()
    [gone] = tracker.positions_read([A], [])
    assert (gone.symbol, gone.quantity) == ('AAPL', 0)
    assert tracker.events([_message('AAPL', 0)]) == []


def test_an_account_the_read_did_not_cover_keeps_its_baseline() -> None:
    tracker = _tracker()
    other = '5WT00002'
    assert tracker.positions_read([other], [_position('MSFT', 10, other)]) == []  # that account's first read
    assert tracker.positions_read([A], [_position('AAPL', 100)]) == []
    [event] = tracker.positions_read([other], [_position('MSFT', 20, other)])
    assert (event.account, event.symbol, event.quantity) == (other, 'MSFT', 20)
