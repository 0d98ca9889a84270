"""The fill tracker's position baseline: a change a REST read shows first is an event, its late message is not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tastyguard.broker import models as wire
from tastyguard.broker.models.streamer import Notification, parse_notification
from tastyguard.jobs.invocation import JobInvocation, JobName
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


def _order(
    status: str, *, ours: bool = False, action: str = 'Sell to Close', updated: int = 1, replaced_by: int | None = None
) -> Notification:
    data = {
        'replacing-order-id': replaced_by,
        'id': 100001, 'account-number': A, 'status': status, 'order-type': 'Stop', 'time-in-force': 'GTC',
        'stop-trigger': '170.0', 'size': '100', 'underlying-symbol': 'AAPL', 'underlying-instrument-type': 'Equity',
        'updated-at': updated, 'external-identifier': 'tg-0123456789abcdef' if ours else None,
        'legs': [{'instrument-type': 'Equity', 'symbol': 'AAPL', 'quantity': '100', 'remaining-quantity': '100',
                  'action': action, 'fills': []}],
    }  # fmt: skip
    return parse_notification({'type': 'Order', 'data': {k: v for k, v in data.items() if v is not None}})


def test_a_closing_order_that_ends_without_a_fill_is_one_order_ended_event() -> None:
    tracker = _tracker()
    assert tracker.events([_order('Live')]) == []
    # When the person cancels their stop: the request, then the confirmation (and the confirmation again)
    assert tracker.events([_order('Cancel Requested', updated=2)]) == []
    [ended] = tracker.events([_order('Cancelled', updated=3)])
    assert (ended.detail_type, ended.symbol, ended.extra['status']) == (DetailType.ORDER_ENDED, 'AAPL', 'Cancelled')
    assert tracker.events([_order('Cancelled', updated=3)]) == [] and tracker.duplicates == 1
    assert tracker.events([_order('Cancelled', updated=4)]) == []  # ended once: a later update is no new event


@pytest.mark.parametrize(('status', 'ours', 'action', 'events'), [
    ('Rejected', True, 'Sell to Close', 1),  # our stop the venue rejected
    ('Expired', False, 'Sell to Close', 1),  # a person's Day take-profit at the close
    ('Cancelled', True, 'Sell', 1),  # one of ours on a future ("Sell", no position effect)
    ('Cancelled', False, 'Buy to Open', 0),  # an opening order covers nothing
    ('Filled', False, 'Sell to Close', 0),  # a fill is the fill's event
])  # fmt: skip
def test_which_ended_orders_make_the_fast_path_look(status: str, ours: bool, action: str, events: int) -> None:
    tracker = _tracker()
    assert len(tracker.events([_order(status, ours=ours, action=action)])) == events


def test_two_different_closes_of_one_symbol_seen_first_by_a_positions_read_are_two_fast_path_runs() -> None:
    tracker = _tracker()  # 100 AAPL known
    # AAPL goes flat; the positions read shows it before the message does
    [first] = tracker.positions_read([A], [])
    assert tracker.events([_message('AAPL', 0)]) == []  # its late message is the duplicate
    # Later the same day AAPL is bought again (its message is heard) and goes flat again, read first again
    [reopened] = tracker.events([_message('AAPL', 50)])
    assert reopened.quantity == 50
    [second] = tracker.positions_read([A], [])
    assert tracker.events([_message('AAPL', 0)]) == []  # and its message is a duplicate too

    # Then the two closes are two events: the fast path de-duplicates runs by event id for 6 hours
    # (functions/common/jobs.py) and derives the run's order identifiers from it (JobInvocation.salt)
    one = JobInvocation(job=JobName.ENSURE_STOPS, account=A, symbol='AAPL', event_id=first.event_id)
    two = JobInvocation(job=JobName.ENSURE_STOPS, account=A, symbol='AAPL', event_id=second.event_id)
    assert one.idempotency_key != two.idempotency_key, 'the second close is dropped as a duplicate of the first'


def test_a_replaced_order_is_no_order_ended_event() -> None:
    # A trailing stop's move: the old order ends Cancelled, and its replacement covers what it covered
    tracker = _tracker()
    assert tracker.events([_order('Cancelled', ours=True, replaced_by=100002)]) == []
