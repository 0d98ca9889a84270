"""``scripts/uv`` finds or bootstraps uv on machines like a stock Debian/Ubuntu (an "externally managed" Python
that refuses pip installs), a Python without pip, or one with uv already on the PATH. Each machine is a sandbox
PATH holding only bash, a few core tools and fakes of ``uv`` / ``python3`` that record how they were called."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

SCRIPT = Path(__file__).resolve().parents[2] / 'scripts' / 'uv'
TOOLS = ('bash', 'env', 'dirname', 'rm', 'mkdir', 'cat', 'chmod')


class Machine:
    """A sandbox PATH (only ``TOOLS`` plus the fakes written into it) and a log of what the fakes ran."""

    def __init__(self, root: Path) -> None:
        self.bin = root / 'bin'
        self.bin.mkdir()
        self.log = root / 'calls.log'
        self.log.touch()
        self.tools = root / 'tools'
        for tool in TOOLS:
            found = shutil.which(tool)
            assert found, tool
            (self.bin / tool).symlink_to(found)

    def fake(self, name: str, body: str, folder: Path | None = None) -> None:
        path = (folder or self.bin) / name
        path.write_text(f'#!{shutil.which("bash")}\necho "{name} $*" >> {self.log}\n{body}\n')
        path.chmod(0o755)

    def uv_on_path(self, version: str) -> None:
        answer = f'echo "uv {version} (x86_64-unknown-linux-gnu)"'
        self.fake('uv', f'[ "$1" = --version ] && {{ {answer}; exit 0; }}; exit 0')

    def python(self, *, has_uv: bool = False, venv: bool = True) -> None:
        """A ``python3``: pip refuses to install (externally managed); ``-m venv`` works when ``venv``."""
        fake_python_in_venv = (
            f'[ "$1 $2" = "-m pip" ] && [ "$3" = --version ] && exit 0\n'
            f'if [ "$1 $2 $3" = "-m pip install" ]; then\n'
            f'  printf \'#!{shutil.which("bash")}\\necho "private-uv $*" >> {self.log}\\n\' > "$(dirname "$0")/uv"\n'
            f'  chmod +x "$(dirname "$0")/uv"; exit 0\nfi\nexit 1'
        )
        venv_branch = (
            'mkdir -p "$3/bin"\n'
            f'cat > "$3/bin/python" <<\'PY\'\n#!{shutil.which("bash")}\necho "venv-python $*" >> {self.log}\n'
            f'{fake_python_in_venv}\nPY\nchmod +x "$3/bin/python"; exit 0'
            if venv
            else 'echo "The virtual environment was not created: ensurepip is not available." >&2; exit 1'
        )
        uv_branch = 'echo "uv 0.13.9"; exit 0' if has_uv else 'echo "No module named uv" >&2; exit 1'
        self.fake(
            'python3',
            f'if [ "$1 $2" = "-m uv" ]; then [ "$3" = --version ] && {{ {uv_branch}; }}; exit 0; fi\n'
            'if [ "$1 $2" = "-m pip" ]; then echo "error: externally-managed-environment" >&2; exit 1; fi\n'
            f'if [ "$1 $2" = "-m venv" ]; then {venv_branch}; fi\nexit 1',
        )

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        environment = {'PATH': str(self.bin), 'HOME': str(self.bin.parent), 'TASTYGUARD_TOOLS_DIR': str(self.tools)}
        return subprocess.run(  # noqa: S603
            [str(self.bin / 'bash'), str(SCRIPT), *args],
            capture_output=True,
            text=True,
            env={**environment, **env},
            timeout=30,
            check=False,
        )

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines()


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    return Machine(tmp_path)


def test_a_recent_uv_on_the_path_is_used(machine: Machine) -> None:
    machine.uv_on_path('0.13.9')
    result = machine.run('sync', '--frozen')
    assert result.returncode == 0, result.stderr
    assert machine.calls()[-1] == 'uv sync --frozen'


def test_an_old_uv_on_the_path_is_passed_over(machine: Machine) -> None:
    machine.uv_on_path('0.4.30')
    machine.python(has_uv=True)
    result = machine.run('sync')
    assert result.returncode == 0, result.stderr
    assert machine.calls()[-1] == 'python3 -m uv sync'
    assert 'ignoring uv 0.4.30' in result.stderr


def test_an_externally_managed_python_gets_a_private_uv_without_touching_the_system(machine: Machine) -> None:
    # Given no uv anywhere and a Python whose pip refuses to install (Debian/Ubuntu)
    machine.python()
    # When uv is needed
    result = machine.run('sync', '--frozen')
    # Then uv went into a private virtual environment by that environment's pip, and ran from there
    assert result.returncode == 0, result.stderr
    calls = machine.calls()
    assert not any(call.startswith('python3 -m pip') for call in calls)  # never the system pip
    assert f'python3 -m venv {machine.tools}' in calls
    assert any(call.startswith('venv-python -m pip install') and 'uv==' in call for call in calls)
    assert calls[-1] == 'private-uv sync --frozen'
    # and the next time it is used directly
    machine.log.write_text('')
    assert machine.run('lock').returncode == 0
    assert machine.calls() == ['private-uv lock']


def test_a_python_without_pip_or_venv_gets_one_line_saying_what_to_install(machine: Machine) -> None:
    machine.python(venv=False)
    result = machine.run('sync')
    assert result.returncode == 127
    lines = [line for line in result.stderr.splitlines() if line.startswith('tastyguard:')]
    assert 'install uv' in lines[-1] and 'docs.astral.sh/uv' in lines[-1]
    assert not machine.tools.exists()  # nothing half-made left behind


def test_no_python_at_all_is_one_line_too(machine: Machine) -> None:
    result = machine.run('sync')
    assert result.returncode == 127
    assert 'install uv' in result.stderr


def test_an_explicit_uv_wins(machine: Machine) -> None:
    mine = machine.bin.parent / 'mine'
    mine.mkdir()
    machine.fake('uv', 'exit 0', folder=mine)
    machine.uv_on_path('0.13.9')
    assert machine.run('sync', TASTYGUARD_UV=str(mine / 'uv')).returncode == 0
    assert machine.calls() == ['uv sync']  # the one in `mine` (the PATH one would also log its --version)
    assert not any('--version' in call for call in machine.calls())


def test_the_script_is_executable() -> None:
    assert os.access(SCRIPT, os.X_OK)
