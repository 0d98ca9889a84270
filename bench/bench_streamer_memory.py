"""Benchmark the streamer's resident memory under an hour of quotes on 500 symbols (goal: flat, < 150 MB).

    python bench/bench_streamer_memory.py                       # 500 symbols, 3600 quote rounds
    python bench/bench_streamer_memory.py --symbols 100 --rounds 600 --json

A paper broker (the ``large`` scenario: 500 positions) runs in this process; ``tastyguard stream`` runs as its own
process against it, as a person starts it, with its state in a ``moto_server`` process (``--store URL``, after
``store init``), so the streamer's process holds what the Fargate task holds and no in-process AWS. Each *round*
moves every symbol's quote once (one admin call; the broker streams the changes over DXLink), so 3600 rounds are an
hour of one quote per symbol per second, played as fast as the two processes can take it. The streamer's resident
set size (``VmRSS`` of its process) is sampled every ``--every`` rounds; the report gives the first sample after
start-up, the last, the peak, and the growth per simulated hour fitted over the second half (a leak shows as a
steady slope; a flat line is what the bounded structures promise).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from paperbroker.server import PaperBroker

CLI = [sys.executable, '-c', 'from tastyguard.cli.app import main; main()']


def rss_mb(pid: int) -> float:
    """The process's resident set size in MB (Linux)."""
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
    raise RuntimeError('no VmRSS')


def _slope_per_hour(samples: list[tuple[int, float]], rounds_per_hour: int) -> float:
    half = samples[len(samples) // 2 :]
    if len(half) < 2:
        return 0.0
    xs = [x for x, _ in half]
    ys = [y for _, y in half]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mean_x) ** 2 for x in xs) or 1.0
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var
    return slope * rounds_per_hour


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return int(probe.getsockname()[1])


def _moto_server() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, '-m', 'moto.server', '-H', '127.0.0.1', '-p', str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f'http://127.0.0.1:{port}'
    import httpx

    for _ in range(100):
        try:
            httpx.get(url, timeout=0.5)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    return server, url


def run(symbols: int, rounds: int, every: int) -> dict[str, Any]:
    aws, store = _moto_server()
    try:
        subprocess.run([*CLI, 'store', 'init', '--store', store], check=True, capture_output=True)
        return _run(symbols, rounds, every, store)
    finally:
        aws.terminate()
        aws.wait(timeout=30)


def _run(symbols: int, rounds: int, every: int, store: str) -> dict[str, Any]:
    with PaperBroker('large', positions=symbols, orders=0) as broker:
        held = sorted({p['symbol'] for a in broker.admin.state()['accounts'] for p in a['positions']})
        quotes = {q['symbol']: q for q in broker.admin.state()['quotes']}
        env = {
            **os.environ,
            'TASTYTRADE_CLIENT_SECRET': broker.client_secret,
            'TASTYTRADE_REFRESH_TOKEN': broker.refresh_token,
        }
        env.pop('TASTYGUARD_STORE', None)
        process = subprocess.Popen(
            [*CLI, 'stream', '--api-url', broker.api_url, '--mode', 'observe', '--store', store],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        try:
            assert process.stdout is not None
            ready = json.loads(process.stdout.readline())
            rng = random.Random(7)
            samples: list[tuple[int, float]] = [(0, rss_mb(process.pid))]
            started = time.monotonic()
            for index in range(1, rounds + 1):
                moves = []
                for symbol in held:
                    quote = quotes.get(symbol) or {}
                    base = float(quote.get('bid') or 50.0)
                    price = max(0.05, base * (1 + rng.uniform(-0.002, 0.002)))
                    quotes[symbol] = {**quote, 'bid': f'{price:.2f}'}
                    moves.append({'symbol': symbol, 'bid': f'{price:.2f}', 'ask': f'{price + 0.02:.2f}'})
                broker.admin.set_quotes(moves)
                if index % every == 0:
                    samples.append((index, rss_mb(process.pid)))
            elapsed = time.monotonic() - started
        finally:
            process.terminate()
            code = process.wait(timeout=60)
    values = [mb for _, mb in samples]
    return {
        'symbols': len(held),
        'streamed_symbols': ready['symbols'],
        'rounds': rounds,
        'quote_events': rounds * len(held),
        'seconds': round(elapsed, 1),
        'rss_mb_start': round(values[1] if len(values) > 1 else values[0], 1),
        'rss_mb_end': round(values[-1], 1),
        'rss_mb_peak': round(max(values), 1),
        'growth_mb_per_hour': round(_slope_per_hour(samples, 3600), 2),
        'exit_code': code,
        'goal_mb': 150,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--symbols', type=int, default=500)
    parser.add_argument('--rounds', type=int, default=3600)
    parser.add_argument('--every', type=int, default=100)
    parser.add_argument('--json', action='store_true')
    args = parser.parse_args()
    report = run(args.symbols, args.rounds, args.every)
    if args.json:
        print(json.dumps(report))
        return
    print(
        f'{report["quote_events"]:,} quote events on {report["symbols"]} symbols in {report["seconds"]} s: '
        f'RSS {report["rss_mb_start"]} MB after start-up, {report["rss_mb_end"]} MB at the end, peak '
        f'{report["rss_mb_peak"]} MB, growth {report["growth_mb_per_hour"]} MB per simulated hour '
        f'(goal: flat, < {report["goal_mb"]} MB)'
    )


if __name__ == '__main__':
    main()
