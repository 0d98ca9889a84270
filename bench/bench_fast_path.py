"""Benchmark the fill fast path: fill at the broker → tastyguard's stop placed, p50 / p99 over N fills.

    python bench/bench_fast_path.py                 # 200 fills, readable report
    python bench/bench_fast_path.py --fills 50 --json

A paper broker and an embedded AWS (moto) in this process, and the whole streamer in-process (account stream,
DXLink, the in-process fast path running the symbol-scoped ``ensure_stops``). A person buys, one fill at a
time, 100 shares of a symbol never held before; the latency is measured on the broker's own clock, from the
fill (``filled-at``) to the moment the broker received tastyguard's stop for it (``received-at``): the socket
notification, the fill tracker, the REST read of positions and orders, the plan, the intent and the order
POST are all inside it. Fills are spaced so one finishes before the next starts (a burst is a different
question: the fast path coalesces per position).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import threading
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import boto3
from moto import mock_aws
from pydantic import SecretStr

from paperbroker.server import PaperBroker
from tastyguard.broker import Environment, OAuthCredentials, RateLimits, TastytradeClient
from tastyguard.config.loader import parse_config
from tastyguard.jobs.wiring import build_context
from tastyguard.notify.ports import MemoryNotifier
from tastyguard.store.schema import create_tables
from tastyguard.store.table import StateTable
from tastyguard.streaming.publish import InProcessPublisher
from tastyguard.streaming.service import GrantStream, StreamerService
from tastyguard.streaming.supervisor import JobThread, fast_path

ACCOUNT = '5WT00001'


def _client(broker: PaperBroker) -> TastytradeClient:
    return TastytradeClient(
        Environment.paper(broker.api_url, broker.account_streamer_url),
        OAuthCredentials(client_secret=SecretStr(broker.client_secret), refresh_token=SecretStr(broker.refresh_token)),
        rate_limits=RateLimits.disabled(),
    )


def _ms(later: str, earlier: str) -> float:
    return (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds() * 1000


async def _measure(broker: PaperBroker, fills: int) -> list[float]:
    client = _client(broker)
    config = parse_config(
        {
            'environment': 'paper',
            'mode': 'live',
            'accounts': [{'account_number': ACCOUNT}],
            'safety': {'max_order_writes': 5000},
            'streamer': {'catch_up_on_reconnect': False},
        }
    )
    ctx = build_context(config=config, broker=client, state=StateTable(), notifier=MemoryNotifier(), owner='bench')
    ready = asyncio.Event()
    placed: dict[str, threading.Event] = defaultdict(threading.Event)

    def sink(jobs: JobThread) -> InProcessPublisher:
        handle = fast_path(ctx)

        def run(event: Any) -> Any:
            result = handle(event)
            for row in result.actions if result else ():
                if row.kind == 'place' and row.result == 'placed' and row.symbol:
                    placed[row.symbol].set()
            return result

        return InProcessPublisher(lambda event: jobs.call(run, event))

    service = StreamerService(
        ctx=ctx,
        grants=[GrantStream('default', client, [ACCOUNT])],
        sink=sink,
        state=StateTable,
        on_ready=lambda *_: ready.set(),
    )
    task = asyncio.create_task(service.run())
    await asyncio.wait_for(ready.wait(), 30)
    person = _client(broker)  # the person's own login
    latencies: list[float] = []
    try:
        for index in range(fills):
            symbol = f'FP{index:04d}'
            broker.admin.set_quote(symbol, bid='50.00', ask='50.02', last='50.01')
            leg = {'instrument-type': 'Equity', 'symbol': symbol, 'action': 'Buy to Open', 'quantity': '100'}
            await asyncio.to_thread(
                _person_order, person, broker, {'order-type': 'Market', 'time-in-force': 'Day', 'legs': [leg]}
            )
            stop = await _wait_for_stop(broker, symbol, placed[symbol])
            fill = next(
                o for o in broker.admin.orders(ACCOUNT) if o['legs'][0]['symbol'] == symbol and o['status'] == 'Filled'
            )
            latencies.append(_ms(stop['received-at'], fill['legs'][0]['fills'][-1]['filled-at']))
    finally:
        service.stop()
        await asyncio.wait_for(task, 30)
    return latencies


def _person_order(person: TastytradeClient, broker: PaperBroker, order: dict[str, Any]) -> None:
    import httpx

    token = person.access_token().value.get_secret_value()
    response = httpx.post(
        f'{broker.api_url}/accounts/{ACCOUNT}/orders',
        json=order,
        headers={'Authorization': f'Bearer {token}', 'User-Agent': 'bench-person/1.0'},
        timeout=10,
    )
    response.raise_for_status()


async def _wait_for_stop(
    broker: PaperBroker, symbol: str, placed: threading.Event, timeout: float = 15.0
) -> dict[str, Any]:
    """The stop's order at the broker, read once the fast path says it placed it.

    (Polling the broker's whole order book meanwhile would take the CPU the streamer is being measured on.)
    """
    if not await asyncio.to_thread(placed.wait, timeout):
        raise RuntimeError(f'no stop for {symbol} within {timeout} s')
    for order in broker.admin.orders(ACCOUNT):
        if order['legs'][0]['symbol'] == symbol and str(order.get('external-identifier') or '').startswith('tg-'):
            result: dict[str, Any] = order
            return result
    raise RuntimeError(f'the fast path said it placed a stop for {symbol}, but the broker has none')


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--fills', type=int, default=200)
    parser.add_argument('--json', action='store_true')
    args = parser.parse_args()
    with mock_aws():
        create_tables(boto3.client('dynamodb', region_name='us-east-1'))
        with PaperBroker('empty') as broker:
            latencies = asyncio.run(_measure(broker, args.fills))
    report = {
        'fills': len(latencies),
        'p50_ms': round(statistics.median(latencies), 1),
        'p90_ms': round(_percentile(latencies, 0.9), 1),
        'p99_ms': round(_percentile(latencies, 0.99), 1),
        'max_ms': round(max(latencies), 1),
        'goal_p99_ms': 1000,
    }
    if args.json:
        print(json.dumps(report))
        return
    print(
        f'fill -> stop placed over {report["fills"]} fills (broker clock): p50 {report["p50_ms"]} ms, '
        f'p90 {report["p90_ms"]} ms, p99 {report["p99_ms"]} ms, max {report["max_ms"]} ms (goal: p99 < 1000 ms)'
    )


if __name__ == '__main__':
    import os

    os.environ.setdefault('AWS_DEFAULT_REGION', 'us-east-1')
    for key in ('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'):
        os.environ.setdefault(key, 'bench')
    main()
