"""Benchmark what Lambda loads: layer sizes, and handler cold-import time in an interpreter that holds
only what Lambda holds.

    python bench/bench_layer.py            # readable report
    python bench/bench_layer.py --json

* Sizes: the dependency layer built exactly as ``cdk synth`` builds it (ARM64, CPython 3.13 wheels), the code
  layer and the functions asset; unzipped and zipped.
* Cold import: the same locked requirements installed for *this* machine's platform (the import work is the
  same), plus boto3 (the Lambda runtime provides it), into a scratch folder; each handler is imported in a
  fresh ``python -I -S`` that sees only that folder, the code layer and the functions — no virtual
  environment, so nothing the layers lack can sneak in. Median of several runs. This is a quick check with
  tracing off and bytecode written by the first run; ``bench/bench_coldstart.py`` measures the cold path
  as Lambda runs it (shipped bytecode only, read-only folders, tracing on, against ``import tastytrade``).
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.lambda_sandbox import uv_command  # noqa: E402
from infra import constants as c  # noqa: E402
from infra.constructs.packaging import core_layer_bundler, deps_layer_bundler, functions_bundler  # noqa: E402

HANDLERS = ('sync_positions', 'ensure_stops', 'reconcile_orders', 'digest', 'notify_slack')
LEAKS = ('typer', 'rich', 'yaml', 'moto', 'paperbroker', 'pandas')
BOTO3 = ('boto3', 'botocore', 's3transfer', 'jmespath', 'python-dateutil', 'six', 'urllib3')


def _sizes(folder: Path) -> dict[str, float]:
    unzipped = sum(p.stat().st_size for p in folder.rglob('*') if p.is_file())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob('*')):
            if path.is_file():
                archive.write(path, path.relative_to(folder))
    return {
        'unzipped_mb': round(unzipped / 2**20, 2),
        'zipped_mb': round(len(buffer.getvalue()) / 2**20, 2),
        'files': sum(1 for p in folder.rglob('*') if p.is_file()),
    }


def build(scratch: Path) -> dict[str, Any]:
    """The three assets as synth builds them (with their hash-based bytecode)."""
    deps, code, functions = scratch / 'deps', scratch / 'code', scratch / 'functions'
    deps_layer_bundler().try_bundle(str(deps))
    core_layer_bundler().try_bundle(str(code))
    functions_bundler('{}').try_bundle(str(functions))
    shared = sorted(p.name for p in (deps / 'python').glob('pydantic_core/*.so'))
    return {
        'dependency_layer': _sizes(deps),
        'code_layer': _sizes(code),
        'functions_asset': _sizes(functions),
        'pydantic_core_binary': shared,
        'code_layer_has_cli': (code / 'python' / 'tastyguard' / 'cli').exists(),
    }


def native_runtime(scratch: Path) -> Path:
    """The locked requirements plus boto3, for this machine, in one folder (what /opt/python + the runtime hold)."""
    target = scratch / 'native'
    requirements = c.DEPS_LAYER_DIR / c.DEPS_REQUIREMENTS
    uv = uv_command()
    for args in (['--requirement', str(requirements), '--no-deps'], [*BOTO3]):
        # uv installs for this interpreter (a pip on PATH may belong to another Python and fetch other wheels)
        subprocess.run(
            [*uv, 'pip', 'install', '--quiet', '--python', sys.executable, '--target', str(target), *args],
            check=True,
        )
    return target


def cold_import(native: Path, code: Path, module: str, runs: int) -> dict[str, Any]:
    """Median/min seconds to import ``module`` in a fresh isolated interpreter that sees only the layers."""
    paths = [str(ROOT), str(code / 'python'), str(native)]  # ROOT for functions/ (as /var/task)
    probe = (
        'import sys, time, json\n'
        f'sys.path[:0] = {paths!r}\n'
        'start = time.perf_counter()\n'
        f'import {module}\n'
        'print(json.dumps({"seconds": time.perf_counter() - start, '
        f'"leaked": sorted(m for m in {LEAKS!r} if m in sys.modules)}}))\n'
    )
    env = {'POWERTOOLS_TRACE_DISABLED': '1', 'AWS_DEFAULT_REGION': 'us-east-1', 'PATH': '/usr/bin:/bin'}
    samples: list[float] = []
    leaked: list[str] = []
    for index in range(runs + 1):
        done = subprocess.run(
            [sys.executable, '-I', '-S', '-c', probe], check=False, capture_output=True, text=True, env=env
        )
        if done.returncode != 0:
            raise RuntimeError(f'importing {module} with only the layers failed:\n{done.stderr[-2000:]}')
        result = json.loads(done.stdout.strip().splitlines()[-1])
        leaked = result['leaked']
        if index:  # the first run only writes the bytecode cache
            samples.append(result['seconds'])
    return {
        'median_ms': round(statistics.median(samples) * 1000, 1),
        'min_ms': round(min(samples) * 1000, 1),
        'leaked': leaked,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--json', action='store_true')
    parser.add_argument('--runs', type=int, default=7)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix='tastyguard-layer-'))
    try:
        report = build(scratch)
        native = native_runtime(scratch)
        report['cold_import'] = {
            name: cold_import(native, scratch / 'code', f'functions.{name}.handler', args.runs) for name in HANDLERS
        }
        report['cold_import']['boto3 alone'] = cold_import(native, scratch / 'code', 'boto3', args.runs)
        report['cold_import']['tastyguard.broker'] = cold_import(
            native, scratch / 'code', 'tastyguard.broker', args.runs
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print('Lambda assets (as cdk synth builds them)')
    for name in ('dependency_layer', 'code_layer', 'functions_asset'):
        size = report[name]
        sizes = f'{size["unzipped_mb"]:7.2f} MB unzipped  {size["zipped_mb"]:6.2f} MB zipped'
        print(f'  {name:17} {sizes}  {size["files"]:5} files')
    binaries = ', '.join(report['pydantic_core_binary'])
    print(f'  pydantic_core: {binaries}; cli in code layer: {report["code_layer_has_cli"]}')
    print('\nCold import in an interpreter that sees only the layers (median / min)')
    for name, numbers in report['cold_import'].items():
        leaked = f'   LEAKED: {", ".join(numbers["leaked"])}' if numbers['leaked'] else ''
        print(f'  {name:20} {numbers["median_ms"]:7.0f} ms / {numbers["min_ms"]:5.0f} ms{leaked}')


if __name__ == '__main__':
    main()
