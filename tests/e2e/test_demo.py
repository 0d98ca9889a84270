"""The demo: the whole story, readable at 80 columns, in words rather than internal codes."""

from __future__ import annotations

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
    for expected in ('1/7 · plan', '3/7 · live mode', '0 order writes on the second run', 'filled at', 'Daily digest'):
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
