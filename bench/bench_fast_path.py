"""Benchmark the fill fast path: fill at the broker → tastyguard's stop placed, p50 / p99 over N fills.

    python bench/bench_fast_path.py                 # 200 fills, readable report
    python bench/bench_fast_path.py --fills 50 --json
    python bench/bench_fast_path.py --symbols 20    # 200 fills over 20 symbols: an account that stays its size

A paper broker and an embedded AWS (moto) in this process, and the whole streamer in-process (account stream,
DXLink, the in-process fast path running the symbol-scoped ``ensure_stops``). A person buys, one fill at a
time, 100 shares of a symbol never held before; the latency is measured on the broker's own clock, from the
fill (``filled-at``) to the moment the broker received tastyguard's stop for it (``received-at``): the socket
notification, the fill tracker, the REST read of positions and orders, the plan, the intent and the order
POST are all inside it. Also reported: the same latencies without the time spent inside moto while each
fill was on its way (moto serialises every DynamoDB response in Python, at about a millisecond per item read, so
a day's growing order ledger makes it, not tastyguard, the largest share), and the DynamoDB requests per fill.
Fills are spaced so one finishes before the next starts (a burst is a different
question: the fast path coalesces per position).

By default every fill opens a new position, so the account grows to ``--fills`` positions and later fills pay
for its size; with ``--symbols N`` fills rotate over N symbols, each fill after the first on a symbol adds 100
shares and the stop is resized (a replace): the latency is then to the broker receiving the resized stop.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_fast_path_scaling import _Meter

ACCOUNT = '5WT00001'


def _client(broker: PaperBroker) -> TastytradeClient:
    return TastytradeClient(
        Environment.paper(broker.api_url, broker.account_streamer_url),
        OAuthCredentials(client_secret=SecretStr(broker.client_secret), refresh_token=SecretStr(broker.refresh_token)),
        rate_limits=RateLimits.disabled(),
    )


def _ms(later: str, earlier: str) -> float:
    return (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds() * 1000


async def _measure(
    broker: PaperBroker, fills: int, symbols: int | None = None, meter: _Meter | None = None
) -> tuple[list[float], list[float], list[int]]:
    client = _client(broker)
    config = parse_config(
        {
            'environment': 'paper',
            'mode': 'live',
            'accounts': [{'account_number': ACCOUNT}],
            'safety': {'max_order_writes': 5000, 'max_writes_per_symbol': 100},  # the breaker is not measured
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
                if row.kind in ('place', 'replace') and row.result in ('placed', 'replaced') and row.symbol:
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
    in_moto: list[float] = []  # per fill: time spent inside the embedded AWS while it was on its way
    requests: list[int] = []  # per fill: DynamoDB requests meanwhile (the fast path and anything beside it)
    meter = meter or _Meter()
    try:
        held: dict[str, int] = defaultdict(int)
        for index in range(fills):
            moto_before, requests_before = meter.moto_seconds, sum(meter.requests.values())
            symbol = f'FP{index % (symbols or fills):04d}'
            broker.admin.set_quote(symbol, bid='50.00', ask='50.02', last='50.01')
            leg = {'instrument-type': 'Equity', 'symbol': symbol, 'action': 'Buy to Open', 'quantity': '100'}
            placed[symbol].clear()
            filled_before = {o['id'] for o in broker.admin.orders(ACCOUNT) if o['status'] == 'Filled'}
            await asyncio.to_thread(
                _person_order, person, broker, {'order-type': 'Market', 'time-in-force': 'Day', 'legs': [leg]}
            )
            held[symbol] += 100
            stop = await _wait_for_stop(broker, symbol, held[symbol], placed[symbol])
            fill = next(
                o
                for o in broker.admin.orders(ACCOUNT)
                if o['legs'][0]['symbol'] == symbol and o['status'] == 'Filled' and o['id'] not in filled_before
            )
            latencies.append(_ms(stop['received-at'], fill['legs'][0]['fills'][-1]['filled-at']))
            in_moto.append((meter.moto_seconds - moto_before) * 1000)
            requests.append(sum(meter.requests.values()) - requests_before)
    finally:
        service.stop()
        await asyncio.wait_for(task, 30)
    return latencies, in_moto, requests


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
    broker: PaperBroker, symbol: str, quantity: int, placed: threading.Event, timeout: float = 15.0
) -> dict[str, Any]:
    """Our working stop for ``quantity`` of ``symbol``, read once the fast path says it placed or resized it.

    (Polling the broker's whole order book meanwhile would take the CPU the streamer is being measured on.)
    """
    if not await asyncio.to_thread(placed.wait, timeout):
        raise RuntimeError(f'no stop for {symbol} within {timeout} s')
    for order in broker.admin.working_orders(ACCOUNT):
        leg = order['legs'][0]
        ours = str(order.get('external-identifier') or '').startswith('tg-')
        if leg['symbol'] == symbol and ours and int(leg['quantity']) == quantity:
            result: dict[str, Any] = order
            return result
    raise RuntimeError(f'the fast path said it protected {quantity} {symbol}, but the broker has no such stop')


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--fills', type=int, default=200)
    parser.add_argument('--symbols', type=int, default=None, help='rotate the fills over this many symbols')
    parser.add_argument('--json', action='store_true')
    args = parser.parse_args()
    with mock_aws():
        create_tables(boto3.client('dynamodb', region_name='us-east-1'))
        with PaperBroker('empty') as broker:
            meter = _Meter()
            meter.install()
            latencies, in_moto, requests = asyncio.run(_measure(broker, args.fills, args.symbols, meter))
    without = [max(0.0, total - moto) for total, moto in zip(latencies, in_moto, strict=True)]
    report = {
        'fills': len(latencies),
        'symbols': args.symbols or args.fills,
        'p50_ms': round(statistics.median(latencies), 1),
        'p90_ms': round(_percentile(latencies, 0.9), 1),
        'p99_ms': round(_percentile(latencies, 0.99), 1),
        'max_ms': round(max(latencies), 1),
        'goal_p99_ms': 1000,
        'without_moto_p50_ms': round(statistics.median(without), 1),
        'without_moto_p99_ms': round(_percentile(without, 0.99), 1),
        'dynamodb_requests_per_fill_p50': statistics.median(requests),
    }
    if args.json:
        print(json.dumps(report))
        return
    print(
        f'fill -> stop placed over {report["fills"]} fills on {report["symbols"]} symbols (broker clock): '
        f'p50 {report["p50_ms"]} ms, '
        f'p90 {report["p90_ms"]} ms, p99 {report["p99_ms"]} ms, max {report["max_ms"]} ms (goal: p99 < 1000 ms)'
    )
    print(
        f'  without the time spent inside moto meanwhile: p50 {report["without_moto_p50_ms"]} ms, '
        f'p99 {report["without_moto_p99_ms"]} ms; DynamoDB requests per fill (p50): '
        f'{report["dynamodb_requests_per_fill_p50"]} (each a few ms on DynamoDB itself)'
    )


if __name__ == '__main__':
    import os

    os.environ.setdefault('AWS_DEFAULT_REGION', 'us-east-1')
    for key in ('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'):
        os.environ.setdefault(key, 'bench')
    main()
