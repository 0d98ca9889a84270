"""Benchmark the tastyware paper API of the paper broker: what a tastyware SDK user's test suite pays.

    python bench/bench_tastyware.py            # readable report
    python bench/bench_tastyware.py --json     # the same numbers as JSON

* The pytest plugin's import cost in a fresh interpreter on top of pytest (it must load neither the SDK nor
  the server).
* What the fixtures cost: starting the in-process broker once per session, resetting it once per test.
* Request rates of the SDK's ``PaperSession`` against the paper API (single task, loopback), with the plain
  OAuth ``Session`` on the same broker for comparison, and the round trip of ``temporary_account()``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

RUNS = 7
_MEASURE = """
import json, sys, time
import pytest  # already loaded in any pytest run: not the plugin's cost
start = time.perf_counter()
import paperbroker.pytest_plugin
elapsed = time.perf_counter() - start
heavy = sorted(m for m in ('tastytrade', 'paperbroker.server', 'uvicorn', 'starlette', 'pandas')
               if m in sys.modules)
print(json.dumps({'seconds': elapsed, 'heavy': heavy}))
"""


def plugin_import(runs: int) -> dict[str, Any]:
    """Median import time of the plugin module in fresh interpreters, and which heavy modules it pulled in."""

    def once() -> dict[str, Any]:
        done = subprocess.run([sys.executable, '-c', _MEASURE], check=True, capture_output=True, text=True)
        result: dict[str, Any] = json.loads(done.stdout)
        return result

    once()  # warm the bytecode cache
    samples = [once() for _ in range(runs)]
    return {
        'median_ms': round(statistics.median(s['seconds'] for s in samples) * 1000, 2),
        'heavy_modules_loaded': samples[-1]['heavy'],
    }


def fixture_costs(runs: int) -> dict[str, Any]:
    """In-process start (once per test session) and reset to ``demo`` (once per test)."""
    from paperbroker.server import PaperBroker

    starts, resets = [], []
    for _ in range(runs):
        began = time.perf_counter()
        broker = PaperBroker('demo').start()
        starts.append(time.perf_counter() - began)
        for _ in range(5):
            began = time.perf_counter()
            broker.reset('demo')
            resets.append(time.perf_counter() - began)
        broker.stop()
    return {
        'start_median_ms': round(statistics.median(starts) * 1000, 1),
        'reset_median_ms': round(statistics.median(resets) * 1000, 1),
    }


async def _rate(call: Callable[[], Awaitable[object]], seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        began = time.perf_counter()
        await call()
        latencies.append(time.perf_counter() - began)
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        'per_second': round(len(latencies) / elapsed, 1),
        'p50_ms': round(latencies[len(latencies) // 2] * 1000, 2),
        'p95_ms': round(latencies[int(len(latencies) * 0.95)] * 1000, 2),
    }


async def sdk_rates(seconds: float) -> dict[str, Any]:
    """The SDK's calls through the paper API, and through the plain API for comparison."""
    import tastytrade.paper
    from tastytrade import Account, Session
    from tastytrade.order import FillBehavior, InstrumentType, Leg, MarketOrder, OrderAction
    from tastytrade.paper import PaperSession

    from paperbroker.server import PaperBroker

    with PaperBroker('demo') as broker:
        tastytrade.paper.PAPER_URL = broker.tastyware_paper_url
        paper = PaperSession(broker.tastyware_api_key)
        plain = Session(broker.client_secret, broker.refresh_token, is_test=True)
        plain._client.base_url = broker.api_url
        paper_account = await paper.create_account('bench', initial_deposit=10_000_000)
        plain_account = await Account.get(plain, broker.accounts[0])
        leg = Leg(instrument_type=InstrumentType.EQUITY, symbol='KO', action=OrderAction.BUY_TO_OPEN, quantity=1)
        order = MarketOrder(legs=[leg], behavior=FillBehavior.IMMEDIATE)

        async def temporary_account() -> None:
            async with paper.temporary_account():
                pass

        results = {
            'paper: get_positions': await _rate(lambda: paper_account.get_positions(paper), seconds),
            'plain: get_positions': await _rate(lambda: plain_account.get_positions(plain), seconds),
            'paper: get_balances': await _rate(lambda: paper_account.get_balances(paper), seconds),
            'plain: get_balances': await _rate(lambda: plain_account.get_balances(plain), seconds),
            'paper: place_order (fills)': await _rate(lambda: paper_account.place_order(paper, order, False), seconds),
            'plain: place_order (fills)': await _rate(lambda: plain_account.place_order(plain, order, False), seconds),
            'paper: temporary_account()': await _rate(temporary_account, seconds),
        }
        await paper._client.aclose()
        await plain._client.aclose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--json', action='store_true', help='print JSON instead of a report')
    parser.add_argument('--seconds', type=float, default=2.0, help='seconds per request-rate measurement')
    parser.add_argument('--runs', type=int, default=RUNS, help='fresh interpreters / broker starts per measurement')
    args = parser.parse_args()
    warnings.simplefilter('ignore', DeprecationWarning)

    report = {
        'python': sys.version.split()[0],
        'plugin_import': plugin_import(args.runs),
        'fixtures': fixture_costs(args.runs),
        'sdk_requests': asyncio.run(sdk_rates(args.seconds)),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    imported = report['plugin_import']
    print(f'Python {report["python"]}')
    heavy = ', '.join(imported['heavy_modules_loaded']) or 'none'
    print(f'pytest plugin import on top of pytest (median): {imported["median_ms"]} ms; heavy modules: {heavy}')
    fixtures = report['fixtures']
    print(f'broker start (once per test session): {fixtures["start_median_ms"]} ms')
    print(f'broker reset (once per test):          {fixtures["reset_median_ms"]} ms')
    print('\ntastyware SDK, single task on loopback:')
    for name, row in report['sdk_requests'].items():
        print(f'  {name:30s} {row["per_second"]:8.1f}/s   p50 {row["p50_ms"]:6.2f} ms   p95 {row["p95_ms"]:6.2f} ms')


if __name__ == '__main__':
    main()
