"""A cold Lambda worker on this machine: the assets as synth builds them, where and how Lambda runs them.

* **Assets**: the code layer and the functions asset come from the very bundlers the stack uses
  (``infra.constructs.packaging``), bytecode included. The dependency layer is the same locked requirements
  through the same bundler, only for this machine's platform (the ARM64 ``.so`` files cannot load on x86_64;
  the Python files and their bytecode are the same). The runtime's boto3/botocore (the versions in
  ``uv.lock``) sit where the managed runtime keeps them, with bytecode, as the runtime ships them.
  ``bytecode=False`` builds what the stack shipped before bytecode: the same trees without ``__pycache__``.
* **Folders**: in a private mount namespace (``unshare -r -m``, when the kernel allows it) the functions are
  mounted read-only at ``/var/task``, the two layers merged read-only at ``/opt``, boto3 at
  ``/var/lang/lib/python3.13/site-packages``, and ``/tmp`` is a private tmpfs (the X-Ray SDK drops its
  marker file there). Without namespaces the same trees stay where they are, and ``-B`` still keeps the
  interpreter from writing bytecode.
* **Interpreter**: CPython 3.13 with ``-I -S -B`` and Lambda's ``sys.path`` order, so nothing outside the
  assets and the standard library can be imported; the modules the runtime's bootstrap imports are loaded
  before the clock starts.
* **Environment**: the function's variables from the synthesized template plus what the Lambda service sets
  (``AWS_LAMBDA_*``, ``_HANDLER``, ``LAMBDA_TASK_ROOT``, ``AWS_EXECUTION_ENV``, the X-Ray daemon address and
  context-missing mode...). ``POWERTOOLS_TRACE_DISABLED`` is not set: tracing is on, as the template's
  ``TracingConfig: Active`` makes it, and segments go to a UDP port on loopback.
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
import shutil
import socket
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from infra import constants as c  # noqa: E402
from infra.bytecode import compile_tree, lambda_python  # noqa: E402
from infra.constructs.packaging import core_layer_bundler, deps_layer_bundler, functions_bundler  # noqa: E402

RUNTIME_SITE = '/var/lang/lib/python3.13/site-packages'
# What the managed runtime provides next to the layers (boto3 and its dependencies, the SnapStart hooks).
RUNTIME_PACKAGES = ('boto3', 'botocore', 's3transfer', 'jmespath', 'python-dateutil', 'six', 'urllib3')
SNAPSHOT_HOOKS_PACKAGE = 'snapshot-restore-py==1.0.0'
# The modules the runtime's bootstrap (awslambdaric bootstrap.py and its imports) has loaded before it
# imports the handler: they are not the handler's cost.
BOOTSTRAP_MODULES = ('importlib', 'json', 'logging', 'os', 'sys', 'time', 'traceback', 'decimal', 'math', 'enum')
LEAKS = ('typer', 'rich', 'yaml', 'moto', 'paperbroker', 'pandas', 'tastytrade')


@dataclass(frozen=True)
class Assets:
    """The three folders a cold worker sees (plus the runtime's packages)."""

    task: Path  # -> /var/task
    opt: Path  # -> /opt (dependency layer + code layer)
    runtime: Path  # -> /var/lang/lib/python3.13/site-packages
    bytecode: bool


def _native_platforms() -> tuple[str, ...]:
    machine = platform.machine()
    return (f'manylinux2014_{machine}', f'manylinux_2_28_{machine}')


def uv_command() -> list[str]:
    """The project's uv: ``scripts/uv`` finds it (or bootstraps a private one) as every make target does."""
    return [str(ROOT / 'scripts' / 'uv')]


def _strip_bytecode(source: Path, target: Path) -> None:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'), symlinks=True)


def build_assets(scratch: Path, config_json: str) -> tuple[Assets, Assets]:
    """The assets with bytecode (as synth builds them now) and without (as they were shipped before).

    The dependency layer and the runtime packages (pip and uv runs) are reused when ``scratch`` already holds
    them; the code layer and the functions are bundled afresh every time.
    """
    python = lambda_python()
    if python is None:
        raise SystemExit('this benchmark needs CPython 3.13 (the Lambda runtime): set TASTYGUARD_LAMBDA_PYTHON')
    deps, runtime = scratch / 'deps-layer', scratch / 'runtime'
    if not deps.is_dir():
        deps_layer_bundler(platforms=_native_platforms()).try_bundle(str(deps))
    if not runtime.is_dir():
        versions = [f'{name}=={importlib.metadata.version(name)}' for name in RUNTIME_PACKAGES]
        subprocess.run(
            [*uv_command(), 'pip', 'install', '--quiet', '--no-deps', '--python', python.executable, '--target',
             str(runtime), *versions, SNAPSHOT_HOOKS_PACKAGE],
            check=True,
        )  # fmt: skip
        shutil.rmtree(runtime / 'bin', ignore_errors=True)
        compile_tree(runtime, RUNTIME_SITE, what='the runtime packages')
    for stale in ('task', 'opt', 'plain'):
        shutil.rmtree(scratch / stale, ignore_errors=True)
    compiled = Assets(scratch / 'task', scratch / 'opt', runtime, bytecode=True)
    shutil.copytree(deps, compiled.opt, symlinks=True)  # Lambda extracts the layers into /opt in order
    core_layer_bundler().try_bundle(str(compiled.opt))
    functions_bundler(config_json).try_bundle(str(compiled.task))
    plain = Assets(scratch / 'plain' / 'task', scratch / 'plain' / 'opt', runtime, bytecode=False)
    _strip_bytecode(compiled.task, plain.task)
    _strip_bytecode(compiled.opt, plain.opt)
    return compiled, plain


def namespaces_available() -> bool:
    """Whether this kernel lets us mount the assets read-only where Lambda has them."""
    unshare = shutil.which('unshare')
    if unshare is None:
        return False
    done = subprocess.run(
        [unshare, '-r', '-m', 'sh', '-c', 'mount -t tmpfs tmpfs /mnt'], capture_output=True, check=False
    )
    return done.returncode == 0


class XRayDaemon:
    """A UDP socket on loopback standing in for the X-Ray daemon (counts the segment documents it gets)."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(('127.0.0.1', 0))
        self.socket.setblocking(False)
        self.address = f'127.0.0.1:{self.socket.getsockname()[1]}'

    def drain(self) -> list[dict[str, Any]]:
        """The segment documents received so far."""
        documents: list[dict[str, Any]] = []
        while True:
            try:
                data = self.socket.recv(65536)
            except BlockingIOError:
                return documents
            _header, _, body = data.partition(b'\n')
            documents.append(json.loads(body))

    def close(self) -> None:
        """Stop listening."""
        self.socket.close()


def lambda_environment(
    function: Mapping[str, Any], *, xray_daemon: str, snap_start: bool, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The function's template variables plus what the Lambda service sets for python3.13."""
    name = function['FunctionName']
    env = {
        **function['Variables'],
        '_HANDLER': function['Handler'],
        'AWS_EXECUTION_ENV': 'AWS_Lambda_python3.13',
        'AWS_LAMBDA_FUNCTION_NAME': name,
        'AWS_LAMBDA_FUNCTION_MEMORY_SIZE': str(function['MemorySize']),
        'AWS_LAMBDA_FUNCTION_VERSION': '1' if snap_start else '$LATEST',
        'AWS_LAMBDA_INITIALIZATION_TYPE': 'snap-start' if snap_start else 'on-demand',
        'AWS_LAMBDA_LOG_GROUP_NAME': f'/aws/lambda/{name}',
        'AWS_LAMBDA_LOG_STREAM_NAME': '2026/11/20/[$LATEST]0123456789abcdef0123456789abcdef',
        'AWS_LAMBDA_LOG_FORMAT': 'JSON',
        'AWS_LAMBDA_LOG_LEVEL': 'INFO',
        'AWS_LAMBDA_RUNTIME_API': '127.0.0.1:9001',
        'AWS_REGION': 'us-east-1',
        'AWS_DEFAULT_REGION': 'us-east-1',
        'AWS_ACCESS_KEY_ID': 'ASIABENCHMARKONLY000',
        'AWS_SECRET_ACCESS_KEY': 'benchmark-only-not-a-secret',
        'AWS_SESSION_TOKEN': 'benchmark-only',
        'AWS_XRAY_CONTEXT_MISSING': 'LOG_ERROR',
        'AWS_XRAY_DAEMON_ADDRESS': xray_daemon,
        '_AWS_XRAY_DAEMON_ADDRESS': xray_daemon.split(':', maxsplit=1)[0],
        '_AWS_XRAY_DAEMON_PORT': xray_daemon.split(':')[1],
        'LAMBDA_TASK_ROOT': c.LAMBDA_TASK_ROOT,
        'LAMBDA_RUNTIME_DIR': '/var/runtime',
        'LANG': 'en_US.UTF-8',
        'TZ': ':UTC',
        'PATH': '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin',
        'PYTHONPATH': '/var/runtime',
    }
    if snap_start:  # Lambda does not set these in SnapStart functions
        del env['AWS_LAMBDA_LOG_GROUP_NAME'], env['AWS_LAMBDA_LOG_STREAM_NAME']
    env.update(extra or {})
    return env


@dataclass(frozen=True)
class Layout:
    """Where the child finds the folders (Lambda's paths inside a namespace, the build paths otherwise)."""

    task: str
    opt: str
    runtime: str
    tmp: str


def sys_path(layout: Layout) -> dict[str, list[str]]:
    """Lambda python3.13's ``sys.path`` order around the interpreter's own standard library entries.

    ``before``: the function, then the layers; ``after``: the runtime's packages. (On Lambda:
    ``/var/task``, ``/opt/python/lib/python3.13/site-packages``, ``/opt/python``, the standard library,
    ``/var/lang/lib/python3.13/site-packages``, ``/var/runtime``.)
    """
    return {
        'before': [layout.task, f'{layout.opt}/python/lib/python3.13/site-packages', f'{layout.opt}/python'],
        'after': [layout.runtime, '/var/runtime'],
    }


def launch(
    assets: Assets,
    probe: str,
    arguments: Mapping[str, Any],
    env: Mapping[str, str],
    *,
    sandbox: bool,
    scratch: Path,
    python_flags: tuple[str, ...] = (),
    timeout: float = 300.0,
) -> dict[str, Any]:
    """Run ``probe`` (Python source) in a fresh cold worker; it prints one JSON object as its last line."""
    executable = lambda_python()
    assert executable is not None
    if sandbox:
        layout = Layout(c.LAMBDA_TASK_ROOT, c.LAYER_ROOT, RUNTIME_SITE, '/tmp')  # noqa: S108 - Lambda's /tmp
    else:
        tmp = scratch / 'tmp'
        tmp.mkdir(exist_ok=True)
        layout = Layout(str(assets.task), str(assets.opt), str(assets.runtime), str(tmp))
    payload = json.dumps({**arguments, 'sys_path': sys_path(layout), 'bootstrap': BOOTSTRAP_MODULES, 'leaks': LEAKS})
    child_env = dict(env)
    child_env['LAMBDA_TASK_ROOT'] = layout.task
    command = [executable.executable, '-I', '-S', '-B', *python_flags, '-c', probe, payload]
    if sandbox:
        mounts = ' && '.join(
            [
                'mount -t tmpfs tmpfs /var',
                f'mkdir -p /var/task /var/runtime {RUNTIME_SITE}',
                f'mount --bind {assets.task} /var/task',
                'mount -o remount,bind,ro /var/task',
                f'mount --bind {assets.runtime} {RUNTIME_SITE}',
                f'mount -o remount,bind,ro {RUNTIME_SITE}',
                f'mount --bind {assets.opt} /opt',
                'mount -o remount,bind,ro /opt',
                'mount -t tmpfs tmpfs /tmp',
                'exec "$@"',
            ]
        )
        command = ['unshare', '-r', '-m', '--propagation', 'private', 'sh', '-c', mounts, 'sandbox', *command]
    done = subprocess.run(command, capture_output=True, text=True, env=child_env, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f'the cold worker failed ({done.returncode}):\n{done.stderr[-4000:]}')
    lines = [line for line in done.stdout.strip().splitlines() if line.startswith('{"probe"')]
    if not lines:
        raise RuntimeError(f'the cold worker printed no result:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}')
    result: dict[str, Any] = json.loads(lines[-1])
    result['stderr'] = done.stderr
    return result


def probe_source(name: str) -> str:
    """The source of a child-side probe script in ``bench/probes/``."""
    return (Path(__file__).resolve().parent / 'probes' / f'{name}.py').read_text()
