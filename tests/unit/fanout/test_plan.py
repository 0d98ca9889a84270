"""Planning a tick: how many accounts a grant sweeps, the rotation when they do not fit, the pacing."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tastyguard.fanout.plan import MAX_DELAY_SECONDS, capacity, plan_tick, sweep

pytestmark = pytest.mark.unit


def test_a_grant_sweeps_what_its_positions_budget_reads_in_the_window() -> None:
    # 0.8 positions reads/s for 240 s of a 5-minute period
    assert capacity('ensure_stops', 0.8, 240) == 192
    assert capacity('reconcile_orders', 40.0, 720) == 9600  # three global calls per account
    assert capacity('digest', 0.8, 0) is None  # the daily digest reaches every account


def test_accounts_that_fit_are_all_swept_in_order() -> None:
    result = sweep('g', ['5WT00003', '5WT00001', '5WT00002', '5WT00001'], limit=10, cursor=7)
    assert (result.accounts, result.deferred, result.next_cursor) == (('5WT00001', '5WT00002', '5WT00003'), 0, 0)


def test_accounts_that_do_not_fit_rotate_from_the_cursor() -> None:
    accounts = [f'5WT{i:05d}' for i in range(1, 6)]
    first = sweep('g', accounts, limit=2, cursor=0)
    second = sweep('g', accounts, limit=2, cursor=first.next_cursor)
    third = sweep('g', accounts, limit=2, cursor=second.next_cursor)
    assert [first.accounts, second.accounts, third.accounts] == [
        ('5WT00001', '5WT00002'),
        ('5WT00003', '5WT00004'),
        ('5WT00005', '5WT00001'),
    ]
    assert first.deferred == 3


@given(count=st.integers(1, 60), limit=st.integers(1, 20), cursor=st.integers(0, 1000))
def test_the_rotation_reaches_every_account_within_ceil_n_over_limit_ticks(count: int, limit: int, cursor: int) -> None:
    accounts = [f'5WT{i:05d}' for i in range(count)]
    seen: set[str] = set()
    for _ in range(math.ceil(count / limit)):
        result = sweep('g', accounts, limit=limit, cursor=cursor)
        assert len(result.accounts) == min(count, limit)
        seen.update(result.accounts)
        cursor = result.next_cursor
    assert seen == set(accounts)


def test_messages_are_delayed_to_the_grant_pace_and_interleaved_across_grants() -> None:
    plan = plan_tick(
        'ensure_stops',
        [sweep('a', ['5WT00001', '5WT00002', '5WT00003'], None, 0), sweep('b', ['5WT00004', '5WT00005'], None, 0)],
        {'a': 0.8, 'b': 0.8},
    )
    assert [(item.grant, item.account, item.delay) for item in plan.items] == [
        ('a', '5WT00001', 0),
        ('b', '5WT00004', 0),
        ('a', '5WT00002', 1),
        ('b', '5WT00005', 1),
        ('a', '5WT00003', 2),
    ]


def test_delays_never_exceed_what_sqs_allows() -> None:
    plan = plan_tick('digest', [sweep('a', [f'5WT{i:05d}' for i in range(2000)], None, 0)], {'a': 0.8})
    assert max(item.delay for item in plan.items) == MAX_DELAY_SECONDS
