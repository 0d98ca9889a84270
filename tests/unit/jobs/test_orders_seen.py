"""Judging only the orders that changed (the snapshot's ``orders_seen`` digest) decides exactly what judging all
of them against the whole ledger decides: the same verdicts, the same reported changes, the same ledger writes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tastyguard.broker import models as wire
from tastyguard.jobs import tracking
from tastyguard.jobs.changes import classify
from tastyguard.jobs.ownership import decide
from tastyguard.store.intents import Intent, IntentOperation, IntentState
from tastyguard.store.ledger import LedgerEntry

pytestmark = pytest.mark.unit
A = '5WT00001'
START = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
STATUSES = ('Received', 'Live', 'Filled', 'Cancelled', 'Rejected', 'Expired')
FILLED_AT = '2026-11-20T15:00:00Z'
IDENTIFIERS = ('tg-one', 'tg-two', 'tg-one', None)  # two orders may share an identifier (a copy)


def _order(order_id: int, content: tuple[Any, ...], updated: int) -> wire.Order:
    symbol, ident, status, trigger, quantity, filled, replaces = content
    leg: dict[str, Any] = {
        'instrument-type': 'Equity',
        'symbol': symbol,
        'action': 'Sell to Close',
        'quantity': quantity,
        'remaining-quantity': quantity - filled,
        'fills': [
            {'fill-id': f'f{order_id}', 'quantity': filled, 'fill-price': '99.5', 'filled-at': '2026-11-20T15:00:00Z'}
        ]
        if filled
        else [],
    }
    body: dict[str, Any] = {
        'id': order_id,
        'account-number': A,
        'status': status,
        'order-type': 'Stop',
        'time-in-force': 'GTC',
        'stop-trigger': trigger,
        'underlying-symbol': symbol,
        'updated-at': updated,
        'legs': [leg],
        **({'external-identifier': ident} if ident else {}),
        **({'replaces-order-id': replaces} if replaces else {}),
    }
    return wire.Order.model_validate(body)


def _intents() -> list[Intent]:
    """tastyguard created order 1 under ``tg-one`` (so order 3 with the same identifier is a copy)."""
    request = {
        'order-type': 'Stop',
        'time-in-force': 'GTC',
        'stop-trigger': '95.00',
        'legs': [{'instrument-type': 'Equity', 'symbol': 'AAPL', 'action': 'Sell to Close', 'quantity': 100}],
    }
    return [
        Intent(
            account=A,
            key='tg-one',
            operation=IntentOperation.PLACE,
            symbol='AAPL',
            state=IntentState.SENT,
            request=request,
            order_id=1,
            run_id='r',
            mode='live',
            environment='paper',
            created_at=START,
            updated_at=START,
        )
    ]


CONTENT = st.tuples(
    st.sampled_from(('AAPL', 'KO')),
    st.sampled_from(IDENTIFIERS),
    st.sampled_from(STATUSES),
    st.sampled_from(('95.00', '96.00')),
    st.sampled_from((100, 200)),
    st.sampled_from((0, 50)),
    st.sampled_from((None, 1, 2)),
)
READ = st.dictionaries(st.integers(1, 6), st.one_of(st.none(), CONTENT), max_size=6)  # None: unchanged


def _comparable(changes: Any) -> tuple[Any, ...]:
    return (
        sorted((a.dedupe_key, a.message) for a in changes.alerts),
        sorted(changes.events),
        sorted(changes.person_cancels.items()),
        changes.reprotect,
    )


def _entries(entries: list[LedgerEntry]) -> dict[int, dict[str, Any]]:
    return {e.order_id: e.model_dump(exclude={'first_seen', 'last_seen'}) for e in entries}


# A stop of ours a person resized before the split was known becomes the broker's adjustment once it is, with
# the order itself unchanged: the reason orders on a split symbol are always judged.
RESIZED_THEN_SPLIT = [
    {2: ('KO', 'tg-two', 'Live', '95.00', 100, 0, None)},
    {2: ('KO', 'tg-two', 'Live', '95.00', 200, 0, None)},
    {2: None},
]

# A person's replacement of our stop under a new identifier, while our stop itself is settled: judging it needs
# the entry of the order it replaces.
REPLACED_BY_A_PERSON = [
    {1: ('AAPL', 'tg-one', 'Live', '95.00', 100, 0, None)},
    {1: None, 2: ('AAPL', 'tg-two', 'Live', '96.00', 100, 0, 1)},
]


@settings(max_examples=300, deadline=None)
@given(reads=st.lists(READ, min_size=1, max_size=6), split_from=st.integers(0, 6))
@example(reads=RESIZED_THEN_SPLIT, split_from=2)
@example(reads=REPLACED_BY_A_PERSON, split_from=6)
def test_judging_the_changed_orders_decides_what_judging_all_of_them_does(
    reads: list[dict[int, tuple[Any, ...] | None]], split_from: int
) -> None:
    ledger: dict[int, LedgerEntry] = {}
    digest: dict[int, str] = {}
    contents: dict[int, tuple[Any, ...]] = {}
    updated: dict[int, int] = {}
    clock = 1_781_292_831_405
    for step, read in enumerate(reads):
        now = START + timedelta(minutes=step)
        for order_id, content in read.items():  # the broker's orders change (a change moves updated-at)
            if content is not None and content != contents.get(order_id):
                clock += 1000
                contents[order_id], updated[order_id] = content, clock
        orders = [_order(i, contents[i], updated[i]) for i in sorted(contents) if i in read or step % 2 == 0]
        splits: Mapping[str, list[Decimal]] = {'KO': [Decimal(2)]} if step >= split_from else {}

        # all of them, against the whole ledger
        full = decide(orders, ledger, _intents, splits)
        full_changes = classify(A, orders, ledger, _intents, now, full)
        full_entries = tracking.changed_entries(orders, ledger, now, full)

        # only the changed ones, against their entries
        judged, settled = tracking.settled_orders(orders, digest, splits)
        previous = {i: ledger[i] for i in tracking.entries_to_read(judged) if i in ledger}
        others = [order for order in orders if order.id in settled]
        some = settled | decide(judged, previous, _intents, splits, others=others, everything=lambda: ledger)
        some_changes = classify(A, judged, previous, _intents, now, some)
        some_entries = tracking.changed_entries(judged, previous, now, some)

        assert {i: v.ours for i, v in some.items()} == {i: v.ours for i, v in full.items()}
        assert _comparable(some_changes) == _comparable(full_changes)
        assert _entries(some_entries) == _entries(full_entries)
        ledger.update({entry.order_id: entry for entry in full_entries})
        digest = tracking.orders_seen(orders, full)


def test_an_order_as_recorded_is_settled_with_its_verdict_and_a_change_is_judged() -> None:
    content = ('AAPL', 'tg-one', 'Live', '95.00', 100, 0, None)
    order = _order(1, content, 1_781_292_831_405)
    person = _order(2, ('AAPL', None, 'Filled', '95.00', 100, 100, None), 1_781_292_831_405)
    digest = tracking.orders_seen([order, person], {1: decide([order], {}, _intents)[1]})
    judged, settled = tracking.settled_orders([order, person], digest)
    assert judged == [] and settled[1].ours and not settled[2].ours
    # a fill, a new status, or a new update time is judged again, and so is every order on a split symbol
    moved = _order(1, content, 1_781_292_832_405)
    assert tracking.settled_orders([moved], digest)[0] == [moved]
    assert tracking.settled_orders([order], digest, {'AAPL'})[0] == [order]
    assert tracking.settled_orders([order], {})[0] == [order]
