"""Benchmark the streamer image without Docker: what it adds to the base, and what compiling at build buys.

    python bench/bench_streamer_image.py            # readable report
    python bench/bench_streamer_image.py --json

* Sizes: the Dockerfile's build stage reproduced step by step (the same ``pip install --platform
  manylinux_2_28_aarch64 ... --require-hashes`` into ``/opt/python``, the staged code into ``/var/task``,
  ``compileall --invalidation-mode checked-hash`` of both, and of a copy of the standard library with the
  Dockerfile's exclusions): each layer's bytes on disk and gzip-compressed (what a registry stores and
  Fargate pulls). The base image is quoted, not measured (no registry access here).
* Start-up: importing what the streamer imports first (``tastyguard.streaming``, the job wiring, boto3), in a
  fresh ``python -I -S`` that sees only the image's folders, with the build's hash-based bytecode and without
  any (a read-only image without bytecode compiles every module at every start). The dependencies are
  installed for this machine for that (the import work is the same). Median of several runs.
* The health check: wall and CPU time of ``python -m streamer.healthcheck`` (ECS runs it every 30 s).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.lambda_sandbox import uv_command  # noqa: E402
from infra import streamer_context  # noqa: E402

# python:3.13.15-slim linux/arm64 layers (30.2 + 4.6 + 11.8 MB), docker-library/repo-info, build of 2026-09-01.
BASE_IMAGE_COMPRESSED_MB = 46.6
EXCLUDE = r'/(idlelib|tkinter|turtledemo|ensurepip|site-packages|config-3[.]13[^/]*)/|_sysconfigdata'
FIRST_IMPORTS = ('tastyguard.streaming', 'tastyguard.jobs.wiring', 'boto3', 'websockets')
PLATFORM = [
    '--platform',
    'manylinux_2_28_aarch64',
    '--platform',
    'manylinux2014_aarch64',
    '--implementation',
    'cp',
    '--python-version',
    '3.13',
]


def base_python() -> str:
    """The interpreter without this virtual environment (the image has no venv and no .pth files)."""
    return str(getattr(sys, '_base_executable', sys.executable))


def run(argv: list[str], **kwargs: Any) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=900, **kwargs)


def compile_tree(*folders: Path, exclude: str | None = None) -> None:
    extra = ['-x', exclude] if exclude else []
    run(
        [
            base_python(),
            '-m',
            'compileall',
            '-q',
            '-j',
            '0',
            '--invalidation-mode',
            'checked-hash',
            *extra,
            *map(str, folders),
        ]
    )


def layer_size(folder: Path, only: str | None = None) -> dict[str, Any]:
    """Bytes on disk and gzip-compressed tar of ``folder`` (only files whose name ends with ``only``)."""
    files = [p for p in sorted(folder.rglob('*')) if p.is_file() and (only is None or p.name.endswith(only))]
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode='wb', mtime=0) as zipped, tarfile.open(fileobj=zipped, mode='w') as tar:
        for path in files:
            tar.add(path, arcname=str(path.relative_to(folder)))
    return {
        'files': len(files),
        'disk_mb': round(sum(p.stat().st_size for p in files) / 2**20, 2),
        'compressed_mb': round(len(buffer.getvalue()) / 2**20, 2),
    }


def build_layers(scratch: Path) -> tuple[dict[str, Any], Path]:
    context = streamer_context.stage(scratch / 'context', config_json='{"environment": "paper"}')
    opt, task = scratch / 'opt-python', scratch / 'var-task'
    run(
        [
            sys.executable,
            '-m',
            'pip',
            'install',
            '--quiet',
            '--disable-pip-version-check',
            '--no-deps',
            '--require-hashes',
            '--only-binary=:all:',
            '--no-compile',
            *PLATFORM,
            '--target',
            str(opt),
            '--requirement',
            str(context / 'requirements.txt'),
        ]
    )
    shutil.rmtree(opt / 'bin', ignore_errors=True)
    before = layer_size(opt)
    for name in ('tastyguard', 'streamer'):
        shutil.copytree(context / name, task / name)
    compile_tree(opt, task)
    stdlib = scratch / 'stdlib'
    source = Path(
        subprocess.check_output(
            [base_python(), '-c', 'import sysconfig; print(sysconfig.get_paths()["stdlib"])'], text=True
        ).strip()
    )
    shutil.copytree(source, stdlib, ignore=shutil.ignore_patterns('__pycache__', 'test', 'tests', 'idle_test'))
    compile_tree(stdlib, exclude=EXCLUDE)
    layers = {
        'context': layer_size(context),
        'opt_python_without_bytecode': before,
        'opt_python': layer_size(opt),
        'var_task': layer_size(task),
        'stdlib_bytecode': layer_size(stdlib, only='.pyc'),
    }
    added = sum(layers[name]['compressed_mb'] for name in ('opt_python', 'var_task', 'stdlib_bytecode'))
    layers['image_estimate'] = {
        'base_compressed_mb': BASE_IMAGE_COMPRESSED_MB,
        'added_compressed_mb': round(added, 2),
        'total_compressed_mb': round(BASE_IMAGE_COMPRESSED_MB + added, 2),
    }
    return layers, context


def _cpu_and_wall(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, check=False, capture_output=True, text=True, env=env, timeout=120)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise RuntimeError(done.stderr[-2000:])
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done.stdout


def startup(scratch: Path, context: Path, runs: int) -> dict[str, Any]:
    native = scratch / 'native'
    uv = uv_command()
    run(
        [
            *uv,
            'pip',
            'install',
            '--quiet',
            '--python',
            base_python(),
            '--target',
            str(native),
            '--no-deps',
            '--requirement',
            str(context / 'requirements.txt'),
        ]
    )  # type: ignore[list-item]
    plain = scratch / 'code-plain'
    compiled = scratch / 'code-compiled'
    for target in (plain, compiled):
        for name in ('tastyguard', 'streamer'):
            shutil.copytree(context / name, target / name)
    native_compiled = scratch / 'native-compiled'
    shutil.copytree(native, native_compiled)
    compile_tree(compiled, native_compiled)
    env = {'PATH': '/usr/bin:/bin', 'AWS_DEFAULT_REGION': 'us-east-1', 'POWERTOOLS_TRACE_DISABLED': '1'}
    report: dict[str, Any] = {}
    for label, code, deps in (
        ('bytecode compiled at build', compiled, native_compiled),
        ('no bytecode', plain, native),
    ):
        paths = [str(code), str(deps)]
        probe = (
            f'import sys, time; sys.path[:0] = {paths!r}; t = time.perf_counter()\nimport '
            + ', '.join(FIRST_IMPORTS)
            + '\nprint(time.perf_counter() - t)'
        )
        samples = []
        for _ in range(runs):
            # -B: like the read-only image, nothing compiled now is ever written back
            _, cpu, out = _cpu_and_wall([base_python(), '-I', '-S', '-B', '-c', probe], env)
            samples.append((float(out.strip()), cpu))
        report[label] = {
            'import_median_ms': round(statistics.median(s for s, _ in samples) * 1000, 1),
            'cpu_median_ms': round(statistics.median(c for _, c in samples) * 1000, 1),
        }
    return report


def healthcheck(context: Path, runs: int) -> dict[str, Any]:
    heartbeat = context.parent / 'heartbeat'
    heartbeat.write_text('')
    env = {'PATH': '/usr/bin:/bin', 'PYTHONPATH': str(context), 'TASTYGUARD_STREAMER_HEALTH_FILE': str(heartbeat)}
    compile_tree(context / 'streamer')
    samples = [_cpu_and_wall([base_python(), '-m', 'streamer.healthcheck'], env)[:2] for _ in range(runs)]
    return {
        'wall_median_ms': round(statistics.median(w for w, _ in samples) * 1000, 1),
        'cpu_median_ms': round(statistics.median(c for _, c in samples) * 1000, 1),
        'checks_per_day': 24 * 3600 // 30,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--json', action='store_true')
    parser.add_argument('--runs', type=int, default=9)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix='tastyguard-streamer-bench-'))
    try:
        layers, context = build_layers(scratch)
        report = {
            'python': subprocess.check_output([base_python(), '--version'], text=True).strip(),
            'layers': layers,
            'startup': startup(scratch, context, args.runs),
            'healthcheck': healthcheck(context, args.runs),
            'cpus': os.cpu_count(),
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f'Streamer image layers (reproduced without Docker; {report["python"]})')
    for name, size in report['layers'].items():
        if 'files' in size:
            disk, packed = f'{size["disk_mb"]:7.2f} MB on disk', f'{size["compressed_mb"]:6.2f} MB compressed'
            print(f'  {name:28} {disk}  {packed}  {size["files"]:5} files')
    estimate = report['layers']['image_estimate']
    print(
        f'  image: base {estimate["base_compressed_mb"]} MB (quoted) + {estimate["added_compressed_mb"]} MB = '
        f'~{estimate["total_compressed_mb"]} MB to pull'
    )
    print(f'\nStart-up imports ({", ".join(FIRST_IMPORTS)}), median of {args.runs}')
    for label, numbers in report['startup'].items():
        imports, cpu = f'{numbers["import_median_ms"]:7.1f} ms import', f'{numbers["cpu_median_ms"]:7.1f} ms CPU'
        print(f'  {label:28} {imports}  {cpu} (whole process)')
    check = report['healthcheck']
    per_run = f'{check["wall_median_ms"]} ms wall, {check["cpu_median_ms"]} ms CPU per run'
    print(f'\nHealth check: {per_run}, {check["checks_per_day"]} runs a day')


if __name__ == '__main__':
    main()
