"""The streamer as a process: one :class:`~tastyguard.streaming.supervisor.Streamer` per grant, one singleton
lease, one job thread, health, signals. ``python -m streamer`` (the Fargate task) runs :func:`main`;
``tastyguard stream`` builds a :class:`StreamerService` of its own (in-process fast path, a local store).

* **Singleton.** The process takes the streamer lease before it opens a socket and renews it; if another
  streamer takes it over, every socket closes and :func:`main` exits 1 (ECS starts a new task, which waits).
* **A dead grant** stops that grant's streamer after one "re-authorize <grant>" message (shared with the jobs,
  so it is sent once); its accounts then wait, without calling the token endpoint, until the breaker is closed
  (``tastyguard token reset``), and the streamer starts again on its own. Other grants keep streaming.
* **SIGTERM / SIGINT**: no new events; the in-flight ones are published (or run), both sockets of every
  streamer are closed, the lease released; exit 0 within a few seconds (ECS allows 30).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from tastyguard.broker.errors import ReauthorizationRequired
from tastyguard.jobs.context import JobContext
from tastyguard.redact import scrub
from tastyguard.store.table import StateTable, utc_now
from tastyguard.streaming.account import AccountStreamConfig
from tastyguard.streaming.clock import Clock, SystemClock
from tastyguard.streaming.dxlink.config import FeedConfig
from tastyguard.streaming.health import DEFAULT_HEALTH_FILE, Health, HealthReport, SocketHealth
from tastyguard.streaming.publish import EventSink
from tastyguard.streaming.quotes import QuoteBook
from tastyguard.streaming.singleton import LeaseLostError, StreamerLease
from tastyguard.streaming.supervisor import JobThread, ReadyCallback, Streamer, StreamerParts

logger = logging.getLogger('tastyguard.streaming')

ENV_HEALTH_FILE = 'TASTYGUARD_STREAMER_HEALTH_FILE'
ENV_EVENT_BUS = 'TASTYGUARD_EVENT_BUS'
EXIT_LEASE_LOST = 1
BREAKER_POLL_SECONDS = 60.0


@dataclass
class GrantStream:
    """One grant's accounts and the broker client that reaches them."""

    grant: str
    client: Any
    accounts: Sequence[str]


@dataclass
class StreamerService:
    """Every grant's streamer under one lease (see the module docstring)."""

    ctx: JobContext
    grants: Sequence[GrantStream]
    sink: Callable[[JobThread], EventSink]
    state: Callable[[], StateTable]  # a new table handle per component (boto3 resources are not thread-safe)
    health_file: Path | None = None
    metrics: TextIO | None = None
    singleton: bool = True
    on_ready: ReadyCallback | None = None
    account_config: AccountStreamConfig | None = None
    dxlink_config: FeedConfig | None = None
    owner: str = field(default_factory=lambda: f'streamer:{socket.gethostname()}:{os.getpid()}')
    clock: Clock = field(default_factory=SystemClock)  # the sockets' timers and the wall time the health item shows
    streamers: dict[str, Streamer] = field(default_factory=dict)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _ready_grants: set[str] = field(default_factory=set)
    _health: Health | None = None

    def stop(self) -> None:
        """Ask the service to finish (a signal handler calls this)."""
        self._stop.set()

    async def run(self) -> int:
        """Run until stopped (0) or the lease is lost (1)."""
        lease = StreamerLease(self.state(), self.owner) if self.singleton else None
        if lease is not None and not await lease.acquire(self._stop):
            return 0
        jobs = JobThread()
        sink = self.sink(jobs)
        health = Health(
            check=self.report,
            wall=self.clock.wall,
            owner=self.owner,
            path=self.health_file,
            state=self.state(),
            metrics=self.metrics,
        )
        self._health = health
        tasks = [
            asyncio.create_task(self._supervise(g, sink, jobs, lease), name=f'grant-{g.grant}') for g in self.grants
        ]
        tasks.append(asyncio.create_task(health.run(self._stop), name='health'))
        keeper = asyncio.create_task(lease.keep(self._stop), name='lease') if lease is not None else None
        status = 0
        try:
            stopper = asyncio.create_task(self._stop.wait())
            waiting = {stopper, *([keeper] if keeper else [])}
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if keeper is not None and keeper in done and isinstance(keeper.exception(), LeaseLostError):
                logger.error('the streamer lease was taken over; this streamer stops')
                status = EXIT_LEASE_LOST
        finally:
            self._stop.set()
            for streamer in self.streamers.values():
                await streamer.stop()
            await asyncio.gather(*tasks, return_exceptions=True)
            if keeper is not None:
                keeper.cancel()
                await asyncio.gather(keeper, return_exceptions=True)
            await sink.close()
            jobs.close()
            if lease is not None:
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(lease.release)
        return status

    async def _supervise(
        self, grant: GrantStream, sink: EventSink, jobs: JobThread, lease: StreamerLease | None
    ) -> None:
        """Run one grant's streamer; after a dead grant, wait for the breaker to close and start again."""
        while not self._stop.is_set():
            streamer = Streamer(
                StreamerParts(
                    ctx=self.ctx,
                    client=grant.client,
                    accounts=grant.accounts,
                    sink=sink,
                    quotes=QuoteBook(
                        _quotes(self.state()), utc_now, interval=self.ctx.config.streamer.quote_write_seconds
                    ),
                    jobs=jobs,
                    lease=None,  # the service holds the one lease for every grant
                    catch_up=self.ctx.config.streamer.catch_up_on_reconnect,
                    follow_prices=self.ctx.config.streamer.follow_prices,
                    account_config=self.account_config,
                    dxlink_config=self.dxlink_config,
                    on_ready=self._ready_for(grant.grant),
                    owner=self.owner,
                    grant=grant.grant,
                    fence=lambda: lease.version if lease is not None else None,
                    clock=self.clock,
                    on_change=self._health.poke if self._health is not None else None,
                )
            )
            self.streamers[grant.grant] = streamer
            try:
                await streamer.run()
                return  # stopped
            except ReauthorizationRequired:
                logger.error('grant %s needs re-authorization; its accounts wait for `token reset`', grant.grant)
                await self._wait_for_breaker(grant)
            except Exception:
                logger.exception('the streamer of grant %s failed; restarting it', grant.grant)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), 5)

    async def _wait_for_breaker(self, grant: GrantStream) -> None:
        cache = grant.client.token_cache
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), BREAKER_POLL_SECONDS)
            try:
                if await asyncio.to_thread(cache.breaker) is None:
                    logger.info('grant %s was re-authorized; streaming again', grant.grant)
                    return
            except Exception as error:
                logger.warning('could not read the token breaker of %s: %s', grant.grant, error)

    def _ready_for(self, grant: str) -> ReadyCallback:
        async def ready(_accounts: Sequence[str], symbols: int) -> None:
            await self._ready(grant, symbols)

        return ready

    async def _ready(self, grant: str, symbols: int) -> None:
        self._ready_grants.add(grant)
        if self.on_ready is None or self._ready_grants != {g.grant for g in self.grants}:
            return
        accounts = [a for g in self.grants for a in g.accounts]
        total = sum(len(s.symbols) for s in self.streamers.values())
        result = self.on_ready(accounts, total)
        if asyncio.iscoroutine(result):
            await result

    def report(self) -> HealthReport:
        """Every grant's sockets; healthy when all are (a grant waiting for re-authorization is not)."""
        sockets: dict[str, SocketHealth] = {}
        healthy = bool(self.streamers)
        symbols = 0
        held: dict[str, datetime] = {}
        activity: dict[str, datetime] = {}
        for grant, streamer in self.streamers.items():
            report = streamer.report()
            healthy = healthy and report.healthy
            symbols += report.symbols
            prefix = '' if len(self.grants) == 1 else f'{grant}:'
            sockets.update({f'{prefix}{name}': s for name, s in report.sockets.items()})
            if report.healthy:
                held.update(report.held)
            for account, moment in report.activity.items():  # an account two grants stream: its newest
                if account not in activity or moment > activity[account]:
                    activity[account] = moment
        return HealthReport(sockets, healthy, symbols=symbols, held=held, activity=activity)

    async def run_until_signalled(self) -> int:
        """:meth:`run`, stopping on SIGTERM or SIGINT."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, self.stop)
        return await self.run()


def _quotes(state: StateTable) -> Any:
    from tastyguard.store.quotes import QuoteStore  # noqa: PLC0415 - one handle per quote book

    return QuoteStore(state)


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, secrets scrubbed (CloudWatch Logs Insights reads the fields)."""

    _SKIP = frozenset(vars(logging.makeLogRecord({})))

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            'level': record.levelname,
            'logger': record.name,
            'message': record.getMessage(),
            'timestamp': datetime.fromtimestamp(record.created, tz=utc_now().tzinfo).isoformat(),
        }
        body.update({k: v for k, v in vars(record).items() if k not in self._SKIP and not k.startswith('_')})
        if record.exc_info:
            body['exception'] = self.formatException(record.exc_info)
        return scrub(json.dumps(body, default=str))


def configure_logging(stream: TextIO = sys.stderr, level: str = 'INFO') -> None:
    """JSON logs for the whole process (the container's and ``tastyguard stream``'s)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ('httpx', 'httpcore', 'botocore', 'websockets'):
        logging.getLogger(noisy).setLevel(logging.WARNING)  # a line per request would drown what matters


def main() -> int:
    """The Fargate task: the jobs' environment (names and ARNs only), the event bus as the fast-path sink."""
    import boto3  # noqa: PLC0415

    from tastyguard.jobs.wiring import RuntimeSettings, lambda_context  # noqa: PLC0415
    from tastyguard.streaming.publish import BusPublisher  # noqa: PLC0415

    configure_logging(sys.stdout, os.environ.get('POWERTOOLS_LOG_LEVEL', 'INFO'))
    settings = RuntimeSettings.from_environment()
    bus = os.environ.get(ENV_EVENT_BUS)
    if not bus:
        logger.error('%s is not set; redeploy the stack', ENV_EVENT_BUS)
        return 2
    owner = f'streamer:{socket.gethostname()}'
    ctx = lambda_context(owner, settings)
    grants = grant_streams(ctx)
    if not grants:
        logger.error('no enabled account to stream; check accounts[] in the configuration')
        return 2
    events = boto3.client('events')
    service = StreamerService(
        ctx=ctx,
        grants=grants,
        sink=lambda _jobs: BusPublisher(events, bus),
        state=StateTable,
        health_file=Path(os.environ.get(ENV_HEALTH_FILE, DEFAULT_HEALTH_FILE)),
        metrics=sys.stdout,
        owner=owner,
    )
    return asyncio.run(service.run_until_signalled())


def grant_streams(ctx: JobContext) -> list[GrantStream]:
    """Each grant with its enabled accounts (configured ones; discovered ones as the last discovery found them)."""
    from tastyguard.jobs.grants import grant_of  # noqa: PLC0415
    from tastyguard.store.ticks import TickStore  # noqa: PLC0415

    config = ctx.config
    by_grant: dict[str, list[str]] = {}
    for account in config.configured_accounts():
        if account.enabled:
            by_grant.setdefault(grant_of(config, account.account_number), []).append(account.account_number)
    ticks = TickStore(ctx.stores.state)
    for grant in config.effective_grants:
        found = ticks.discovered(grant.name) if grant.discover else None
        if found is not None:
            known = by_grant.setdefault(grant.name, [])
            known.extend(a for a in found.accounts if a not in known and grant.admits(a))
    clients = ctx.clients
    return [
        GrantStream(name, clients.get(name) if clients is not None else ctx.broker, accounts)
        for name, accounts in by_grant.items()
        if accounts
    ]
