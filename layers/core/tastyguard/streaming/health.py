"""The streamer's health: a heartbeat file, CloudWatch metrics in its logs, and a status item.

* **File** (the container health check): touched every ``file_every`` seconds while both sockets are
  connected and have heard from their server within their silence limits; ``python -m streamer.healthcheck``
  fails when it is older than its limit, and ECS replaces the task.
* **Metrics** (the "streamer silent" alarm): every ``metrics_every`` seconds a CloudWatch embedded-metric
  line (``StreamerHeartbeat`` = 1 while healthy, ``StreamerReconnects`` since the last line) on the metric
  stream, so no CloudWatch API permission is needed.
* **Item** ``GLOBAL / STREAMER#HEALTH``: per socket, connected or not, the last message time and the
  reconnect count, for ``tastyguard status``; per account, since when the account socket has held it without
  a break (``held``) and its last order, position or status notification (``activity``), for the dispatcher,
  which leaves quiet watched accounts out of most sweeps (decision 60).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from tastyguard.store.keys import GLOBAL_PK
from tastyguard.store.streamer_health import STREAMER_HEALTH_SK, StreamerHealthRecord, read_health
from tastyguard.store.table import StateTable

__all__ = ['STREAMER_HEALTH_SK', 'Health', 'HealthReport', 'SocketHealth', 'StreamerHealthRecord', 'read_health']

logger = logging.getLogger('tastyguard.streaming')

METRIC_HEARTBEAT = 'StreamerHeartbeat'
METRIC_RECONNECTS = 'StreamerReconnects'
MAX_WATCHED_ENTRIES = 6000
"""Held accounts plus activity entries the item lists at most (about 45 bytes each, well inside 400 KB)."""
DEFAULT_HEALTH_FILE = '/tmp/tastyguard-streamer.health'  # noqa: S108 - the container's own /tmp


@dataclass(frozen=True)
class SocketHealth:
    """One socket as the supervisor sees it."""

    connected: bool
    silent_for: float | None  # seconds since the last inbound frame (None: never heard from)
    reconnects: int
    last_message_at: datetime | None = None


@dataclass(frozen=True)
class HealthReport:
    """Both sockets, and whether the streamer counts as healthy."""

    sockets: dict[str, SocketHealth]
    healthy: bool
    symbols: int = 0
    detail: str = ''
    held: dict[str, datetime] = field(default_factory=dict)  # account → held by the account socket since
    activity: dict[str, datetime] = field(default_factory=dict)  # account → its last notification that matters


@dataclass
class Health:
    """Writes the three signals from a :class:`HealthReport` source (see the module docstring)."""

    check: Callable[[], HealthReport]
    wall: Callable[[], datetime]
    owner: str
    path: Path | None = None
    state: StateTable | None = None
    metrics: TextIO | None = None  # where embedded-metric lines go (the container's stdout); None: nowhere
    file_every: float = 10.0
    metrics_every: float = 60.0
    item_every: float = 30.0
    poke_delay: float = 1.0
    poke_every: float = 5.0
    namespace: str = 'tastyguard'
    _reported_reconnects: int = 0
    _since_metrics: float = 0.0
    _since_item: float = field(default=1e9)
    _poked: asyncio.Event | None = None
    _item_written_at: float = float('-inf')

    def beat(self, elapsed: float) -> HealthReport:
        """One step: touch the file when healthy; a metric line and the item when they are due."""
        report = self.check()
        if report.healthy and self.path is not None:
            self.path.touch()
        self._since_metrics += elapsed
        self._since_item += elapsed
        if self._since_metrics >= self.metrics_every:
            self._since_metrics = 0.0
            self.emit_metrics(report)
        if self._since_item >= self.item_every and self.state is not None:
            self._since_item = 0.0
            self._item_written_at = time.monotonic()
            self._write_item(report)
        return report

    def emit_metrics(self, report: HealthReport) -> None:
        """One CloudWatch embedded-metric-format line."""
        if self.metrics is None:
            return
        reconnects = sum(s.reconnects for s in report.sockets.values())
        delta, self._reported_reconnects = max(0, reconnects - self._reported_reconnects), reconnects
        line = {
            '_aws': {
                'Timestamp': int(self.wall().timestamp() * 1000),
                'CloudWatchMetrics': [
                    {
                        'Namespace': self.namespace,
                        'Dimensions': [['service']],
                        'Metrics': [
                            {'Name': METRIC_HEARTBEAT, 'Unit': 'Count'},
                            {'Name': METRIC_RECONNECTS, 'Unit': 'Count'},
                        ],
                    }
                ],
            },
            'service': self.namespace,
            METRIC_HEARTBEAT: 1 if report.healthy else 0,
            METRIC_RECONNECTS: delta,
            'symbols': report.symbols,
        }
        self.metrics.write(json.dumps(line) + '\n')
        self.metrics.flush()

    def _write_item(self, report: HealthReport) -> None:
        assert self.state is not None
        record = StreamerHealthRecord(
            owner=self.owner,
            healthy=report.healthy,
            updated_at=self.wall(),
            symbols=report.symbols,
            sockets={
                name: {
                    'connected': s.connected,
                    'silent_for': None if s.silent_for is None else round(s.silent_for, 1),
                    'reconnects': s.reconnects,
                    'last_message_at': None if s.last_message_at is None else s.last_message_at.isoformat(),
                }
                for name, s in report.sockets.items()
            },
            detail=report.detail,
            held=report.held,
            activity=report.activity,
        )
        if len(record.held) + len(record.activity) > MAX_WATCHED_ENTRIES:
            # DynamoDB's 400 KB item limit: the health part is kept; without held accounts, every one is swept
            logger.warning(
                '%d accounts are too many to list in the health item; the sweeps read them all', len(record.held)
            )
            record = record.model_copy(update={'held': {}, 'activity': {}})
        try:
            self.state.put_record(GLOBAL_PK, STREAMER_HEALTH_SK, record, ttl=timedelta(days=7))
        except Exception as error:
            logger.warning('could not write the streamer health item: %s', error)

    def poke(self) -> None:
        """Write the item within a second (the accounts socket's hold changed, or something happened on an
        account): the dispatcher should not act on a picture up to 30 s old. Call it on the event loop."""
        if self._poked is not None:
            self._poked.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Beat every ``file_every`` seconds (sooner after a :meth:`poke`) until ``stop``; then one last item that
        holds no account, since from now on none is."""
        loop = asyncio.get_running_loop()
        self._poked = asyncio.Event()
        last = loop.time()
        try:
            while not stop.is_set():
                now = loop.time()
                await asyncio.to_thread(self.beat, now - last if now > last else self.file_every)
                last = now
                waiters = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._poked.wait())}
                _done, pending = await asyncio.wait(
                    waiters, timeout=self.file_every, return_when=asyncio.FIRST_COMPLETED
                )
                for waiter in pending:
                    waiter.cancel()
                if self._poked.is_set() and not stop.is_set():
                    # gather what else happens in that moment, and write at most every poke_every seconds
                    wait = max(self.poke_delay, self._item_written_at + self.poke_every - loop.time())
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), wait)
                    self._poked.clear()
                    self._since_item = self.item_every  # the next beat writes the item
        finally:
            self._poked = None
            if self.state is not None:
                report = self.check()
                await asyncio.to_thread(self._write_item, replace(report, healthy=False, held={}))
