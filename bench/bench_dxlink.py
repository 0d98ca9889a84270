"""Benchmark COMPACT parsing: events per second, our DXLink decoder against the tastyware SDK's parser.

    python bench/bench_dxlink.py            # readable report
    python bench/bench_dxlink.py --json     # the same numbers as JSON

Both parse the same ``FEED_DATA`` messages: ``Quote`` and ``Trade`` rows in the field order the tastyware SDK
asks for (its models' fields), 500 symbols per message as a busy feed sends them; once with every price
present and once with one price in five ``"NaN"`` (the SDK drops such rows after a failed validation, ours keeps
them with ``None``). The rate is rows per second (every row handled, whether it became an event or was
dropped). Two measurements per parser:

* ``from_text``: the whole path from the websocket's text frame to typed events (``json.loads`` included;
  ours decodes numbers straight to ``Decimal``, the SDK to ``float`` and then through pydantic);
* ``from_rows``: the decoding step alone, from already decoded JSON.

Each figure is the best of several repeats (the least disturbed by the other processes on this machine).
"""

from __future__ import annotations

import argparse
import json
import random
import time
import warnings
from collections.abc import Callable
from typing import Any

from tastyguard.streaming.dxlink import FeedDecoder
from tastyguard.streaming.dxlink.values import loads

ROWS_PER_MESSAGE = 500
MESSAGES = 20
REPEATS = 7

with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    from tastytrade.dxfeed import Quote as SdkQuote
    from tastytrade.dxfeed import Trade as SdkTrade


def _fields(model: Any) -> list[str]:
    """The SDK's acceptEventFields for a model (what its FEED_SETUP sends, in order)."""
    return list(model.model_json_schema()['properties'])


def _value(name: str, rng: random.Random, symbol: str, nan_share: float) -> Any:
    if name == 'eventSymbol':
        return symbol
    if name.endswith('Code'):
        return 'Q'
    if name in {'tickDirection'}:
        return 'UP'
    if name in {'extendedTradingHours'}:
        return False
    if name.endswith('Time') or name in {'sequence', 'timeNanoPart', 'dayId', 'time'}:
        return 1796230629021 if 'Time' in name or name == 'time' else 0
    if name.lower().endswith(('size', 'volume')):
        return float(rng.randint(1, 50_000))  # whole numbers, sent as 100.0 like the real feed
    if rng.random() < nan_share:
        return 'NaN'
    return round(rng.uniform(1, 5000), 2)


def messages(kind: str, fields: list[str], nan_share: float, seed: int = 7) -> list[str]:
    """``MESSAGES`` FEED_DATA texts of ``ROWS_PER_MESSAGE`` rows each."""
    rng = random.Random(seed)
    out = []
    for m in range(MESSAGES):
        values = [
            _value(name, rng, f'SYM{m * ROWS_PER_MESSAGE + r:05d}', nan_share)
            for r in range(ROWS_PER_MESSAGE)
            for name in fields
        ]
        out.append(json.dumps({'type': 'FEED_DATA', 'channel': 7, 'data': [kind, values]}))
    return out


def _best(runs: dict[str, Callable[[], int]], rows: int) -> dict[str, float]:
    """Rows per second of each run: best of ``REPEATS``, interleaved so load spikes hit every parser alike."""
    best = dict.fromkeys(runs, 0.0)
    for _ in range(REPEATS):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = max(best[name], rows / (time.perf_counter() - start))
    return best


def measure(kind: str, model: Any, nan_share: float) -> dict[str, Any]:
    fields = _fields(model)
    texts = messages(kind, fields, nan_share)
    rows = MESSAGES * ROWS_PER_MESSAGE
    decoder = FeedDecoder()
    decoder.configure({kind: fields})
    ours_rows = [loads(t)['data'] for t in texts]
    sdk_rows = [json.loads(t)['data'][1] for t in texts]

    def ours_text() -> int:
        return sum(len(decoder.decode(loads(t)['data']).events) for t in texts)

    def ours_decoded() -> int:
        return sum(len(decoder.decode(rows).events) for rows in ours_rows)

    def sdk_text() -> int:
        return sum(len(model.from_stream(json.loads(t)['data'][1])) for t in texts)

    def sdk_decoded() -> int:
        return sum(len(model.from_stream(rows)) for rows in sdk_rows)

    ours_count, sdk_count = ours_decoded(), sdk_decoded()
    rates = _best(
        {'ours_text': ours_text, 'sdk_text': sdk_text, 'ours_rows': ours_decoded, 'sdk_rows': sdk_decoded}, rows
    )
    result = {
        'event_type': kind,
        'fields': len(fields),
        'nan_share': nan_share,
        'rows': rows,
        'events_decoded': {'ours': ours_count, 'tastyware': sdk_count},
        'from_text': {'ours': rates['ours_text'], 'tastyware': rates['sdk_text']},
        'from_rows': {'ours': rates['ours_rows'], 'tastyware': rates['sdk_rows']},
    }
    for step in ('from_text', 'from_rows'):
        result[step]['speedup'] = result[step]['ours'] / result[step]['tastyware']
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--json', action='store_true', help='print JSON instead of a report')
    args = parser.parse_args()
    results = [
        measure(kind, model, share)
        for share in (0.0, 0.2)
        for kind, model in (('Quote', SdkQuote), ('Trade', SdkTrade))
    ]
    if args.json:
        print(json.dumps({'compact_parsing': results}, indent=2))
        return
    print(f'COMPACT parsing, rows/second (best of {REPEATS}; {ROWS_PER_MESSAGE} rows per message)')
    for r in results:
        decoded = r['events_decoded']
        print(
            f'  {r["event_type"]} ({r["fields"]} fields, {r["nan_share"]:.0%} NaN prices, {r["rows"]} rows;'
            f' events: ours {decoded["ours"]}, tastyware {decoded["tastyware"]})'
        )
        for step in ('from_text', 'from_rows'):
            row = r[step]
            print(
                f'    {step:<9}  ours {row["ours"]:>10,.0f}   tastyware {row["tastyware"]:>10,.0f}'
                f'   x{row["speedup"]:.1f}'
            )


if __name__ == '__main__':
    main()
