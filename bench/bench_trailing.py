"""Benchmark the price follower's decisions: quotes → trailing decisions for many positions in a fast market.

    python bench/bench_trailing.py                         # 500 trailed positions, 10 simulated minutes
    python bench/bench_trailing.py --positions 2000 --seconds 1800 --json

Every position gets a quote every ``--interval`` seconds of simulated time (default 0.25 s: a fast market), a
random walk with a strong drift (``--drift``, cents per quote) so marks move nearly every quote and the stops
want to ratchet far more often than the policy allows. The quotes go through :meth:`PriceFollower.on_quotes`
(the streamer's real entry point: :func:`~tastyguard.streaming.prices.decide` per watched position, then the
follower's queue with its per-position coalescing), with the acting loop replaced by a counter, so the numbers
are the decision path alone (no DynamoDB, no broker). The report gives quotes per second of CPU, decisions by
kind, and the stop moves per position per breaker window against ``trail_max_moves`` (the replace rate tastytrade
sees: never above the limit, however fast the market).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'layers' / 'core'))

from tastyguard.config import parse_config
from tastyguard.config.effective import account_policy
from tastyguard.config.policy import PolicyScope
from tastyguard.engine.types import InstrumentType
from tastyguard.store.quotes import LatestQuote
from tastyguard.streaming.follow import PriceFollower
from tastyguard.streaming.prices import Ratchet, Watched
from tastyguard.ticks import PENNY

ACCOUNT = '5WT00001'
START = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


class Book:
    """What the follower reads of the streamer's quote book."""

    def __init__(self) -> None:
        self.latest: dict[str, LatestQuote] = {}
        self.exchange_ms: dict[str, int] = {}


def _policy(max_moves: int) -> Any:
    config = parse_config(
        {
            'environment': 'paper',
            'accounts': [{'account_number': ACCOUNT}],
            'policy': {'basis': 'high_water', 'distance': '5%', 'trail_max_moves': max_moves},
        }
    )
    return account_policy(config, ACCOUNT).resolve(PolicyScope.EQUITY)


def run(positions: int, seconds: float, interval: float, drift: int, max_moves: int, window_min: int) -> dict[str, Any]:
    policy = _policy(max_moves)
    clock = [START]
    ctx = SimpleNamespace(
        clock=lambda: clock[0], config=SimpleNamespace(safety=SimpleNamespace(window_minutes=window_min))
    )

    async def never(*_: Any) -> Any:
        raise AssertionError('not used by this bench')

    follower = PriceFollower(ctx, [ACCOUNT], never, never, never)  # type: ignore[arg-type]
    rng = random.Random(7)
    symbols = [f'S{i:04d}' for i in range(positions)]
    mids = {s: Decimal(rng.randint(2000, 40000)) / 100 for s in symbols}
    watched = [
        Watched(
            account=ACCOUNT,
            symbol=s,
            instrument_type=InstrumentType.EQUITY,
            long=True,
            quantity=Decimal(100),
            entry=mids[s],
            opened_at=START - timedelta(days=2),
            policy=policy,
            ticks=PENNY,
            our_stop=(mids[s] * Decimal('0.95')).quantize(Decimal('0.01')),
        )
        for s in symbols
    ]
    follower.watches[ACCOUNT] = watched
    follower._index()
    book = Book()
    moves: dict[str, list[datetime]] = {s: [] for s in symbols}
    decisions: Counter[str] = Counter()
    rounds = int(seconds / interval)
    cent = Decimal('0.01')
    cpu = 0.0
    for step in range(rounds):
        now = START + timedelta(seconds=step * interval)
        clock[0] = now
        stamp = int(now.timestamp() * 1000)
        for s in symbols:
            mid = max(mids[s] + Decimal(rng.randint(-drift, 3 * drift)) * cent, Decimal(1))
            mids[s] = mid
            book.latest[s] = LatestQuote(symbol=s, bid=mid, ask=mid + cent, last=mid, quoted_at=now)
            book.exchange_ms[s] = stamp
        started = time.process_time()
        follower.on_quotes(symbols, book)  # type: ignore[arg-type]
        cpu += time.process_time() - started
        while not follower._queue.empty():  # the acting loop: each queued ratchet is one replace at the broker
            decision = follower._queue.get_nowait()
            decisions[type(decision).__name__] += 1
            if isinstance(decision, Ratchet):
                follower._waiting.discard((decision.watched.account, decision.watched.symbol))
                moves[decision.watched.symbol].append(now)
    window = timedelta(minutes=window_min)
    worst = 0
    for times in moves.values():
        for i, at in enumerate(times):
            worst = max(worst, sum(1 for t in times[i:] if t - at < window))
    quotes = rounds * positions
    total_moves = sum(len(t) for t in moves.values())
    windows = max(seconds / (window_min * 60), 1)
    return {
        'positions': positions,
        'simulated_seconds': seconds,
        'quotes': quotes,
        'cpu_seconds': round(cpu, 3),
        'quotes_per_cpu_second': round(quotes / cpu) if cpu else None,
        'decisions': dict(follower.stats.decisions),
        'acted': dict(decisions),
        'ratchets_coalesced': follower.stats.ratchets_coalesced,
        'replaces': total_moves,
        'replaces_per_position_per_window_max': worst,
        'replaces_per_position_per_window_mean': round(total_moves / positions / windows, 2),
        'trail_max_moves': max_moves,
        'replaces_per_second_all_positions': round(total_moves / seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--positions', type=int, default=500)
    parser.add_argument('--seconds', type=float, default=600)
    parser.add_argument('--interval', type=float, default=0.25)
    parser.add_argument('--drift', type=int, default=5, help='cents per quote (the walk drifts up by this)')
    parser.add_argument('--max-moves', type=int, default=4)
    parser.add_argument('--window-minutes', type=int, default=15)
    parser.add_argument('--json', action='store_true')
    args = parser.parse_args()
    report = run(args.positions, args.seconds, args.interval, args.drift, args.max_moves, args.window_minutes)
    if args.json:
        print(json.dumps(report))
        return
    for key, value in report.items():
        print(f'{key:40} {value}')
    assert report['replaces_per_position_per_window_max'] <= args.max_moves, 'the move limit was exceeded'


if __name__ == '__main__':
    asyncio.run(asyncio.sleep(0))
    main()
