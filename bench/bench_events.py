"""Benchmark events without an order: what recognising them costs, and how fast the paper broker settles them.

    python bench/bench_events.py            # readable report
    python bench/bench_events.py --json     # the same numbers as JSON

* API calls of ensure_stops on the ``expiration`` scenario: a quiet run (nothing changed: no transactions read),
  then the first run of each Monday after a Friday's settlement (one transactions read names the event) — the
  price of recognition is that one read, paid only when a position changed without an order. (Each Monday also
  shows a token refresh and a repeated positions read: the bench jumps the broker's clock by days, past the
  access token's lifetime, so the first request of the morning gets a 401 and is retried after the refresh.)
* Pure recognition: ``from_transactions`` over a long history (trades plus expirations, assignments and splits)
  and ``plausible_split`` over many positions, median of repeated runs.
* The paper broker: settling the ``large`` scenario's options at once (``expire``), and a split of a stock held
  in many accounts with working orders to adjust.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_jobs import _context, _family


def _median_ms(action: Any, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 3)


def _calls(broker: Any) -> Counter[str]:
    return Counter(_family(r['path']) for r in broker.admin.requests())


def monday_runs() -> list[dict[str, Any]]:
    """ensure_stops on the expiration scenario: a quiet run, then the morning after each Friday."""
    from moto import mock_aws

    from paperbroker.clock import NEW_YORK, SESSION_CLOSE
    from paperbroker.scenario_expiration import fridays
    from paperbroker.server import PaperBroker
    from tastyguard.jobs.invocation import JobInvocation, JobName
    from tastyguard.jobs.registry import run

    rows: list[dict[str, Any]] = []
    with mock_aws(), PaperBroker('expiration') as broker:
        ctx = _context(broker, 'live')
        ctx.clock = broker.broker.clock.now

        def ensure(label: str) -> None:
            broker.admin.clear_requests()
            started = time.perf_counter()
            run(ctx, JobInvocation(job=JobName.ENSURE_STOPS, force=True, scheduled_time=ctx.clock()))
            seconds = time.perf_counter() - started
            calls = _calls(broker)
            rows.append(
                {'run': label, 'seconds': round(seconds, 3), 'calls': sum(calls.values()), 'by_family': dict(calls)}
            )

        ensure('first (cold caches)')
        ensure('quiet')
        for index, day in enumerate(fridays(broker.broker.clock.now()), start=1):
            close = datetime.combine(day, SESSION_CLOSE, NEW_YORK)
            broker.admin.advance_clock((close - broker.broker.clock.now()).total_seconds() + 60)
            broker.admin.next_session('open')
            ensure(f'after F{index}')
            ensure(f'after F{index}, again')
    return rows


def recognition(rows: int, positions: int, repeats: int) -> dict[str, Any]:
    """The pure recognition over a synthetic history and a synthetic position diff."""
    from tastyguard.broker.models.transactions import Transaction
    from tastyguard.engine.types import Holding, InstrumentType
    from tastyguard.jobs.recognition import from_transactions, splits_from_positions
    from tastyguard.store.snapshots import HeldPosition

    at = datetime(2026, 12, 11, 21, 1, tzinfo=UTC)
    history = []
    for i in range(rows):
        when = (at - timedelta(minutes=i)).isoformat()
        base = {'id': i, 'account-number': '5WT00001', 'executed-at': when}
        if i % 10 == 0:
            symbol = f'X{i:05d} 261211P00050000'
            history.append(
                {**base, 'transaction-type': 'Receive Deliver', 'transaction-sub-type': 'Assignment',
                 'symbol': symbol, 'quantity': '1.0', 'action': 'Buy to Close', 'underlying-symbol': f'X{i:05d}'}
            )  # fmt: skip
            history.append(
                {**base, 'id': rows + i, 'transaction-type': 'Receive Deliver', 'transaction-sub-type': 'Buy to Open',
                 'symbol': f'X{i:05d}', 'quantity': '100.0', 'action': 'Buy to Open', 'instrument-type': 'Equity',
                 'price': '50.0'}
            )  # fmt: skip
        else:
            history.append(
                {**base, 'transaction-type': 'Trade', 'transaction-sub-type': 'Buy to Open', 'symbol': f'T{i}',
                 'quantity': '1', 'action': 'Buy to Open', 'instrument-type': 'Equity', 'price': '10'}
            )  # fmt: skip
    parsed = [Transaction.model_validate(row) for row in history]
    before = {
        f'S{i}': HeldPosition(
            symbol=f'S{i}', instrument_type='Equity', quantity=Decimal(101), average_open_price=Decimal(150)
        )
        for i in range(positions)
    }
    after = {
        f'S{i}': Holding('5WT00001', f'S{i}', InstrumentType.EQUITY, f'S{i}', Decimal(151), Decimal(100))
        for i in range(positions)
    }
    found = from_transactions(parsed, at, {})
    return {
        'transactions': len(parsed),
        'events': len(found),
        'from_transactions_ms': _median_ms(lambda: from_transactions(parsed, at, {}), repeats),
        'positions': positions,
        'splits_from_positions_ms': _median_ms(lambda: splits_from_positions(before, after, set(), at), repeats),
    }


def paper_broker(positions: int, repeats: int) -> dict[str, Any]:
    """Settling every option of the large scenario at once, and a split across many accounts with orders."""
    from paperbroker.broker import Broker
    from paperbroker.seeding import add_account, add_order, add_position, set_quote
    from paperbroker.splits import parse_ratio

    def settle() -> int:
        broker = Broker('large', positions=positions, orders=0)
        far = broker.clock.today() + timedelta(days=120)
        started = time.perf_counter()
        settled = broker.engine.expirations.expire(far)
        timings.append((time.perf_counter() - started) * 1000)
        return len(settled)

    timings: list[float] = []
    counts = [settle() for _ in range(repeats)]

    split_ms: list[float] = []
    for _ in range(repeats):
        broker = Broker('empty')
        core = broker.core
        set_quote(core, 'AAPL', bid='190.20', ask='190.24', last='190.22')
        for n in range(positions):
            number = f'5WS{n:05d}'
            add_account(core, number, core.user_id, cash=Decimal(100000))
            add_position(core, number, 'AAPL', Decimal(101 + n % 7), Decimal(150))
            body = {
                'time-in-force': 'GTC', 'order-type': 'Stop', 'stop-trigger': '135.00',
                'legs': [{'instrument-type': 'Equity', 'symbol': 'AAPL', 'quantity': 100, 'action': 'Sell to Close'}],
            }  # fmt: skip
            add_order(core, broker.engine, number, body, kind='tastyguard')
        started = time.perf_counter()
        broker.engine.splits.apply('AAPL', parse_ratio('3:2'), 'adjust')
        split_ms.append((time.perf_counter() - started) * 1000)
    return {
        'large_scenario_positions': positions,
        'options_settled': counts[0],
        'expire_all_ms': round(statistics.median(timings), 2),
        'split_accounts': positions,
        'split_adjust_ms': round(statistics.median(split_ms), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--json', action='store_true', help='print JSON')
    parser.add_argument('--rows', type=int, default=5000, help='transactions in the synthetic history')
    parser.add_argument('--positions', type=int, default=500)
    args = parser.parse_args()
    os.environ.setdefault('AWS_DEFAULT_REGION', 'us-east-1')
    for key in ('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'):
        os.environ.setdefault(key, 'bench')
    report = {
        'monday_runs': monday_runs(),
        'recognition': recognition(args.rows, args.positions, repeats=9),
        'paper_broker': paper_broker(args.positions, repeats=3),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print('ensure_stops on the expiration scenario (live, paper broker on loopback)')
    for row in report['monday_runs']:
        families = ', '.join(f'{k} {v}' for k, v in sorted(row['by_family'].items()))
        print(f'  {row["run"]:22} {row["calls"]:3} calls {row["seconds"]:6.2f} s   {families}')
    r = report['recognition']
    print(
        f'\nRecognition: {r["transactions"]} transactions → {r["events"]} events in {r["from_transactions_ms"]} ms; '
        f'{r["positions"]} split positions in {r["splits_from_positions_ms"]} ms (median)'
    )
    b = report['paper_broker']
    print(
        f'\nPaper broker: {b["options_settled"]} option positions of the large scenario settled in '
        f'{b["expire_all_ms"]} ms; a 3:2 split over {b["split_accounts"]} accounts with a stop each in '
        f'{b["split_adjust_ms"]} ms (median)'
    )


if __name__ == '__main__':
    main()
