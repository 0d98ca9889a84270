"""Hash-based bytecode for the Lambda assets, compiled by the Lambda runtime's Python minor version.

Lambda's code folders (``/var/task``, ``/opt``) are read-only, so a function that ships no ``.pyc`` compiles
every module it imports on every cold start and cannot keep the result. Shipping bytecode halves the handler
import. It must be:

* **hash-based** (:pep:`552`): the CDK CLI zips assets with every file date set to 1980-01-01, so a
  timestamp ``.pyc`` would never match its source after the upload and Python would compile again anyway.
  ``unchecked-hash`` pycs are used without reading the source; the asset is immutable once built, and the
  asset hash covers the ``.py`` files, so a changed source is always shipped with its new bytecode.
* **for the runtime's magic number**: the bytecode format changes with every minor version, so it is
  compiled by a CPython 3.13 interpreter (``python3.13`` on the PATH, pyenv's, or ``$TASTYGUARD_LAMBDA_PYTHON``),
  whatever interpreter runs ``cdk synth``. Without one the asset ships without bytecode and the synth says so.
* **reproducible**: the paths embedded in the code objects are the ones Lambda sees (``-s``/``-p``), not the
  build folder, so the same sources give the same bytes and the asset hash stays stable between synths.
"""

from __future__ import annotations

import functools
import os
import shutil
import struct
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from infra import constants as c

_PROBE = 'import sys, importlib.util as u; print(sys.version_info[0], sys.version_info[1], u.MAGIC_NUMBER.hex())'
_FLAG_HASH_BASED = 0b01
_FLAG_CHECK_SOURCE = 0b10


class BytecodeError(RuntimeError):
    """Bytecode could not be compiled; the message names the files and what to do."""


@dataclass(frozen=True, slots=True)
class LambdaPython:
    """An interpreter of the Lambda runtime's minor version, and its bytecode magic number."""

    executable: str
    version: tuple[int, int]
    magic: bytes

    @property
    def tag(self) -> str:
        """What the compiled output depends on (part of the dependency layer's asset hash)."""
        return f'cpython-{self.version[0]}{self.version[1]}:{self.magic.hex()}:{c.PYC_INVALIDATION_MODE}'


def _probe(executable: str) -> LambdaPython | None:
    try:
        done = subprocess.run(  # noqa: S603 - a local interpreter we were pointed at
            [executable, '-I', '-c', _PROBE], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    major, minor, magic = done.stdout.split()
    return LambdaPython(executable=executable, version=(int(major), int(minor)), magic=bytes.fromhex(magic))


def _candidates() -> Iterator[str]:
    yield sys.executable
    found = shutil.which(f'python{c.LAYER_PYTHON_VERSION}')
    if found:
        yield found
    pyenv = Path(os.environ.get('PYENV_ROOT', Path.home() / '.pyenv')) / 'versions'
    for version in sorted(pyenv.glob(f'{c.LAYER_PYTHON_VERSION}.*'), reverse=True):
        yield str(version / 'bin' / f'python{c.LAYER_PYTHON_VERSION}')


@functools.cache
def lambda_python() -> LambdaPython | None:
    """The interpreter that compiles the assets' bytecode, or None when this machine has no CPython 3.13.

    ``$TASTYGUARD_LAMBDA_PYTHON`` wins and must be a 3.13 interpreter (a wrong one is an error, not a
    silent fallback); otherwise the first 3.13 among this interpreter, ``python3.13`` on the PATH and pyenv's.
    """
    wanted = tuple(int(part) for part in c.LAYER_PYTHON_VERSION.split('.'))
    override = os.environ.get(c.LAMBDA_PYTHON_ENV_OVERRIDE)
    if override:
        found = _probe(override)
        if found is None or found.version != wanted:
            raise BytecodeError(
                f'{c.LAMBDA_PYTHON_ENV_OVERRIDE}={override} is not a CPython {c.LAYER_PYTHON_VERSION} interpreter: '
                f'point it at python{c.LAYER_PYTHON_VERSION} (the Lambda runtime) or unset it'
            )
        return found
    for candidate in _candidates():
        found = _probe(candidate)
        if found is not None and found.version == wanted:
            return found
    return None


def bytecode_tag() -> str:
    """The compiler's identity, or ``no-bytecode`` (part of the dependency layer's asset hash)."""
    python = lambda_python()
    return python.tag if python is not None else 'no-bytecode'


def compile_tree(tree: Path, runtime_root: str, *, what: str) -> bool:
    """Compile every ``.py`` under ``tree`` in place; ``tree`` is mounted at ``runtime_root`` on Lambda.

    Returns False (after a warning on stderr) when there is no 3.13 interpreter: the asset then works but
    compiles at every cold start. A file that does not compile is an error naming it.
    """
    python = lambda_python()
    if python is None:
        print(  # noqa: T201 - a synth-time warning for the person running cdk
            f'WARNING: no CPython {c.LAYER_PYTHON_VERSION} found (set {c.LAMBDA_PYTHON_ENV_OVERRIDE}=/path/to/'
            f'python{c.LAYER_PYTHON_VERSION}): {what} ships without bytecode, so every Lambda cold start compiles '
            'it (about twice the import time).',
            file=sys.stderr,
        )
        return False
    root = tree.resolve()
    command = [
        python.executable,
        '-I',
        '-m',
        'compileall',
        '-q',
        '-j',
        '0',
        '--invalidation-mode',
        c.PYC_INVALIDATION_MODE,
        '-s',
        str(root),
        '-p',
        runtime_root,
        str(root),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        tail = '\n'.join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise BytecodeError(f'could not compile {what} for python{c.LAYER_PYTHON_VERSION}:\n{tail}')
    return True


@dataclass(frozen=True, slots=True)
class PycProblem:
    """One source file whose shipped bytecode Lambda could not use as is."""

    source: Path
    problem: str


def pyc_path(source: Path) -> Path:
    """Where the Lambda runtime looks for ``source``'s bytecode (``__pycache__/<name>.cpython-313.pyc``)."""
    return source.parent / '__pycache__' / f'{source.stem}.{c.LAMBDA_CACHE_TAG}.pyc'


def check_tree(tree: Path, magic: bytes) -> list[PycProblem]:
    """Every ``.py`` under ``tree`` whose ``.pyc`` is missing, timestamp-based, for another magic, or stale.

    The source hash is recomputed with :func:`importlib.util.source_hash`, which is keyed by the *running*
    interpreter's magic number: call this from the runtime's minor version (the project venv is 3.13).
    """
    import importlib.util  # noqa: PLC0415 - only the checks need it

    problems: list[PycProblem] = []
    for source in sorted(tree.rglob('*.py')):
        compiled = pyc_path(source)
        if not compiled.is_file():
            problems.append(PycProblem(source, 'no bytecode'))
            continue
        header = compiled.read_bytes()[:16]
        (flags,) = struct.unpack('<I', header[4:8])
        if header[:4] != magic:
            problems.append(PycProblem(source, f'magic {header[:4].hex()} is not the runtime magic {magic.hex()}'))
        elif not flags & _FLAG_HASH_BASED:
            problems.append(PycProblem(source, 'timestamp-based (stale once the CDK zips it with 1980 dates)'))
        elif flags & _FLAG_CHECK_SOURCE and c.PYC_INVALIDATION_MODE == 'unchecked-hash':
            problems.append(PycProblem(source, 'checked-hash (reads and hashes the source at every import)'))
        elif header[8:16] != importlib.util.source_hash(source.read_bytes()):
            problems.append(PycProblem(source, 'compiled from another version of the source'))
    return problems
