"""The streamer's health item is written to (and read back from) DynamoDB, floats and all."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from tastyguard.store.keys import GLOBAL_PK
from tastyguard.store.table import StateTable
from tastyguard.streaming.health import (
    MAX_WATCHED_ENTRIES,
    STREAMER_HEALTH_SK,
    Health,
    HealthReport,
    SocketHealth,
    StreamerHealthRecord,
    read_health,
)


def test_the_item_with_fractional_silences_is_written_and_reads_back(state: StateTable) -> None:
    seen = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    report = HealthReport(
        {'account': SocketHealth(True, 1.234, 2, seen), 'dxlink': SocketHealth(True, 0.25, 0, seen)},
        healthy=True,
        symbols=12,
    )
    health = Health(check=lambda: report, wall=lambda: seen, owner='streamer:test', state=state)
    health.beat(1.0)
    record = state.get_record(GLOBAL_PK, STREAMER_HEALTH_SK, StreamerHealthRecord)
    assert record is not None, 'the health item was not written'
    assert record.healthy and record.symbols == 12
    assert float(record.sockets['account']['silent_for']) == 1.2
    assert record.sockets['account']['reconnects'] == 2


def test_what_the_accounts_socket_holds_and_the_accounts_activity_read_back(state: StateTable) -> None:
    seen = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    report = HealthReport(
        {'account': SocketHealth(True, 0.5, 0, seen)},
        healthy=True,
        held={'5WT00001': seen, '5WT00002': seen},
        activity={'5WT00002': seen.replace(minute=3)},
    )
    Health(check=lambda: report, wall=lambda: seen, owner='streamer:test', state=state).beat(1.0)
    record = read_health(state)
    assert record is not None
    assert record.held == {'5WT00001': seen, '5WT00002': seen}
    assert record.activity == {'5WT00002': seen.replace(minute=3)}


@pytest.mark.anyio
async def test_a_poke_writes_the_item_within_seconds_and_the_last_item_holds_nothing(state: StateTable) -> None:
    seen = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    reports = [HealthReport({'account': SocketHealth(True, 0.5, 0, seen)}, healthy=True, held={'5WT00001': seen})]
    health = Health(
        check=lambda: reports[-1],
        wall=lambda: seen,
        owner='streamer:test',
        state=state,
        poke_delay=0.05,
        poke_every=0.1,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(health.run(stop))
    await _until(lambda: (r := read_health(state)) is not None and r.held == {'5WT00001': seen})
    # When something happens on an account between two regular writes (every 30 s)
    reports.append(replace(reports[-1], activity={'5WT00001': seen.replace(minute=1)}))
    health.poke()
    # Then the item says so within a moment, not 30 s later
    await _until(lambda: (r := read_health(state)) is not None and '5WT00001' in r.activity)
    # And when the streamer stops, its last item holds no account (the dispatcher sweeps them all again)
    stop.set()
    await task
    last = read_health(state)
    assert last is not None and last.held == {} and not last.healthy and last.activity


async def _until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, 'the item was not written in time'
        await asyncio.sleep(0.02)


def test_too_many_accounts_for_one_item_leave_the_lists_out_not_the_item(state: StateTable) -> None:
    seen = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    held = {f'5WT{i:05d}': seen for i in range(MAX_WATCHED_ENTRIES + 1)}
    report = HealthReport({'account': SocketHealth(True, 0.5, 0, seen)}, healthy=True, held=held)
    Health(check=lambda: report, wall=lambda: seen, owner='streamer:test', state=state).beat(1.0)
    record = read_health(state)
    assert record is not None and record.healthy and record.held == {}  # written: every account is swept
