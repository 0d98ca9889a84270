"""The many-accounts simulation behind ``bench/bench_scale.py`` and its bounded CI test.

One process plays the whole deployment: the paper broker (``fleet`` scenario: several customers, each
with its own grant and accounts, per-token rate limits on, 429 with ``Retry-After`` past them), AWS (moto,
in-process), the dispatcher and ``concurrency`` emulated Lambda containers. Each container is a thread
with a context of its own, built by the Lambda wiring (:func:`tastyguard.jobs.wiring.lambda_context`:
one client per grant, AWS token caches, the grant's shared rate budget in the state table), and runs what
the worker Lambda runs for a message: the stale check, :func:`tastyguard.jobs.registry.run` and the tick
accounting. The dispatcher is :func:`tastyguard.fanout.dispatch.dispatch`. The work queue is an in-memory
queue with SQS's per-message delays; the handlers' SQS parsing and idempotency are exercised by the
integration tests instead.

Two emulator artifacts are removed while the simulation runs (real AWS behaves like the patched moto):
moto's in-process backend is not thread-safe, so every AWS call is serialised with one lock (otherwise
two conditional writes can both succeed, which DynamoDB never allows), and moto's DynamoDB ``Query``
scans the whole table for every query, so a query reads its own partition only.

Ticks run back to back (the next starts when the last account of the previous one finished) with the
market clock pinned inside a trading session, skipping ahead to each tick's scheduled time (one period after
the last) instead of waiting for it; the rate budget and the broker's limits use real time, so they are the
real ones.

With ``streamer=True`` the real streamer service runs beside the workers from the first tick on (one account
socket and one DXLink feed per grant, the same clients and shared budget, price following on as deployed, its
status item written every 30 s and once more after each skip ahead; catch-ups off, as nothing trades): once it
holds the accounts, the dispatcher leaves the quiet ones out of most ticks (decision 60) and each tick's
``quiet`` count says how many.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

WORKING = frozenset({'Received', 'Routed', 'In Flight', 'Live', 'Cancel Requested', 'Replace Requested'})


@dataclass(frozen=True)
class SimConfig:
    """What to simulate."""

    accounts: int = 500
    positions: int = 20
    grants: int = 3
    ticks: int = 3
    concurrency: int = 5
    headroom: float = 0.8
    sweep_window_percent: int = 80
    period_minutes: int = 5
    universe: int = 400
    seed: int = 11
    tick_timeout: float = 3600.0
    streamer: bool = False
    quiet_verify_minutes: int = 30


@dataclass
class SimState:
    """What the emulated workers record."""

    results: list[Any] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    stale: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextlib.contextmanager
def honest_moto() -> Iterator[Counter[str]]:
    """Serialise moto's in-process backend and make its queries read one partition; counts AWS calls."""
    from moto.core import botocore_stubber
    from moto.dynamodb.models.table import Table

    calls: Counter[str] = Counter()
    lock = threading.RLock()
    process = botocore_stubber.BotocoreStubber.process_request
    query = Table.query

    def locked(self: Any, request: Any) -> Any:
        with lock:
            calls[str(request.url).split('//', 1)[-1].split('.', 1)[0]] += 1
            return process(self, request)

    def partition_query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get('index_name')
        if index_name is not None or not self.range_key_attr:
            return query(self, hash_key, *args, **kwargs)
        partition = list(self.items.get(hash_key, {}).values())
        self.all_items = lambda: partition
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    botocore_stubber.BotocoreStubber.process_request = locked  # type: ignore[method-assign]
    Table.query = partition_query  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        botocore_stubber.BotocoreStubber.process_request = process  # type: ignore[method-assign]
        Table.query = query  # type: ignore[method-assign]


class SessionClock:
    """Real time shifted into the latest trading session (10:00 New York), so scheduled runs are due; between
    ticks it skips ahead to the next scheduled time instead of waiting for it (the rate budget and the broker's
    limits keep real time)."""

    def __init__(self) -> None:
        from tastyguard import calendar

        now = datetime.now(UTC)
        day = now.astimezone(calendar.NEW_YORK).date()
        while True:
            start = datetime(day.year, day.month, day.day, 10, 0, tzinfo=calendar.NEW_YORK).astimezone(UTC)
            if calendar.in_session(start):
                break
            day -= timedelta(days=1)
        self.offset = start - now

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def skip_to(self, moment: datetime) -> None:
        """Jump forward to ``moment`` (never back)."""
        self.offset += max(timedelta(0), moment - self())


def grant_name(index: int) -> str:
    """``default`` for the seeded customer, ``g2``, ``g3`` ... for the others."""
    return 'default' if index == 0 else f'g{index + 1}'


def _config(cfg: SimConfig) -> dict[str, Any]:
    return {
        'environment': 'paper',
        'mode': 'live',
        'grants': [{'name': grant_name(i), 'discover': True} for i in range(cfg.grants)],
        'notifications': {'min_severity': 'warning', 'digest': False},
        'schedules': {'ensure_stops_minutes': cfg.period_minutes},
        'scale': {
            'concurrency': cfg.concurrency,
            'headroom': cfg.headroom,
            'sweep_window_percent': cfg.sweep_window_percent,
            'quiet_verify_minutes': cfg.quiet_verify_minutes,
        },
        'streamer': {'catch_up_on_reconnect': False},
        'safety': {'max_order_writes': 5000, 'max_writes_per_symbol': 6},
    }


def _provision(cfg: SimConfig, broker: Any, workdir: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Tables, grant secrets, topic, kill switch and the function environment; ``user id → grant``."""
    import boto3

    from tastyguard.config.grants import broker_secret_name, token_secret_name
    from tastyguard.config.loader import config_to_json, parse_config
    from tastyguard.store.schema import create_tables

    create_tables(boto3.client('dynamodb'))
    secrets = boto3.client('secretsmanager')
    seeded = broker.broker.core.user_id
    customers = sorted(broker.admin.customers(), key=lambda c: (c['user-id'] != seeded, c['user-id']))
    users: dict[str, str] = {}
    for index, customer in enumerate(customers[: cfg.grants]):
        name = grant_name(index)
        users[customer['user-id']] = name
        body = {'client_secret': customer['client-secret'], 'refresh_token': customer['refresh-token']}
        secrets.create_secret(Name=broker_secret_name(name), SecretString=json.dumps(body))
        secrets.create_secret(Name=token_secret_name(name), SecretString=json.dumps({'access_token': None}))
    topic = boto3.client('sns').create_topic(Name='tastyguard-sim')['TopicArn']
    boto3.client('ssm').put_parameter(Name='/tastyguard/kill-switch', Value='{"engaged": false}', Type='String')
    config_file = workdir / 'tastyguard.json'
    config_file.write_text(config_to_json(parse_config(_config(cfg))))
    environment = {
        'TASTYGUARD_BROKER_SECRET': broker_secret_name('default'),
        'TASTYGUARD_TOKEN_SECRET': token_secret_name('default'),
        'TASTYGUARD_TOPIC_ARN': topic,
        'TASTYGUARD_CONFIG_FILE': str(config_file),
        'TASTYGUARD_API_URL': broker.api_url,
        'TASTYGUARD_STREAMER_URL': broker.account_streamer_url,
    }
    return environment, users


def _worker(queue: Any, state: SimState, clock: SessionClock, index: int, stop: threading.Event) -> None:
    from tastyguard.fanout.worker import finish_account, is_stale, record_verified
    from tastyguard.jobs.registry import run
    from tastyguard.jobs.wiring import lambda_context

    ctx = lambda_context(owner=f'sim:worker-{index}')
    ctx.clock = clock
    while not stop.is_set():
        invocation = queue.receive(timeout=0.2)
        if invocation is None:
            continue
        ctx.notes.clear()
        try:
            if is_stale(ctx, invocation):
                with state.lock:
                    state.stale += 1
                continue
            started = ctx.clock()
            results = run(ctx, invocation)
            record_verified(ctx, invocation, results, started)
            with state.lock:
                state.results.extend(results)
        except Exception as error:  # a failed account run: the real queue would redeliver it
            with state.lock:
                state.failures.append(f'{invocation.account}: {type(error).__name__}: {error}')
        finally:
            finish_account(ctx, invocation)


def simulate(cfg: SimConfig, say: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Run the ticks and return the report (see ``bench/bench_scale.py``)."""
    from moto import mock_aws

    from paperbroker.server import PaperBroker

    os.environ.setdefault('AWS_DEFAULT_REGION', 'us-east-1')
    for key in ('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'):
        os.environ.setdefault(key, 'testing')
    started = time.monotonic()
    fleet = {'customers': cfg.grants, 'accounts': cfg.accounts, 'positions': cfg.positions, 'universe': cfg.universe}
    with (
        PaperBroker('fleet', seed=cfg.seed, **fleet) as broker,
        tempfile.TemporaryDirectory() as workdir,
        mock_aws(),
        honest_moto() as aws_calls,
    ):
        broker.admin.rate_limits()  # tastytrade's published limits, per token
        environment, users = _provision(cfg, broker, Path(workdir))
        saved = {key: os.environ.get(key) for key in environment}
        os.environ.update(environment)
        try:
            say(f'set up {cfg.accounts} accounts x {cfg.positions} positions, {cfg.grants} grants '
                f'in {time.monotonic() - started:.1f} s')  # fmt: skip
            ticks = _ticks(cfg, broker, say)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        requests = broker.admin.requests()
        audit = audit_broker(broker.admin.state())
    return _report(cfg, ticks, requests, users, audit, aws_calls)


def _ticks(cfg: SimConfig, broker: Any, say: Callable[[str], None]) -> dict[str, Any]:
    from tastyguard.broker.client import TastytradeClient
    from tastyguard.fanout.dispatch import dispatch
    from tastyguard.fanout.queue import MemoryWorkQueue
    from tastyguard.jobs.invocation import JobInvocation, JobName
    from tastyguard.jobs.wiring import lambda_context
    from tastyguard.store.ticks import TickStore
    from tastyguard.store.tokens import read_breaker

    clock = SessionClock()
    queue = MemoryWorkQueue()
    state = SimState()
    stop = threading.Event()
    dispatcher = lambda_context(owner='sim:dispatcher')
    dispatcher.clock = clock
    clients = dispatcher.clients
    assert clients is not None
    workers = [
        threading.Thread(target=_worker, args=(queue, state, clock, i, stop), name=f'worker-{i}', daemon=True)
        for i in range(cfg.concurrency)
    ]
    for thread in workers:
        thread.start()
    seconds: list[float] = []
    per_tick: list[dict[str, Any]] = []
    streamer: SimStreamer | None = None
    try:
        for number in range(cfg.ticks):
            mark = len(state.results)
            scheduled = clock()
            began, wall_start = time.monotonic(), time.time()
            result = dispatch(
                dispatcher,
                JobInvocation(job=JobName.ENSURE_STOPS, scheduled_time=scheduled, schedule_arn='sim'),
                queue,
                discover=lambda g: [a.account_number for a in cast(TastytradeClient, clients.get(g)).accounts()],
                breaker_of=lambda g: read_breaker(dispatcher.stores.state, dispatcher.environment, g),
            )
            if cfg.streamer and streamer is None:  # the discovery of the first dispatch names its accounts
                streamer = SimStreamer(clock)
                streamer.start()
                say(f'streamer started for {streamer.accounts} accounts')
            _wait_for_tick(TickStore(dispatcher.stores.state), scheduled, began + cfg.tick_timeout, number + 1)
            seconds.append(time.monotonic() - began)
            runs = state.results[mark:]
            actions = Counter(f'{a.kind}:{a.result}' for run in runs for a in run.actions if a.kind != 'alert')
            per_tick.append({'tick': number + 1, 'seconds': round(seconds[-1], 1), 'dispatched': result.dispatched,
                             'deferred': result.deferred, 'quiet': result.quiet, 'actions': dict(actions),
                             'window': (wall_start, time.time())})  # fmt: skip
            say(f'tick {number + 1}: {result.dispatched} accounts ({result.quiet} quiet left out) '
                f'in {seconds[-1]:.1f} s, {dict(actions)}')  # fmt: skip
            if streamer is not None and number == 0:
                held = streamer.wait_held(dispatcher.stores.state, timeout=600)
                say(f'the streamer holds {held} accounts')
            clock.skip_to(scheduled + timedelta(minutes=cfg.period_minutes))  # the next tick's scheduled time
            if streamer is not None:
                streamer.refresh(dispatcher.stores.state, timeout=60)  # its status item as of the skipped-to time
    finally:
        if streamer is not None:
            streamer.stop()
        stop.set()
        for thread in workers:
            thread.join(timeout=30)
    return {
        'seconds': seconds,
        'per_tick': per_tick,
        'failures': state.failures,
        'stale': state.stale,
        'statuses': dict(Counter(r.status for r in state.results)),
        'client_rate_limited': sum(r.rate_limited for r in state.results),
    }


def _wait_for_tick(ticks: Any, scheduled: datetime, deadline: float, number: int) -> None:
    """Until every account run of the tick has finished (monotonic ``deadline``)."""
    while True:
        record = ticks.get('ensure_stops', scheduled)
        if record is not None and record.finished:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f'tick {number} did not finish in time')
        time.sleep(0.1)


def _wait_for_item(state: Any, done: Callable[[Any], bool], timeout: float) -> Any:
    """Poll the streamer's status item until ``done(item)`` or ``timeout`` seconds; the last item read (or None)."""
    from tastyguard.store.streamer_health import read_health

    deadline = time.monotonic() + timeout
    while True:
        record = read_health(state)
        if (record is not None and done(record)) or time.monotonic() >= deadline:
            return record
        time.sleep(0.2)


class SimStreamer:
    """The real streamer service on a thread of its own (its own event loop), on the simulation's clock."""

    def __init__(self, clock: SessionClock) -> None:
        from tastyguard.jobs.wiring import lambda_context
        from tastyguard.store.table import StateTable
        from tastyguard.streaming.clock import SystemClock
        from tastyguard.streaming.publish import InProcessPublisher
        from tastyguard.streaming.service import StreamerService, grant_streams
        from tastyguard.streaming.supervisor import fast_path

        class StreamingClock(SystemClock):  # the sockets' timers in real time, the wall on the simulation's clock
            def wall(self) -> datetime:
                return clock()

        ctx = lambda_context(owner='sim:streamer')
        ctx.clock = clock
        handle = fast_path(ctx)
        grants = grant_streams(ctx)
        self.accounts = sum(len(g.accounts) for g in grants)
        self.service = StreamerService(
            ctx=ctx,
            grants=grants,
            sink=lambda jobs: InProcessPublisher(lambda event: jobs.call(handle, event)),
            state=StateTable,
            singleton=False,
            owner='sim:streamer',
            clock=StreamingClock(),
        )
        self._loop: Any = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name='streamer', daemon=True)

    def _run(self) -> None:
        import asyncio

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._ready.set()
            await self.service.run()

        asyncio.run(main())

    def start(self) -> None:
        """Start the service (returns at once; it reads positions, then connects)."""
        self._thread.start()
        self._ready.wait(10)

    def wait_held(self, state: Any, timeout: float) -> int:
        """Wait until the status item says every account is held (as the dispatcher will read it); how many are."""
        record = _wait_for_item(state, lambda r: len(r.held) >= self.accounts, timeout)
        return len(record.held) if record is not None else 0

    def refresh(self, state: Any, timeout: float) -> None:
        """Have the status item written now (as a notification would) and wait until it is."""
        moment = self.service.clock.wall()
        health = self.service._health
        if health is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(health.poke)
        _wait_for_item(state, lambda r: r.updated_at >= moment, timeout)

    def stop(self) -> None:
        """Stop the service and wait for it."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.service.stop)
        self._thread.join(timeout=60)


def audit_broker(state: dict[str, Any]) -> dict[str, Any]:
    """Protection and violations as the broker holds them: every working stop against every position."""
    protected = unprotected = over_covered = duplicates = orphans = 0
    examples: list[str] = []
    for entry in state['accounts']:
        number = entry['account']['account-number']
        held = {
            p['symbol']: int(float(p['quantity'])) * (-1 if p['quantity-direction'] == 'Short' else 1)
            for p in entry['positions']
            if float(p['quantity']) != 0
        }
        cover: Counter[str] = Counter()
        ours: Counter[str] = Counter()
        for order in entry['orders']:
            if order['status'] not in WORKING or order['order-type'] not in ('Stop', 'Stop Limit'):
                continue
            for leg in order['legs']:
                if not leg['action'].endswith('to Close'):
                    continue
                cover[leg['symbol']] += int(float(leg.get('remaining-quantity', leg['quantity'])))
                if str(order.get('external-identifier') or '').startswith('tg-'):
                    ours[leg['symbol']] += 1
                    if leg['symbol'] not in held:
                        orphans += 1
                        examples.append(f'{number} {leg["symbol"]}: tastyguard stop without a position')
        for symbol, quantity in held.items():
            covered = cover[symbol]
            if covered >= abs(quantity):
                protected += 1
            else:
                unprotected += 1
            if covered > abs(quantity):
                over_covered += 1
                examples.append(f'{number} {symbol}: {covered} covered for a position of {quantity}')
            if ours[symbol] > 1:
                duplicates += 1
                examples.append(f'{number} {symbol}: {ours[symbol]} tastyguard stops')
    return {
        'protected': protected,
        'unprotected': unprotected,
        'violations': {'over_covered': over_covered, 'duplicates': duplicates, 'orphans': orphans},
        'examples': examples[:10],
    }


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def peak_per_second(times: list[float]) -> int:
    """The most requests in any one-second window."""
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def _family(path: str, method: str) -> str:
    if path.endswith('/positions'):
        return 'positions'
    if path.startswith('/market-data'):
        return 'market-data'
    if '/orders' in path and method in ('POST', 'PUT', 'PATCH', 'DELETE'):
        return 'order-writes'
    return 'other'


def _report(
    cfg: SimConfig,
    ticks: dict[str, Any],
    requests: list[dict[str, Any]],
    users: dict[str, str],
    audit: dict[str, Any],
    aws_calls: Counter[str],
) -> dict[str, Any]:
    by_grant: dict[str, list[float]] = defaultdict(list)
    by_family: dict[tuple[str, str], list[float]] = defaultdict(list)
    for entry in requests:
        grant = users.get(str(entry.get('user-id')))
        if grant is None:
            continue
        moment = datetime.fromisoformat(entry['time']).timestamp()
        by_grant[grant].append(moment)
        by_family[grant, _family(entry['path'], entry['method'])].append(moment)
    seconds = ticks['seconds']
    violations = audit['violations']
    throttled = [datetime.fromisoformat(e['time']).timestamp() for e in requests if e.get('status') == 429]
    for tick in ticks['per_tick']:
        start, end = tick.pop('window')
        tick['throttled'] = sum(1 for moment in throttled if start <= moment <= end)
    return {
        'accounts': cfg.accounts,
        'positions_per_account': cfg.positions,
        'grants': cfg.grants,
        'concurrency': cfg.concurrency,
        'ticks': len(seconds),
        'tick_seconds': {
            'first': round(seconds[0], 1) if seconds else None,
            'p50': round(statistics.median(seconds), 1) if seconds else None,
            'p50_steady': round(statistics.median(seconds[1:]), 1) if len(seconds) > 1 else None,
            'p50_watched': _median([t['seconds'] for t in ticks['per_tick'] if t['quiet']]),
            'max': round(max(seconds), 1) if seconds else None,
        },
        'per_tick': ticks['per_tick'],
        'api_calls': sum(len(times) for times in by_grant.values()),
        'api_calls_by_family': {f'{g}:{f}': len(t) for (g, f), t in sorted(by_family.items())},
        'aws_calls': sum(aws_calls.values()),
        'peak_requests_per_second': {grant: peak_per_second(times) for grant, times in sorted(by_grant.items())},
        'peak_positions_per_second': {
            grant: peak_per_second(times)
            for (grant, family), times in sorted(by_family.items())
            if family == 'positions'
        },
        'throttled': sum(1 for entry in requests if entry.get('status') == 429),
        'protected': audit['protected'],
        'unprotected': audit['unprotected'],
        'violations': sum(violations.values()),
        'violation_kinds': violations,
        'violation_examples': audit['examples'],
        'account_runs': ticks['statuses'],
        'failed_account_runs': ticks['failures'][:10],
        'stale_messages': ticks['stale'],
    }
