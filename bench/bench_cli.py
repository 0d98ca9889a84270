"""Benchmark the command line's start-up and what each make target installs.

    python bench/bench_cli.py              # readable report
    python bench/bench_cli.py --json
    python bench/bench_cli.py --sizes      # also build a scratch environment per target (uv, from its cache)

* Start-up: ``tastyguard --help`` (target: under 0.5 s), a sub-command's ``--help`` and ``--version``, each a
  fresh process; wall and CPU time (user + system), median and best of several runs. On a busy machine wall
  time is inflated by waiting for a core; CPU time is what the command costs.
* Sizes (``--sizes``): the virtual environment ``make demo`` (runtime + ``cli``), ``make synth`` (+ ``infra``) and
  ``make test`` (everything) install, each synced from the lock file into a scratch folder.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CLI = ROOT / '.venv' / 'bin' / 'tastyguard'
COMMANDS = {
    'tastyguard --help': ['--help'],
    'tastyguard run --help': ['run', '--help'],
    'tastyguard status --help': ['status', '--help'],
    'tastyguard --version': ['--version'],
}
TARGETS = {
    'make demo (runtime + cli)': ['--no-default-groups', '--extra', 'cli'],
    'make synth (+ infra)': ['--no-default-groups', '--extra', 'cli', '--group', 'infra'],
    'make test (everything)': ['--all-extras', '--all-groups'],
}


def _once(argv: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([str(CLI), *argv], check=True, capture_output=True, timeout=60)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def startup(repeats: int) -> dict[str, Any]:
    """Wall and CPU seconds per command (median, best)."""
    report: dict[str, Any] = {}
    for name, argv in COMMANDS.items():
        _once(argv)  # warm the file cache and the bytecode
        runs = [_once(argv) for _ in range(repeats)]
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        report[name] = {
            'wall_median_s': round(statistics.median(walls), 3),
            'wall_best_s': round(min(walls), 3),
            'cpu_median_s': round(statistics.median(cpus), 3),
            'cpu_best_s': round(min(cpus), 3),
        }
    return report


def _tree_mb(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob('*') if p.is_file() and not p.is_symlink()) / 1e6, 1)


def sizes() -> dict[str, float]:
    """MB of the environment each target installs."""
    report: dict[str, float] = {}
    python = os.environ.get('UV_PYTHON') or str(Path(sys.executable).resolve())
    for name, flags in TARGETS.items():
        with tempfile.TemporaryDirectory() as scratch:
            env = {**os.environ, 'UV_PROJECT_ENVIRONMENT': str(Path(scratch) / 'venv'), 'UV_PYTHON': python}
            subprocess.run(
                [str(ROOT / 'scripts' / 'uv'), 'sync', '--frozen', '--quiet', *flags], cwd=ROOT, env=env, check=True
            )
            report[name] = _tree_mb(Path(scratch) / 'venv')
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--json', action='store_true')
    parser.add_argument('--repeats', type=int, default=9)
    parser.add_argument('--sizes', action='store_true')
    args = parser.parse_args()
    result: dict[str, Any] = {'startup': startup(args.repeats), 'load_average': os.getloadavg()[0]}
    if args.sizes:
        result['environment_mb'] = sizes()
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f'CLI start-up ({args.repeats} runs each, load average {result["load_average"]:.1f})')
    for name, row in result['startup'].items():
        print(
            f'  {name:28} wall {row["wall_median_s"]:.3f} s (best {row["wall_best_s"]:.3f})   '
            f'cpu {row["cpu_median_s"]:.3f} s (best {row["cpu_best_s"]:.3f})'
        )
    for name, mb in result.get('environment_mb', {}).items():
        print(f'  {name:28} {mb:7.1f} MB')


if __name__ == '__main__':
    main()
