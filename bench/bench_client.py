"""Benchmark the broker client: import time in a fresh interpreter, and requests/second on the paper broker.

    python bench/bench_client.py            # readable report
    python bench/bench_client.py --json     # the same numbers as JSON

Import times are the median of several fresh interpreters, measured inside the child around the import
statement (interpreter start-up excluded). ``tastyguard.broker`` is measured twice: as installed in this
virtual environment, and as in the Lambda layer, where httpx's optional command-line extras (click, rich,
pygments, which httpx imports eagerly when present) are not installed. The tastyware SDK is measured for
comparison when it is installed. Requests/second run single-threaded against an in-process paper broker
on loopback, with client-side rate limits off (they would cap the numbers at tastytrade's published limits).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

RUNS = 9
HEAVY = ('pandas', 'numpy', 'boto3', 'botocore', 'aws_lambda_powertools', 'tastytrade')
# Blocks modules that are absent from the Lambda layer, as an ImportError would there.
_LAYER_PRELUDE = """
import sys
class _Absent:
    def find_spec(self, name, path=None, target=None):
        if name.partition('.')[0] in ('click', 'rich', 'pygments'):
            raise ImportError(name)
sys.meta_path.insert(0, _Absent())
"""
_MEASURE = """
import json, sys, time
{preload}
start = time.perf_counter()
import {module}
elapsed = time.perf_counter() - start
print(json.dumps({{'seconds': elapsed, 'heavy': sorted(m for m in {heavy!r} if m in sys.modules)}}))
"""


def _child(module: str, *, layer: bool, preload: str = '') -> dict[str, Any]:
    code = (_LAYER_PRELUDE if layer else '') + _MEASURE.format(module=module, heavy=HEAVY, preload=preload)
    out = subprocess.run([sys.executable, '-c', code], check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def import_time(module: str, *, layer: bool = False, runs: int = RUNS, preload: str = '') -> dict[str, Any]:
    """Median/min import time of ``module`` over ``runs`` fresh interpreters (one warm-up run first).

    ``preload`` is imported before the clock starts (to measure a package on top of its dependencies).
    """
    _child(module, layer=layer, preload=preload)  # warm the bytecode cache
    samples = [_child(module, layer=layer, preload=preload) for _ in range(runs)]
    seconds = [s['seconds'] for s in samples]
    return {
        'module': module,
        'median_ms': round(statistics.median(seconds) * 1000, 1),
        'min_ms': round(min(seconds) * 1000, 1),
        'heavy_modules_loaded': samples[-1]['heavy'],
    }


def interpreter_start() -> float:
    """Median wall time of ``python -c pass`` in ms (context for the numbers above)."""
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([sys.executable, '-c', 'pass'], check=True)
        samples.append(time.perf_counter() - start)
    return round(statistics.median(samples) * 1000, 1)


def _rate(call: Callable[[], object], seconds: float) -> dict[str, Any]:
    count, start = 0, time.perf_counter()
    latencies = []
    while time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - t0)
        count += 1
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        'requests': count,
        'per_second': round(count / elapsed, 1),
        'p50_ms': round(latencies[len(latencies) // 2] * 1000, 2),
        'p95_ms': round(latencies[int(len(latencies) * 0.95)] * 1000, 2),
    }


def requests_per_second(seconds: float) -> dict[str, Any]:
    """Single-threaded request rates of a few representative calls against an in-process paper broker."""
    try:
        from paperbroker.server import PaperBroker
    except ImportError as exc:  # pragma: no cover - the paper broker ships with the repository
        return {'skipped': f'paper broker unavailable: {exc}'}
    from tastyguard.broker import (
        Environment,
        InstrumentType,
        OAuthCredentials,
        OrderAction,
        RateLimits,
        TastytradeClient,
        stop_order,
    )

    with PaperBroker('demo') as broker:
        account = broker.accounts[0]
        client = TastytradeClient(
            Environment.paper(broker.api_url, broker.account_streamer_url),
            OAuthCredentials(client_secret=broker.client_secret, refresh_token=broker.refresh_token),
            rate_limits=RateLimits.disabled(),
        )
        with client:
            client.positions(account)  # token refresh and connection set-up outside the timing
            counter = iter(range(10**9))

            def place_and_cancel() -> None:
                order = stop_order(
                    symbol='AAPL',
                    instrument_type=InstrumentType.EQUITY,
                    action=OrderAction.SELL_TO_CLOSE,
                    quantity=1,
                    stop_trigger=Decimal('1.00'),
                    external_identifier=f'tg-bench-{next(counter)}',
                )
                placed = client.place_order(account, order)
                assert placed.order.id is not None
                client.cancel_order(account, placed.order.id)

            results = {
                'positions': _rate(lambda: client.positions(account), seconds),
                'live_orders': _rate(lambda: client.live_orders(account), seconds),
                'balances': _rate(lambda: client.balances(account), seconds),
                'quotes_7_symbols': _rate(
                    lambda: client.quotes(
                        {InstrumentType.EQUITY: ['AAPL', 'MSFT', 'NVDA', 'TSLA', 'SPY', 'AMD', 'KO']}
                    ),
                    seconds,
                ),
                'place_and_cancel_pair': _rate(place_and_cancel, seconds),
            }
            results['client_stats'] = client.stats.snapshot()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--json', action='store_true', help='print JSON instead of a report')
    parser.add_argument('--seconds', type=float, default=2.0, help='seconds per request-rate measurement')
    parser.add_argument('--runs', type=int, default=RUNS, help='fresh interpreters per import measurement')
    args = parser.parse_args()

    report: dict[str, Any] = {
        'python': sys.version.split()[0],
        'interpreter_start_ms': interpreter_start(),
        'import': {
            'tastyguard.broker (this venv)': import_time('tastyguard.broker', runs=args.runs),
            'tastyguard.broker (Lambda layer)': import_time('tastyguard.broker', layer=True, runs=args.runs),
            'pydantic + httpx only (Lambda layer)': import_time(
                'pydantic, pydantic.main, httpx', layer=True, runs=args.runs
            ),
            'tastyguard.broker on top of those': import_time(
                'tastyguard.broker', layer=True, runs=args.runs, preload='import pydantic, pydantic.main, httpx'
            ),
        },
    }
    if importlib.util.find_spec('tastytrade') is not None:
        report['import']['tastytrade (SDK)'] = import_time('tastytrade', runs=args.runs)
    report['requests'] = requests_per_second(args.seconds)

    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f'Python {report["python"]}; interpreter start-up {report["interpreter_start_ms"]} ms (not included below)')
    print('\nImport time, fresh interpreter (median / min of runs):')
    for name, row in report['import'].items():
        heavy = ', '.join(row['heavy_modules_loaded']) or 'none'
        print(f'  {name:40s} {row["median_ms"]:8.1f} ms / {row["min_ms"]:8.1f} ms   heavy modules: {heavy}')
    print('\nRequests against the in-process paper broker (single thread, client-side rate limits off):')
    requests = report['requests']
    if 'skipped' in requests:
        print(f'  skipped: {requests["skipped"]}')
        return
    for name, row in requests.items():
        if name == 'client_stats':
            continue
        print(f'  {name:24s} {row["per_second"]:8.1f}/s   p50 {row["p50_ms"]:6.2f} ms   p95 {row["p95_ms"]:6.2f} ms')
    stats = requests['client_stats']
    calls, retries, refreshes = stats['total_calls'], stats['retries'], stats['token_refreshes']
    print(f'  (client stats: {calls} calls, {retries} retries, {refreshes} token refresh)')


if __name__ == '__main__':
    main()
