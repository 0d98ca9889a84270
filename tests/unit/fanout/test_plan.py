"""Planning a tick: how many accounts a grant sweeps, the rotation when they do not fit, the pacing."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tastyguard.fanout.plan import MAX_DELAY_SECONDS, capacity, plan_tick, quiet_accounts, sweep, sweep_watched

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


# --- the sweep with a streamer: quiet accounts (decision 60) ----------------------------------------------------
START = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
PERIOD = timedelta(minutes=5)


def test_quiet_means_held_before_the_last_verified_run_and_nothing_since() -> None:
    verified = {'A': START, 'B': START, 'C': START, 'D': START}
    held = {'A': START - timedelta(minutes=1), 'B': START + timedelta(seconds=1), 'C': START - timedelta(minutes=1)}
    activity = {'C': START - timedelta(seconds=2), 'A': START - timedelta(minutes=3)}
    # A: quiet; B: the socket took hold after its last read; C: a notification too close to the read to tell;
    # D: not held; E: never verified
    assert quiet_accounts(['A', 'B', 'C', 'D', 'E'], verified, held, activity) == {'A': START}


def test_quiet_accounts_about_to_pass_their_verify_period_are_all_read_beyond_the_share() -> None:
    # Given 8 quiet accounts, four last read 11 minutes ago: a 15-minute verify period would pass before the next
    # tick for those four, although the even share is ceil(8 × 5 / 15) = 3
    quiet = {f'A{i}': START - timedelta(minutes=11) for i in range(4)} | {
        f'B{i}': START - timedelta(minutes=1) for i in range(4)
    }
    result = sweep_watched('g', [*quiet, 'DUE'], None, 0, quiet, START, PERIOD, timedelta(minutes=15))
    assert result.accounts == ('A0', 'A1', 'A2', 'A3', 'DUE') and (result.deferred, result.resting) == (4, 4)
    # and with room for three, those four count as due: they rotate with the due one, none is crowded out for good
    tight = sweep_watched('g', [*quiet, 'DUE'], 3, 0, quiet, START, PERIOD, timedelta(minutes=15))
    assert tight.accounts == ('A0', 'A1', 'A2') and (tight.deferred, tight.resting) == (6, 4)
    after = sweep_watched('g', [*quiet, 'DUE'], 3, tight.next_cursor, quiet, START, PERIOD, timedelta(minutes=15))
    assert after.accounts[:2] == ('A3', 'DUE')


def test_quiet_accounts_past_their_verify_period_are_reached_even_when_due_ones_fill_the_limit() -> None:
    # Given a limit of 5, six accounts with something happening on them every tick, four quiet ones
    due = [f'D{i}' for i in range(6)]
    quiet = {f'Q{i}': START - timedelta(hours=3) for i in range(4)}
    cursor, read = 0, set()
    for tick in range(3):
        result = sweep_watched('g', [*due, *quiet], 5, cursor, quiet, START + tick * PERIOD, PERIOD, PERIOD * 6)
        read |= set(result.accounts)
        cursor = result.next_cursor
    # Then within ceil(10 / 5) + 1 ticks every quiet account was read too
    assert set(quiet) <= read


def test_a_notification_shortly_before_a_run_or_a_verification_before_the_open_makes_an_account_due() -> None:
    held = {'A': START - timedelta(hours=1), 'B': START - timedelta(hours=1), 'C': START - timedelta(hours=20)}
    verified = {'A': START, 'B': START, 'C': START - timedelta(hours=18)}
    # A: a fill 30 s before its run began (REST may not show it yet); C: verified yesterday, before today's open
    activity = {'A': START - timedelta(seconds=30), 'B': START - timedelta(minutes=2)}
    opened = START - timedelta(minutes=30)
    assert quiet_accounts(['A', 'B', 'C'], verified, held, activity, not_before=opened) == {'B': START}


@st.composite
def histories(draw: st.DrawFn) -> tuple[int, timedelta, list[tuple[set[int], bool]], int | None]:
    accounts = draw(st.integers(1, 25))
    verify = draw(st.sampled_from([5, 10, 15, 30, 60])) * timedelta(minutes=1)
    ticks = draw(
        st.lists(
            st.tuples(st.sets(st.integers(0, accounts - 1), max_size=3), st.booleans()),
            min_size=1,
            max_size=30,
        )
    )
    limit = draw(st.none() | st.integers(1, 30))
    return accounts, verify, ticks, limit


@settings(max_examples=300)
@given(histories(), st.integers(0, 1000))
def test_with_a_streamer_every_change_is_swept_next_tick_and_no_account_waits_past_its_verify_period(
    history: tuple[int, timedelta, list[tuple[set[int], bool]], int | None], cursor: int
) -> None:
    count, verify, ticks, limit = history
    names = [f'5WT{i:05d}' for i in range(count)]
    verified: dict[str, datetime] = {}
    held_since = START - timedelta(hours=1)
    activity: dict[str, datetime] = {}
    now = START
    for active, reconnect in ticks:
        if reconnect and now.minute % 2:  # now and then the account socket reconnects
            held_since = now - timedelta(seconds=30)
        for index in active:  # something happened on these since the last tick
            activity[names[index]] = now - timedelta(seconds=10)
        held = dict.fromkeys(names, held_since)
        quiet = quiet_accounts(names, verified, held, activity)
        result = sweep_watched('g', names, limit, cursor, quiet, now, PERIOD, verify)
        chosen = set(result.accounts)
        # the sweep holds each account once, only this grant's, and counts the rest as left for later
        assert len(chosen) == len(result.accounts) and chosen <= set(names)
        assert result.deferred == count - len(chosen)
        # due: not quiet, or quiet but past its verify period by the next tick (they rotate together when they do
        # not all fit, as every account did before the streamer)
        due = [a for a in names if a not in quiet or now + PERIOD - quiet[a] > verify]
        if limit is None or len(due) <= limit:
            # every account something happened on, never verified, or verified before the socket held it: now
            assert set(due) <= chosen
            for index in active:
                assert names[index] in chosen
        if limit is None:
            # and no quiet account goes unread for longer than the verify period
            for account in names:
                if account not in chosen and account in verified:
                    assert now + PERIOD - verified[account] <= verify, (account, now, verified[account])
        for account in chosen:
            verified[account] = now + timedelta(seconds=1)  # the run begins a moment after the tick
        cursor = result.next_cursor
        now += PERIOD
