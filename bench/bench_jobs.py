"""Benchmark the jobs: handler cold-import time, planner time on a large account, API calls per job.

    python bench/bench_jobs.py            # readable report
    python bench/bench_jobs.py --json     # the same numbers as JSON

* Handler import: each ``functions.<job>.handler`` in a fresh interpreter, with the modules that are not in
  the Lambda layers blocked (as an ImportError would be there), median of several runs.
* Planner: the ``large`` paper scenario (500 positions, 300 working orders by default) read once through
  the client, then ``plan()`` timed alone, median of repeated runs; and the whole ensure-stops job in
  observe mode (reads + plan + stores on moto).
* API calls: every job run on the ``demo`` and ``large`` scenarios, counted from the paper broker's request
  log and compared with the minimum (one positions read, one live-orders read, quotes in batches of 100,
  one write per needed action). The first run pays for instrument reads (cached for a week afterwards), so
  a second run is reported too.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_client import import_time

NOT_IN_LAYERS = (
    'click',
    'rich',
    'pygments',
    'typer',
    'yaml',
    'moto',
    'starlette',
    'uvicorn',
    'paperbroker',
    'tastytrade',
)
BLOCK = f"""
import sys
class _Absent:
    def find_spec(self, name, path=None, target=None):
        if name.partition('.')[0] in {NOT_IN_LAYERS!r}:
            raise ImportError(name)
sys.meta_path.insert(0, _Absent())
"""
JOBS = ('sync_positions', 'ensure_stops', 'reconcile_orders', 'digest', 'notify_slack')


def handler_imports(runs: int) -> dict[str, Any]:
    """Cold import of every handler module."""
    return {job: import_time(f'functions.{job}.handler', runs=runs, preload=BLOCK) for job in JOBS}


def _family(path: str) -> str:
    if path == '/oauth/token':
        return 'token'
    if path.endswith('/positions'):
        return 'positions'
    if path.endswith('/orders/live'):
        return 'live orders'
    if path.startswith('/market-data'):
        return 'quotes'
    if path.startswith('/instruments'):
        return 'instruments'
    if '/orders' in path:
        return 'orders (other)'
    return path


def _context(broker: Any, mode: str) -> Any:
    import boto3

    from tastyguard.broker import Environment, OAuthCredentials, RateLimits, TastytradeClient
    from tastyguard.config.loader import parse_config
    from tastyguard.jobs.wiring import build_context
    from tastyguard.notify.ports import MemoryNotifier
    from tastyguard.store.schema import create_tables
    from tastyguard.store.table import StateTable

    create_tables(boto3.client('dynamodb'))
    client = TastytradeClient(
        Environment.paper(broker.api_url, broker.account_streamer_url),
        OAuthCredentials.model_validate({'client_secret': broker.client_secret, 'refresh_token': broker.refresh_token}),
        rate_limits=RateLimits.disabled(),
    )
    accounts = [{'account_number': number} for number in broker.accounts]
    # A large first run places hundreds of stops: lift the write breaker so the bench sees them all.
    config = parse_config(
        {'environment': 'paper', 'mode': mode, 'accounts': accounts, 'safety': {'max_order_writes': 1000}}
    )
    return build_context(config=config, broker=client, state=StateTable(), notifier=MemoryNotifier(), owner='bench')


def _run(ctx: Any, broker: Any, job: str) -> dict[str, Any]:
    from tastyguard.jobs.invocation import JobInvocation, JobName
    from tastyguard.jobs.registry import run

    broker.admin.clear_requests()
    started = time.perf_counter()
    results = run(ctx, JobInvocation(job=JobName(job), force=True))
    seconds = time.perf_counter() - started
    calls = Counter(_family(r['path']) for r in broker.admin.requests())
    writes = sum(
        1
        for r in broker.admin.requests()
        if r['method'] in ('POST', 'PUT', 'DELETE') and '/orders' in r['path'] and 'dry-run' not in r['path']
    )
    positions = sum(r.positions or 0 for r in results)
    batches = sum(math.ceil((r.positions or 0) / 100) for r in results)  # quotes are read per account
    accounts = len(results)
    minimum = {
        'sync_positions': accounts,
        'ensure_stops': 2 * accounts + batches + writes,
        'reconcile_orders': accounts,
        'digest': 2 * accounts + batches,
    }[job]
    return {
        'job': job,
        'seconds': round(seconds, 3),
        'positions': positions,
        'calls': sum(calls.values()),
        'minimum': minimum,
        'by_family': dict(calls),
        'writes': writes,
    }


def api_calls(scenario: str, **options: Any) -> list[dict[str, Any]]:
    """Each job twice on a fresh scenario (live mode), first with cold caches, then warm."""
    from moto import mock_aws

    from paperbroker.server import PaperBroker

    rows: list[dict[str, Any]] = []
    with mock_aws(), PaperBroker(scenario, **options) as broker:
        ctx = _context(broker, 'live')
        for job in ('sync_positions', 'ensure_stops', 'reconcile_orders', 'digest'):
            for label in ('first', 'second'):
                row = _run(ctx, broker, job)
                row['run'] = label
                rows.append(row)
    return rows


def planner(positions: int, orders: int, repeats: int) -> dict[str, Any]:
    """``plan()`` alone on a large account, and the whole observe-mode job around it."""
    from moto import mock_aws

    from paperbroker.server import PaperBroker
    from tastyguard.config.effective import account_policy
    from tastyguard.engine.planner import plan
    from tastyguard.engine.types import PlanInputs
    from tastyguard.jobs.reading import read_account

    with mock_aws(), PaperBroker('large', positions=positions, orders=orders) as broker:
        ctx = _context(broker, 'observe')
        account = broker.accounts[0]
        read = read_account(ctx.broker, ctx.stores.instruments, account)
        inputs = PlanInputs(
            account_number=account,
            holdings=read.holdings,
            orders=read.working,
            quotes=read.quotes,
            instruments=read.instruments,
            policy=account_policy(ctx.config, account),
            salt='bench',
            now=ctx.clock(),
        )
        plan(inputs)
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            result = plan(inputs)
            times.append(time.perf_counter() - started)
        job = _run(ctx, broker, 'ensure_stops')
    return {
        'positions': len(read.holdings),
        'orders': len(read.working),
        'actions': len(result.actions),
        'plan_median_ms': round(statistics.median(times) * 1000, 2),
        'plan_min_ms': round(min(times) * 1000, 2),
        'job_observe_seconds': job['seconds'],
        'job_calls': job['calls'],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--json', action='store_true', help='print JSON')
    parser.add_argument('--runs', type=int, default=7, help='fresh interpreters per import measurement')
    parser.add_argument('--positions', type=int, default=500)
    parser.add_argument('--orders', type=int, default=300)
    args = parser.parse_args()
    os.environ.setdefault('AWS_DEFAULT_REGION', 'us-east-1')
    for key in ('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'):
        os.environ.setdefault(key, 'bench')
    report = {
        'handler_import': handler_imports(args.runs),
        'planner': planner(args.positions, args.orders, repeats=20),
        'api_calls': {
            'demo': api_calls('demo'),
            'large': api_calls('large', positions=args.positions, orders=args.orders),
        },
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print('Handler cold import (Lambda layers only; median / min of fresh interpreters)')
    for job, numbers in report['handler_import'].items():
        heavy = ', '.join(numbers.get('heavy', [])) or '-'
        print(f'  {job:17} {numbers["median_ms"]:7.0f} ms / {numbers["min_ms"]:5.0f} ms   heavy modules: {heavy}')
    p = report['planner']
    print(f'\nPlanner on {p["positions"]} positions and {p["orders"]} working orders ({p["actions"]} actions)')
    print(f'  plan(): median {p["plan_median_ms"]} ms, min {p["plan_min_ms"]} ms')
    print(f'  whole ensure-stops job in observe mode: {p["job_observe_seconds"]} s, {p["job_calls"]} API calls')
    for scenario, rows in report['api_calls'].items():
        print(f'\nAPI calls per job, scenario {scenario} (minimum = positions + live orders + quote batches + writes)')
        for row in rows:
            families = ', '.join(f'{k} {v}' for k, v in sorted(row['by_family'].items()))
            print(
                f'  {row["job"]:17} {row["run"]:6} {row["calls"]:4} calls (minimum {row["minimum"]:3}) '
                f'{row["seconds"]:6.2f} s   {families}'
            )


if __name__ == '__main__':
    main()
