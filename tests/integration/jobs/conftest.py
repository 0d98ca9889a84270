"""Jobs against the paper broker (demo scenario) and moto."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
import pytest
from pydantic import SecretStr

from paperbroker.server import PaperBroker
from tastyguard.broker import Environment, OAuthCredentials, RateLimits, RetryPolicy, TastytradeClient
from tastyguard.config.loader import parse_config
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.invocation import JobInvocation, JobName
from tastyguard.jobs.registry import run
from tastyguard.jobs.results import AccountRunResult
from tastyguard.jobs.wiring import build_context
from tastyguard.notify.ports import MemoryNotifier
from tastyguard.store.schema import create_tables
from tastyguard.store.table import StateTable, utc_now


def demo_config(mode: str = 'live', **extra: Any) -> dict[str, Any]:
    return {
        'environment': 'paper',
        'mode': mode,
        'accounts': [
            {'account_number': '5WT00001', 'nickname': 'Individual'},
            {'account_number': '5WT00002', 'nickname': 'Roth IRA'},
        ],
        'notifications': {'min_severity': 'info'},
        **extra,
    }


def make_client(broker: PaperBroker, **kwargs: Any) -> TastytradeClient:
    kwargs.setdefault('rate_limits', RateLimits.disabled())
    kwargs.setdefault('retry', RetryPolicy(max_attempts=3, base_delay=0.0, max_delay=0.0, max_total_wait=1.0))
    return TastytradeClient(
        Environment.paper(broker.api_url, broker.account_streamer_url),
        OAuthCredentials(client_secret=SecretStr(broker.client_secret), refresh_token=SecretStr(broker.refresh_token)),
        **kwargs,
    )


@dataclass
class Harness:
    ctx: JobContext
    broker: PaperBroker
    notifier: MemoryNotifier

    def run(self, job: JobName, *, account: str | None = None, tick: datetime | None = None) -> list[AccountRunResult]:
        invocation = JobInvocation(job=job, account=account, scheduled_time=tick or utc_now(), force=True)
        return run(self.ctx, invocation)

    def orders(self, account: str = '5WT00001') -> list[dict[str, Any]]:
        return self.broker.admin.orders(account)

    def working(self, account: str = '5WT00001') -> list[dict[str, Any]]:
        return self.broker.admin.working_orders(account)

    def quantity(self, symbol: str, account: str = '5WT00001') -> Decimal:
        """The broker's signed position in ``symbol`` (negative short, 0 when flat)."""
        for position in self.broker.admin.positions(account):
            if position['symbol'] == symbol:
                sign = -1 if position['quantity-direction'] == 'Short' else 1
                return sign * Decimal(str(position['quantity']))
        return Decimal(0)

    def writes(self) -> list[dict[str, Any]]:
        """Order writes the broker received (dry-runs excluded)."""
        return [
            r
            for r in self.broker.admin.requests()
            if r['method'] in ('POST', 'PUT', 'PATCH', 'DELETE')
            and '/orders' in r['path']
            and 'dry-run' not in r['path']
        ]


def make_harness(
    broker: PaperBroker,
    mode: str = 'live',
    client: TastytradeClient | None = None,
    clock: Callable[[], datetime] = utc_now,
    **config: Any,
) -> Harness:
    """Jobs against ``broker``; ``clock=broker_clock(broker)`` makes tastyguard live in the broker's virtual time."""
    create_tables(boto3.client('dynamodb'))
    notifier = MemoryNotifier()
    ctx = build_context(
        config=parse_config(demo_config(mode, **config)),
        broker=client or make_client(broker),
        state=StateTable(),
        notifier=notifier,
        owner='test',
        clock=clock,
    )
    return Harness(ctx, broker, notifier)


def broker_clock(broker: PaperBroker) -> Callable[[], datetime]:
    """The paper broker's virtual clock (advanced by the admin API), for tastyguard's own clock."""
    return broker.broker.clock.now


@pytest.fixture
def harness(paper_broker: PaperBroker, aws: None) -> Iterator[Harness]:
    yield make_harness(paper_broker)


@pytest.fixture
def tick() -> datetime:
    return datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
