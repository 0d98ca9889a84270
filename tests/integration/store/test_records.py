from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from tastyguard.store.alerts import AlertRecord, AlertStateStore
from tastyguard.store.highwater import HighWaterStore
from tastyguard.store.keys import account_pk, order_sk
from tastyguard.store.ledger import LedgerEntry, OrderLedger
from tastyguard.store.runs import RunRecord, RunStatus, RunStore
from tastyguard.store.snapshots import HeldPosition, PositionSnapshot, SnapshotConflictError, SnapshotStore
from tastyguard.store.table import StateTable, to_record
from tests.clock import FakeClock

pytestmark = pytest.mark.integration


def _entry(state: StateTable, order_id: int, *, terminal: bool = False, status: str = 'Live') -> LedgerEntry:
    now = state.clock()
    return LedgerEntry(
        account='5WT00001',
        order_id=order_id,
        status=status,
        ours=True,
        symbol='AAPL',
        order_type='Stop',
        action='Sell to Close',
        quantity=Decimal(100),
        remaining_quantity=Decimal(100),
        stop_trigger=Decimal('160.65'),
        terminal=terminal,
        first_seen=now,
        last_seen=now,
    )


def test_ledger_round_trips_entries_with_decimals(state: StateTable) -> None:
    ledger = OrderLedger(state)
    ledger.save([_entry(state, 1), _entry(state, 2)])
    entries = ledger.all('5WT00001')
    assert sorted(entries) == [1, 2]
    assert entries[1].stop_trigger == Decimal('160.65')
    assert ledger.get('5WT00001', 2) == entries[2]


def test_ledger_leaves_out_terminal_orders_past_their_expiry(state: StateTable, clock: FakeClock) -> None:
    ledger = OrderLedger(state)
    ledger.save([_entry(state, 1, terminal=True, status='Filled'), _entry(state, 2)])
    clock.advance(days=15)
    assert sorted(OrderLedger(state).all('5WT00001')) == [2]


def test_ledger_reads_some_entries_by_order_id(state: StateTable, clock: FakeClock) -> None:
    ledger = OrderLedger(state)
    ledger.save([_entry(state, 1), _entry(state, 2, terminal=True, status='Filled'), _entry(state, 3)])
    assert sorted(ledger.some('5WT00001', [1, 3, 99])) == [1, 3]  # an id with no entry is simply absent
    assert sorted(ledger.some('5WT00002', [1])) == []  # another account's ledger is another partition
    clock.advance(days=15)
    assert sorted(ledger.some('5WT00001', [1, 2])) == [1]  # expired-but-unswept is left out, as in all()
    assert ledger.some('5WT00001', []) == {}


def test_batch_reads_take_every_key_over_several_requests(state: StateTable) -> None:
    OrderLedger(state).save([_entry(state, n) for n in range(1, 251)])
    found = OrderLedger(state).some('5WT00001', range(1, 251))  # three BatchGetItem requests of up to 100
    assert sorted(found) == list(range(1, 251))


class _Throttled:
    """A DynamoDB client whose BatchGetItem answers one key per request and leaves the rest unprocessed."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.requests = 0

    def __getattr__(self, name: str) -> Any:  # every other call goes to the real client
        return getattr(self.real, name)

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.requests += 1
        [(name, request)] = RequestItems.items()
        first, *rest = request['Keys']
        response = self.real.batch_get_item(RequestItems={name: {**request, 'Keys': [first]}})
        if rest:
            response['UnprocessedKeys'] = {name: {**request, 'Keys': rest}}
        return dict(response)


def test_keys_left_unprocessed_are_returned_never_dropped(state: StateTable, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = OrderLedger(state)
    ledger.save([_entry(state, n) for n in range(1, 8)])
    throttled = _Throttled(state.table.meta.client)
    monkeypatch.setattr(state.table.meta, 'client', throttled)
    keys = [(account_pk('5WT00001'), order_sk(n)) for n in range(1, 8)]
    # When DynamoDB keeps throttling, the table gives up after its attempts and says which keys are left
    items, left = state.get_items(keys, attempts=3)
    assert throttled.requests == 3 and len(items) == 3 and len(left) == 4
    assert {item['sk'] for item in items} | {sk for _, sk in left} == {sk for _, sk in keys}
    # and the ledger reads those one by one: every entry is found
    assert sorted(ledger.some('5WT00001', range(1, 8))) == list(range(1, 8))


def test_snapshot_save_is_optimistic(state: StateTable) -> None:
    store = SnapshotStore(state)
    base = PositionSnapshot(
        account='5WT00001',
        taken_at=state.clock(),
        positions=[HeldPosition(symbol='AAPL', instrument_type='Equity', quantity=Decimal(100))],
        absent_counts={'INTC': 1},
    )
    saved = store.save(base)
    assert store.latest('5WT00001') == saved
    # A writer that started from the old version loses
    with pytest.raises(SnapshotConflictError):
        store.save(base)
    store.save(saved.model_copy(update={'absent_counts': {'INTC': 2}}))
    latest = store.latest('5WT00001')
    assert latest is not None
    assert latest.absent_counts == {'INTC': 2}
    assert latest.by_symbol()['AAPL'].quantity == Decimal(100)


def test_dated_snapshot_copies_live_outside_the_accounts_partition(state: StateTable) -> None:
    store = SnapshotStore(state)
    snapshot = PositionSnapshot(
        account='5WT00001',
        taken_at=state.clock(),
        positions=[HeldPosition(symbol='AAPL', instrument_type='Equity', quantity=Decimal(100))],
        orders_seen={7: '2026-12-04T15:00:00+00:00/Live/0/ours'},
    )
    store.save(snapshot)
    dated = list(state.query_prefix('SNAPSHOTS#5WT00001', 'SNAPSHOT#'))
    assert len(dated) == 1 and 'expires_at' in dated[0]  # kept for a while, then expired by TTL
    copy = to_record(dated[0], PositionSnapshot)
    assert copy.positions == snapshot.positions
    assert copy.orders_seen == {}  # the history copy carries no digest
    # what a run queries in the account's partition holds no dated copy
    assert [item['sk'] for item in state.query_prefix(account_pk('5WT00001'), 'SNAPSHOT#')] == ['SNAPSHOT#LATEST']


def test_high_water_only_moves_in_the_favourable_direction(state: StateTable) -> None:
    store = HighWaterStore(state)
    assert store.raise_to('5WT00001', 'AAPL', long=True, price=Decimal('190.00')).price == Decimal('190.00')
    assert store.raise_to('5WT00001', 'AAPL', long=True, price=Decimal('185.00')).price == Decimal('190.00')
    assert store.raise_to('5WT00001', 'AAPL', long=True, price=Decimal('195.50')).price == Decimal('195.50')
    assert store.raise_to('5WT00001', 'TSLA', long=False, price=Decimal('240')).price == Decimal('240')
    assert store.raise_to('5WT00001', 'TSLA', long=False, price=Decimal('245')).price == Decimal('240')
    assert store.raise_to('5WT00001', 'TSLA', long=False, price=Decimal('230')).price == Decimal('230')
    # A flip (long → short) starts a new mark
    assert store.raise_to('5WT00001', 'AAPL', long=False, price=Decimal('199')).price == Decimal('199')


def test_runs_come_back_newest_first(state: StateTable, clock: FakeClock) -> None:
    store = RunStore(state)
    for index in range(3):
        run = RunRecord(
            run_id=f'r{index}',
            job='ensure_stops',
            account='5WT00001',
            mode='shadow',
            environment='paper',
            started_at=clock(),
        )
        store.start(run)
        store.finish(run.model_copy(update={'status': RunStatus.OK, 'finished_at': clock()}))
        clock.advance(minutes=5)
    recent = store.recent('5WT00001', limit=2)
    assert [run.run_id for run in recent] == ['r2', 'r1']
    assert recent[0].status is RunStatus.OK


def test_alert_records_round_trip(state: StateTable) -> None:
    now = state.clock()
    record = AlertRecord(
        account='5WT00001',
        dedupe_key='breached:AMD',
        kind='breached',
        severity='warning',
        symbol='AMD',
        message='AMD is below its stop',
        first_seen=now,
        last_seen=now,
        last_sent=now,
        times_sent=1,
    )
    store = AlertStateStore(state)
    store.save([record, record.model_copy(update={'dedupe_key': 'x', 'resolved_at': now + timedelta(hours=1)})])
    records = store.all('5WT00001')
    assert records['breached:AMD'] == record
    assert not records['x'].open
