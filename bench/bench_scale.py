"""Many accounts under one rate budget per grant: ticks against the paper broker with moto.

    python bench/bench_scale.py --accounts 500 --positions 20 --grants 3 --json
    python bench/bench_scale.py --accounts 60 --positions 10 --grants 2 --ticks 2   # a quick look
    python bench/bench_scale.py --accounts 500 --positions 20 --grants 3 --ticks 5 --streamer --json

The paper broker holds ``--grants`` customers (each its own OAuth grant) with ``--accounts`` accounts
between them and enforces tastytrade's published per-token limits (positions 1/s, order writes 20/s, 50/s
in all; 429 with ``Retry-After`` past them). Each tick is dispatched to one message per account and run by
``--concurrency`` emulated Lambda containers with the worker code (see ``bench/scale_sim.py``). The first
tick places every stop; the later ones find nothing to do.

It prints one JSON object (``--json``) or the same as readable lines: ``accounts``, ``grants``, ``ticks``,
``tick_seconds`` (first / p50 / p50 of the steady ticks / p50 of the ticks that left quiet accounts to the
streamer / max), ``api_calls``, ``peak_requests_per_second``
per grant (and for positions), ``throttled`` (429s received), ``protected``, ``unprotected`` and
``violations`` (over-covered, duplicate and orphan stops on the broker afterwards).

Times are this machine's: one Python process plays broker, AWS and every worker, so CPU-bound ticks
(the first) are slower here than on Lambda; budget-bound ticks (the steady ones, paced by the positions
limit of each grant) take about as long as they would deployed.

``--streamer`` runs the real streamer beside the workers (see ``bench/scale_sim.py``): the ticks after it holds
the accounts read only the accounts something happened on and a share of the quiet ones (decision 60).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.scale_sim import SimConfig, simulate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = SimConfig()
    for item in fields(SimConfig):
        flag = '--' + item.name.replace('_', '-')
        default = getattr(defaults, item.name)
        if isinstance(default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default)
        else:
            parser.add_argument(flag, type=type(default), default=default)
    parser.add_argument('--json', action='store_true', help='print one JSON object')
    args = parser.parse_args(argv)
    config = SimConfig(**{item.name: getattr(args, item.name) for item in fields(SimConfig)})
    report = simulate(config, say=lambda line: print(line, file=sys.stderr, flush=True))
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f'{key}: {value}')
    return 0 if report['violations'] == 0 and report['throttled'] == 0 and not report['unprotected'] else 1


if __name__ == '__main__':
    raise SystemExit(main())
