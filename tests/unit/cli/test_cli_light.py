"""The command line stays quick to start: declaring the commands imports only typer, and so does --help."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tastyguard.cli.choices import EnvironmentChoice, JobChoice, ModeChoice
from tastyguard.config.models import Environment, Mode
from tastyguard.jobs.invocation import JobName

pytestmark = pytest.mark.unit

HEAVY = ('pydantic', 'boto3', 'botocore', 'rich', 'httpx', 'moto', 'yaml', 'tastyguard.config', 'tastyguard.jobs')


def _loaded_after(code: str) -> list[str]:
    probe = f'{code}\nimport sys\nprint(" ".join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)'
    out = subprocess.run([sys.executable, '-c', probe], capture_output=True, text=True, check=True, timeout=60)  # noqa: S603
    return out.stderr.split()


def test_declaring_every_command_imports_nothing_heavy() -> None:
    assert _loaded_after('import tastyguard.cli.app') == []


@pytest.mark.parametrize('argv', [['--help'], ['run', '--help'], ['status', '--help'], ['config', '--help']])
def test_help_imports_nothing_heavy(argv: list[str]) -> None:
    # (typer itself coerces option values with pydantic, so a sub-command's help may load pydantic, nothing else)
    code = (
        f'import sys; sys.argv = ["tastyguard", *{argv!r}]\n'
        'from tastyguard.cli.app import main\n'
        'try:\n    main()\nexcept SystemExit:\n    pass\n'
    )
    assert [module for module in _loaded_after(code) if module != 'pydantic'] == []


def test_the_option_word_lists_match_the_configuration() -> None:
    assert [c.value for c in ModeChoice] == [m.value for m in Mode]
    assert [c.value for c in EnvironmentChoice] == [e.value for e in Environment]
    assert [c.job_name for c in JobChoice] == [j.value for j in JobName]
