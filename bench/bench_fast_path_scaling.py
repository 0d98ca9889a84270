"""Benchmark what one fill's stop costs as the account grows: a symbol-scoped ensure-stops run vs positions held.

    python bench/bench_fast_path_scaling.py                  # 5, 50, 100, 200 held positions
    python bench/bench_fast_path_scaling.py --held 10 300 --json

For each size the account holds that many protected positions (a full run placed their stops), then a person
buys a symbol never held before and the fast path runs ``ensure_stops`` for it alone, a few times over. Reported
per run (median): wall time, the part of it spent inside the embedded AWS (moto serialises every DynamoDB
response in Python, so it is far slower than DynamoDB and grows with item size), the rest (tastyguard, the
paper broker, HTTP), DynamoDB requests and items read, and broker requests. What production pays is the
request counts (each a few milliseconds in-region) plus tastyguard's own time: the moto share is a stand-in's
cost, not DynamoDB's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RUNS = 5
ACCOUNT = '5WT00001'


class _Meter:
    """DynamoDB requests and items read (botocore) and time inside moto's request handling."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.items = 0
        self.moto_seconds = 0.0

    def install(self) -> None:
        import botocore.client
        from moto.core.botocore_stubber import BotocoreStubber

        meter = self
        make_call = botocore.client.BaseClient._make_api_call
        handle = BotocoreStubber.__call__

        def counting(client: Any, operation: str, params: dict[str, Any]) -> Any:
            response = make_call(client, operation, params)
            if client.meta.service_model.service_name == 'dynamodb':
                meter.requests[operation] += 1
                meter.items += len(response.get('Items', ())) + sum(
                    len(v) for v in response.get('Responses', {}).values()
                )
                meter.items += 'Item' in response
            return response

        def timed(stubber: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return handle(stubber, *args, **kwargs)
            finally:
                meter.moto_seconds += time.perf_counter() - started

        botocore.client.BaseClient._make_api_call = counting  # type: ignore[method-assign]
        BotocoreStubber.__call__ = timed  # type: ignore[method-assign]

    def reset(self) -> None:
        self.requests.clear()
        self.items = 0
        self.moto_seconds = 0.0


def _measure(held: int, meter: _Meter) -> dict[str, Any]:
    from moto import mock_aws

    from paperbroker.server import PaperBroker
    from tastyguard.jobs.invocation import JobInvocation, JobName
    from tastyguard.jobs.registry import run
    from tests.integration.jobs.conftest import make_harness

    rows: list[dict[str, float]] = []
    with mock_aws(), PaperBroker('empty') as broker:
        harness = make_harness(broker, safety={'max_order_writes': 5000})  # the breaker is not measured here
        for index in range(held):
            broker.admin.add_position(ACCOUNT, f'H{index:04d}', 100, '50', bid='50.00', ask='50.02', last='50.01')
        harness.run(JobName.ENSURE_STOPS, account=ACCOUNT)
        for attempt in range(RUNS):
            symbol = f'NEW{attempt}'
            broker.admin.add_position(ACCOUNT, symbol, 100, '50', bid='50.00', ask='50.02', last='50.01')
            requests_before = len(broker.admin.requests())
            meter.reset()
            started = time.perf_counter()
            run(harness.ctx, JobInvocation(job=JobName.ENSURE_STOPS, account=ACCOUNT, symbol=symbol, event_id=symbol))
            wall = time.perf_counter() - started
            rows.append(
                {
                    'wall_ms': wall * 1000,
                    'moto_ms': meter.moto_seconds * 1000,
                    'dynamodb_requests': sum(meter.requests.values()),
                    'dynamodb_items_read': meter.items,
                    'broker_requests': len(broker.admin.requests()) - requests_before - 1,  # the log read itself
                }
            )
            if not any(
                o['legs'][0]['symbol'] == symbol and o['status'] == 'Live' for o in broker.admin.orders(ACCOUNT)
            ):
                raise RuntimeError(f'the fast path placed no stop for {symbol} with {held} positions held')
    median = {key: statistics.median(row[key] for row in rows) for key in rows[0]}
    return {
        'held': held,
        'wall_ms': round(median['wall_ms'], 1),
        'moto_ms': round(median['moto_ms'], 1),
        'tastyguard_and_broker_ms': round(median['wall_ms'] - median['moto_ms'], 1),
        'dynamodb_requests': int(median['dynamodb_requests']),
        'dynamodb_items_read': int(median['dynamodb_items_read']),
        'broker_requests': int(median['broker_requests']),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--held', type=int, nargs='+', default=[5, 50, 100, 200])
    parser.add_argument('--json', action='store_true')
    args = parser.parse_args()
    meter = _Meter()
    meter.install()
    report = [_measure(held, meter) for held in args.held]
    if args.json:
        print(json.dumps(report))
        return
    print('held  wall ms  in moto ms  rest ms  DynamoDB requests  items read  broker requests')
    for row in report:
        print(
            f'{row["held"]:>4}  {row["wall_ms"]:>7}  {row["moto_ms"]:>10}  {row["tastyguard_and_broker_ms"]:>7}  '
            f'{row["dynamodb_requests"]:>17}  {row["dynamodb_items_read"]:>10}  {row["broker_requests"]:>15}'
        )


if __name__ == '__main__':
    os.environ.setdefault('AWS_DEFAULT_REGION', 'us-east-1')
    for key in ('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'):
        os.environ.setdefault(key, 'bench')
    main()
