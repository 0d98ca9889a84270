"""The dispatcher and the worker bookkeeping against moto: grants, breakers, discovery, pacing, ticks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tastyguard.broker.errors import BrokerConnectionError
from tastyguard.broker.stats import BrokerStats
from tastyguard.broker.tokens import BreakerTrip
from tastyguard.config.loader import config_fingerprint, parse_config
from tastyguard.fanout.dispatch import dispatch
from tastyguard.fanout.queue import MemoryWorkQueue
from tastyguard.fanout.worker import finish_account, is_stale, record_verified
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.invocation import JobInvocation, JobName
from tastyguard.jobs.results import AccountRunResult, ActionResult, AlertView
from tastyguard.jobs.wiring import build_context
from tastyguard.notify.ports import MemoryNotifier
from tastyguard.store.keys import GLOBAL_PK
from tastyguard.store.streamer_health import STREAMER_HEALTH_SK, StreamerHealthRecord
from tastyguard.store.table import StateTable
from tastyguard.store.ticks import TickStore
from tests.clock import FakeClock

pytestmark = pytest.mark.integration


class NoBroker:
    """The dispatcher never calls the broker itself (discovery is passed in)."""

    stats = BrokerStats()


class Queue(MemoryWorkQueue):
    """The in-memory queue, remembering every message and its delay."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[tuple[JobInvocation, int]] = []

    def send(self, messages: Any) -> None:
        self.messages.extend(messages)
        super().send(messages)


def context(state: StateTable, clock: FakeClock, **config: Any) -> JobContext:
    data = {'environment': 'production', 'mode': 'live', **config}
    return build_context(
        config=parse_config(data), broker=NoBroker(), state=state, notifier=MemoryNotifier(), owner='test', clock=clock
    )  # type: ignore[arg-type]


def tick(ctx: JobContext, clock: FakeClock, job: JobName = JobName.ENSURE_STOPS) -> JobInvocation:
    return JobInvocation(job=job, scheduled_time=clock(), schedule_arn='arn:test')


TWO_GRANTS: dict[str, Any] = {
    'grants': [
        {'name': 'family', 'accounts': ['5WX00001', '5WX00002', '5WX00003']},
        {'name': 'advisor', 'accounts': ['5WX00011', '5WX00012']},
    ]
}


def test_a_tick_becomes_one_message_per_account_paced_per_grant(state: StateTable, clock: FakeClock) -> None:
    # Given two grants with three and two accounts
    ctx, queue = context(state, clock, **TWO_GRANTS), Queue()
    # When a tick is dispatched
    result = dispatch(ctx, tick(ctx, clock), queue, discover=lambda g: [], breaker_of=lambda g: None)
    # Then every account gets a message naming its grant, delayed 1.25 s per account of the same grant
    assert result.dispatched == 5 and result.grants == {'family': 3, 'advisor': 2}
    sent = [(m.grant, m.account, delay) for m, delay in queue.messages]
    assert sent == [
        ('family', '5WX00001', 0),
        ('advisor', '5WX00011', 0),
        ('family', '5WX00002', 1),
        ('advisor', '5WX00012', 1),
        ('family', '5WX00003', 2),
    ]
    assert all(m.scheduled_time == clock() and m.job is JobName.ENSURE_STOPS for m, _ in queue.messages)


def test_a_grant_whose_breaker_is_open_is_left_out_with_one_message(state: StateTable, clock: FakeClock) -> None:
    # Given the advisor grant's breaker is open
    ctx, queue = context(state, clock, **TWO_GRANTS), Queue()
    trip = BreakerTrip(reason='invalid_grant: Grant is invalid', tripped_at=clock())

    def breaker(grant: str) -> BreakerTrip | None:
        return trip if grant == 'advisor' else None

    # When two ticks are dispatched
    first = dispatch(ctx, tick(ctx, clock), queue, discover=lambda g: [], breaker_of=breaker)
    for run in queue.messages:
        finish_account(ctx, run[0])
    clock.advance(minutes=5)
    dispatch(ctx, tick(ctx, clock), queue, discover=lambda g: [], breaker_of=breaker)
    # Then only the family accounts are swept, and one "re-authorize advisor" message went out
    assert first.stopped_grants == ['advisor'] and {m.grant for m, _ in queue.messages} == {'family'}
    notifier = ctx.notifier
    assert isinstance(notifier, MemoryNotifier)
    (notice,) = notifier.sent
    assert notice.title == 'tastyguard needs a new tastytrade grant: re-authorize advisor'
    assert 'tastyguard/grants/advisor' in ' '.join(line for s in notice.sections for line in s.lines)


def test_discovered_accounts_skip_the_excluded_the_disabled_and_other_grants(
    state: StateTable, clock: FakeClock
) -> None:
    ctx = context(
        state,
        clock,
        grants=[
            {'name': 'family', 'accounts': ['5WX00001']},
            {'name': 'advisor', 'discover': True, 'except': ['5WX00009']},
        ],
        accounts=[{'account_number': '5WX00005', 'enabled': False, 'grant': 'advisor'}],
    )
    queue = Queue()
    found = ['5wx00001', '5WX00004', '5WX00005', '5WX00009', '5WX00007']
    dispatch(
        ctx, tick(ctx, clock), queue, discover=lambda g: found if g == 'advisor' else [], breaker_of=lambda g: None
    )
    assert sorted((m.grant, m.account) for m, _ in queue.messages) == [
        ('advisor', '5WX00004'),
        ('advisor', '5WX00007'),
        ('family', '5WX00001'),
    ]


def test_discovery_is_cached_and_a_failure_keeps_the_last_known_accounts(state: StateTable, clock: FakeClock) -> None:
    ctx = context(state, clock, grants=[{'name': 'advisor', 'discover': True}])
    calls: list[str] = []

    def discover(grant: str) -> list[str]:
        calls.append(grant)
        if len(calls) > 1:
            raise BrokerConnectionError('connection failed (ConnectError)')
        return ['5WX00004']

    def run() -> Any:
        queue = Queue()
        result = dispatch(ctx, tick(ctx, clock), queue, discover=discover, breaker_of=lambda g: None)
        for message, _ in queue.messages:
            finish_account(ctx, message)
        return result, [m.account for m, _ in queue.messages]

    assert run()[1] == ['5WX00004']
    clock.advance(minutes=5)
    assert run()[1] == ['5WX00004'] and calls == ['advisor']  # within 15 minutes: the stored list
    clock.advance(minutes=15)
    result, accounts = run()
    assert accounts == ['5WX00004'] and len(calls) == 2
    assert any('could not list its accounts' in note for note in result.notes)


def test_more_accounts_than_a_sweep_window_holds_are_swept_over_several_ticks(
    state: StateTable, clock: FakeClock
) -> None:
    # Given a 1-minute period whose sweep may use 10 % of it: 6 s at 0.8 positions/s = 4 accounts a tick
    accounts = [f'5WX0000{i}' for i in range(1, 10)]
    ctx = context(
        state,
        clock,
        accounts=[{'account_number': n} for n in accounts],
        schedules={'ensure_stops_minutes': 1},
        scale={'sweep_window_percent': 10},
    )
    swept: list[list[str]] = []
    for _ in range(3):
        queue = Queue()
        result = dispatch(ctx, tick(ctx, clock), queue, discover=lambda g: [], breaker_of=lambda g: None)
        swept.append([m.account for m, _ in queue.messages])
        for message, _ in queue.messages:
            finish_account(ctx, message)
        clock.advance(minutes=1)
    # Then every account is reached within three ticks, four at a time
    assert [len(batch) for batch in swept] == [4, 4, 4] and result.deferred == 5
    assert {a for batch in swept for a in batch} == set(accounts)


def test_a_tick_that_finds_the_previous_one_still_running_is_skipped_once(state: StateTable, clock: FakeClock) -> None:
    ctx, queue = context(state, clock, **TWO_GRANTS), Queue()
    dispatch(ctx, tick(ctx, clock), queue, discover=lambda g: [], breaker_of=lambda g: None)
    first_tick = queue.messages[0][0]
    finish_account(ctx, first_tick)  # one of five account runs finished
    clock.advance(minutes=5)
    skipped = dispatch(ctx, tick(ctx, clock), queue, discover=lambda g: [], breaker_of=lambda g: None)
    assert skipped.skipped == 'the previous tick is still running' and skipped.previous_unfinished
    assert 'still has 4 account runs to go' in skipped.notes[0]
    clock.advance(minutes=5)
    again = dispatch(ctx, tick(ctx, clock), queue, discover=lambda g: [], breaker_of=lambda g: None)
    assert again.skipped is None and again.previous_unfinished and again.dispatched == 5


def test_the_last_account_run_of_a_tick_reports_its_duration(state: StateTable, clock: FakeClock) -> None:
    ctx, queue = context(state, clock, **TWO_GRANTS), Queue()
    dispatch(ctx, tick(ctx, clock), queue, discover=lambda g: [], breaker_of=lambda g: None)
    clock.advance(seconds=42)
    durations = [finish_account(ctx, message) for message, _ in queue.messages]
    assert durations == [None, None, None, None, 42.0]


def test_a_message_is_stale_only_once_a_newer_tick_was_dispatched(state: StateTable, clock: FakeClock) -> None:
    ctx, queue = context(state, clock, **TWO_GRANTS), Queue()
    dispatch(ctx, tick(ctx, clock), queue, discover=lambda g: [], breaker_of=lambda g: None)
    old = queue.messages[0][0]
    clock.advance(minutes=12)
    assert not is_stale(ctx, old)  # late, but no newer tick has its own message for the account
    for message, _ in queue.messages:
        finish_account(ctx, message)
    dispatch(ctx, tick(ctx, clock), Queue(), discover=lambda g: [], breaker_of=lambda g: None)
    assert is_stale(ctx, old)
    clock.advance(days=2)
    assert is_stale(ctx, queue.messages[-1][0])


def test_outside_the_session_nothing_is_dispatched(state: StateTable, clock: FakeClock) -> None:
    clock.now -= timedelta(hours=10)  # 00:00 in New York
    ctx, queue = context(state, clock, **TWO_GRANTS), Queue()
    result = dispatch(ctx, tick(ctx, clock), queue, discover=lambda g: [], breaker_of=lambda g: None)
    assert result.skipped == 'the market is closed' and queue.messages == []


# --- quiet accounts: what the streamer holds and nothing happened on (decision 60) ------------------------------
SIX = [f'5WX0000{i}' for i in range(1, 7)]


def _streamer_item(
    state: StateTable,
    clock: FakeClock,
    held: dict[str, Any],
    activity: dict[str, Any] | None = None,
    *,
    ahead: timedelta = timedelta(0),
) -> None:
    record = StreamerHealthRecord(
        owner='streamer:test', healthy=True, updated_at=clock() + ahead, held=held, activity=activity or {}
    )
    state.put_record(GLOBAL_PK, STREAMER_HEALTH_SK, record)


def _ok(account: str) -> AccountRunResult:
    return AccountRunResult(
        job='ensure_stops', run_id='r', account=account, mode='live', environment='production', status='ok',
        positions=3, protected=3, unprotected=0,
    )  # fmt: skip


def _sweep_once(ctx: JobContext, clock: FakeClock) -> tuple[Any, list[str]]:
    """One tick; every account run dispatched ends ok and is recorded as verified when it began."""
    queue = Queue()
    result = dispatch(ctx, tick(ctx, clock), queue, discover=lambda g: [], breaker_of=lambda g: None)
    for message, _ in queue.messages:
        assert record_verified(ctx, message, [_ok(message.account or '')], clock())
        finish_account(ctx, message)
    return result, sorted(m.account or '' for m, _ in queue.messages)


def _quiet_six(state: StateTable, clock: FakeClock, *, build: str = '') -> tuple[JobContext, dict[str, Any]]:
    """Six accounts the streamer holds (verify every 60 minutes), verified by a first tick: the second reads one."""
    ctx = context(state, clock, accounts=[{'account_number': n} for n in SIX], scale={'quiet_verify_minutes': 60})
    ctx.build = build
    held = dict.fromkeys(SIX, clock() - timedelta(minutes=1))
    _streamer_item(state, clock, held)
    _sweep_once(ctx, clock)
    clock.advance(minutes=5)
    _streamer_item(state, clock, held)
    assert len(_sweep_once(ctx, clock)[1]) == 1
    return ctx, held


def test_quiet_accounts_the_streamer_holds_are_read_a_share_per_tick(state: StateTable, clock: FakeClock) -> None:
    # Given six accounts, a 5-minute period, re-verification every 15 minutes, a streamer holding them all
    ctx = context(
        state,
        clock,
        accounts=[{'account_number': n} for n in SIX],
        scale={'quiet_verify_minutes': 15},
    )
    held = dict.fromkeys(SIX, clock() - timedelta(minutes=1))
    _streamer_item(state, clock, held)
    # When the first tick runs: none was verified while held, so every account is due
    first, swept = _sweep_once(ctx, clock)
    assert swept == SIX and first.quiet == 0
    # Then the next ticks read a third of them each (6 × 5 / 15), the oldest first, and each within 15 minutes
    seen: list[list[str]] = []
    for _ in range(6):
        clock.advance(minutes=5)
        _streamer_item(state, clock, held)
        result, swept = _sweep_once(ctx, clock)
        assert len(swept) == 2 and result.quiet == 4 and result.deferred == 0
        seen.append(swept)
    assert {a for batch in seen[:3] for a in batch} == set(SIX)
    assert seen[:3] == seen[3:]


def test_an_account_with_activity_or_not_held_is_due_every_tick(state: StateTable, clock: FakeClock) -> None:
    ctx = context(state, clock, accounts=[{'account_number': n} for n in SIX], scale={'quiet_verify_minutes': 60})
    held = dict.fromkeys(SIX[:5], clock() - timedelta(minutes=1))  # the sixth is not held (another grant's socket)
    _streamer_item(state, clock, held)
    _sweep_once(ctx, clock)
    clock.advance(minutes=5)
    # an order notification on the second account since its sweep
    _streamer_item(state, clock, held, {SIX[1]: clock() - timedelta(minutes=2)})
    result, swept = _sweep_once(ctx, clock)
    assert set(swept) >= {SIX[1], SIX[5]}
    assert len(swept) == 3  # and one quiet account of four: ceil(4 × 5 / 60)
    # an item the streamer stopped writing (older than 90 s): every account is due again
    clock.advance(minutes=5)
    result, swept = _sweep_once(ctx, clock)
    assert swept == SIX and result.quiet == 0


def test_a_status_item_stamped_ahead_of_the_clock_is_not_relied_on(state: StateTable, clock: FakeClock) -> None:
    # Given six accounts the streamer holds, all verified quiet
    ctx, held = _quiet_six(state, clock)
    clock.advance(minutes=5)
    # When the streamer's clock runs ten minutes ahead (its item would look fresh long after it died)
    _streamer_item(state, clock, held, ahead=timedelta(minutes=10))
    result, swept = _sweep_once(ctx, clock)
    # Then the item is not relied on: every account is swept
    assert swept == SIX and result.quiet == 0
    # while a skew within the clock margin is tolerated
    clock.advance(minutes=5)
    _streamer_item(state, clock, held, ahead=timedelta(seconds=3))
    result, swept = _sweep_once(ctx, clock)
    assert result.quiet > 0


def test_a_reconnect_makes_every_account_due_until_swept_again(state: StateTable, clock: FakeClock) -> None:
    ctx = context(state, clock, accounts=[{'account_number': n} for n in SIX], scale={'quiet_verify_minutes': 60})
    _streamer_item(state, clock, dict.fromkeys(SIX, clock() - timedelta(minutes=1)))
    _sweep_once(ctx, clock)
    clock.advance(minutes=5)
    # the account socket reconnected a minute ago: changes before it may have been missed
    _streamer_item(state, clock, dict.fromkeys(SIX, clock() - timedelta(minutes=1)))
    result, swept = _sweep_once(ctx, clock)
    assert swept == SIX and result.quiet == 0
    clock.advance(minutes=5)
    _streamer_item(state, clock, dict.fromkeys(SIX, clock() - timedelta(minutes=6)))  # the same hold, no break
    result, swept = _sweep_once(ctx, clock)
    assert len(swept) == 1 and result.quiet == 5


def test_only_a_run_that_leaves_nothing_to_do_verifies_an_account(state: StateTable, clock: FakeClock) -> None:
    ctx = context(state, clock, accounts=[{'account_number': n} for n in SIX])
    message = JobInvocation(job=JobName.ENSURE_STOPS, scheduled_time=clock(), account=SIX[0], grant='default')
    unprotected = _ok(SIX[0]).model_copy(update={'unprotected': 1})
    placed = _ok(SIX[0]).model_copy(
        update={'actions': [ActionResult(kind='place', symbol='AAPL', reason='new position', result='placed')]}
    )
    noted = _ok(SIX[0]).model_copy(
        update={'alerts': [AlertView(kind='blocked_by_pending_orders', severity='info', message='next run')]}
    )
    for results in ([], [unprotected], [placed], [noted], [_ok(SIX[0]).model_copy(update={'status': 'skipped'})]):
        assert not record_verified(ctx, message, results, clock())
    fill = message.model_copy(update={'symbol': 'AAPL'})  # a symbol-scoped run verifies one position, not the account
    assert not record_verified(ctx, fill, [_ok(SIX[0])], clock())
    assert TickStore(state).verified('ensure_stops', SIX, config_fingerprint(ctx.config)) == {}
    assert record_verified(ctx, message, [_ok(SIX[0])], clock())
    assert TickStore(state).verified('ensure_stops', SIX, config_fingerprint(ctx.config)) == {SIX[0]: clock()}


def test_a_configuration_change_makes_every_account_due(state: StateTable, clock: FakeClock) -> None:
    # Given accounts verified while held, quiet since
    _, held = _quiet_six(state, clock)
    # When the configuration changes (here a symbol is now hands-off; no broker event says so)
    clock.advance(minutes=5)
    _streamer_item(state, clock, held)
    changed = context(
        state,
        clock,
        accounts=[{'account_number': n} for n in SIX],
        scale={'quiet_verify_minutes': 60},
        hands_off=['AAPL'],
    )
    # Then the next tick reads every account again, and the one after leaves them quiet under the new one
    result, swept = _sweep_once(changed, clock)
    assert swept == SIX and result.quiet == 0
    clock.advance(minutes=5)
    _streamer_item(state, clock, held)
    assert len(_sweep_once(changed, clock)[1]) == 1


def test_a_deploy_of_other_code_makes_every_account_due(state: StateTable, clock: FakeClock) -> None:
    # Given accounts verified quiet by the deployed code
    ctx, held = _quiet_six(state, clock, build='a1b2c3d4e5f60718')
    # When a deploy changes the code but not the configuration (a planning fix that would now place a stop)
    ctx.build = '0f1e2d3c4b5a6978'
    clock.advance(minutes=5)
    _streamer_item(state, clock, held)
    # Then the next tick reads every account again, under the new code
    result, swept = _sweep_once(ctx, clock)
    assert swept == SIX and result.quiet == 0


def test_without_price_following_or_when_verifications_cannot_be_read_every_account_is_due(
    state: StateTable, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = [{'account_number': n} for n in SIX]
    held = dict.fromkeys(SIX, clock() - timedelta(minutes=1))
    # a streamer that does not follow prices: trailing stops move only when a sweep reads the account
    ctx = context(state, clock, accounts=accounts, streamer={'follow_prices': False})
    _streamer_item(state, clock, held)
    _sweep_once(ctx, clock)
    clock.advance(minutes=5)
    _streamer_item(state, clock, held)
    result, swept = _sweep_once(ctx, clock)
    assert swept == SIX and result.quiet == 0
    # the verification items cannot be read (throttled, say): the tick still goes out, with every account
    ctx = context(state, clock, accounts=accounts)
    clock.advance(minutes=5)
    _streamer_item(state, clock, held)

    def unreadable(*_: Any) -> dict[str, Any]:
        raise RuntimeError('ProvisionedThroughputExceededException')

    monkeypatch.setattr(TickStore, 'verified', unreadable)
    result, swept = _sweep_once(ctx, clock)
    assert swept == SIX and result.quiet == 0
