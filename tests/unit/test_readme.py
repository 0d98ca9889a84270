"""The README's first screen: exactly two commands, one for the demo and one for the tests, and CI runs the
README's test command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def _first_block() -> list[str]:
    text = (ROOT / 'README.md').read_text()
    first_screen = text.split('\n---\n', 1)[0]
    block = re.search(r'```bash\n(.*?)```', first_screen, re.S)
    assert block, 'the first screen has no command block'
    return [line.split('#')[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_the_first_screen_gives_exactly_two_commands() -> None:
    assert _first_block() == ['make demo', 'make test']


def test_ci_runs_the_readmes_test_command() -> None:
    ci = (ROOT / '.ci' / 'run').read_text()
    assert re.search(r'^make test$', ci, re.M)


def test_the_first_screen_fits_one_screen() -> None:
    first_screen = (ROOT / 'README.md').read_text().split('\n---\n', 1)[0]
    assert len(first_screen.splitlines()) <= 25
