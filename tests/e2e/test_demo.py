"""The demo: the whole story, readable at 80 columns, in words rather than internal codes."""

from __future__ import annotations

import json
import re

import pytest

from tastyguard.jobs.results import RESULT_WORDS

from .conftest import invoke

pytestmark = pytest.mark.e2e

INTERNAL = sorted({code for code in RESULT_WORDS if '_' in code} | {'alert_only', 'hands_off', 'sync_positions'})


@pytest.fixture(scope='module')
def demo_output() -> str:
    result = invoke(
        'demo', env={'AWS_ACCESS_KEY_ID': 'AKIAREALLOOKING000000', 'AWS_ENDPOINT_URL': 'http://127.0.0.1:9'}
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_demo_tells_the_whole_story(demo_output: str) -> None:
    for expected in (
        '1/8 · plan', '3/8 · live mode', '0 order writes on the second run', '5/8 · the fast path',
        'DIS protected', 'ms after the fill', 'filled at', 'Daily digest',
    ):  # fmt: skip
        assert expected in demo_output


def test_the_demo_fits_80_columns_and_stays_short(demo_output: str) -> None:
    lines = demo_output.splitlines()
    too_wide = [line for line in lines if len(line) > 80 and not line.startswith('  ')]
    assert too_wide == []
    assert len(lines) < 350


def test_the_demo_speaks_words_not_codes(demo_output: str) -> None:
    found = [code for code in INTERNAL if re.search(rf'\b{code}\b', demo_output)]
    assert found == []


def test_the_demo_ends_with_hints_that_run_as_printed(demo_output: str) -> None:
    hints = [line.split('#')[0].strip() for line in demo_output.splitlines() if line.startswith('  ./tastyguard')]
    assert hints and all(hint.startswith('./tastyguard ') for hint in hints)
    assert not re.search(r'^\s+tastyguard ', demo_output, re.M)  # never the bare name, which is not on the PATH


def test_the_demo_as_json_is_one_object_with_the_final_state() -> None:
    result = invoke('demo', '--json')
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.stdout.splitlines() if line.strip()]
    summary = json.loads(line)
    assert set(summary) >= {'positions', 'protected', 'unprotected', 'actions', 'notifications', 'fast_path_ms'}
    assert summary['fast_path_ms'] is not None and summary['fast_path_ms'] < 10_000
    assert {'account': '5WT00001', 'symbol': 'DIS', 'quantity': '100'} in summary['positions']
    assert all(set(action) == {'kind', 'symbol', 'result'} for action in summary['actions'])
    assert {u['symbol'] for u in summary['unprotected']} == {'AMD', './ESZ6 ESZ6  261218P5800'}  # each says why
    assert all(u['why'] for u in summary['unprotected'])
    [future_option] = [u for u in summary['unprotected'] if u['symbol'].startswith('./')]
    assert 'software stop at 90.0' in future_option['why']  # a level the streamer watches, not a dead end
