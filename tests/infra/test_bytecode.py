"""The assets ship hash-based bytecode Lambda uses as is: valid, reproducible, and never compiled again."""

from __future__ import annotations

import json
import marshal
import os
import py_compile
import re
import subprocess
import sys
import sysconfig
from pathlib import Path
from types import CodeType

import pytest

from infra import bytecode
from infra import constants as c
from infra.bundling import CopyBundler
from infra.bytecode import BytecodeError, check_tree, compile_tree, pyc_path
from infra.constructs import packaging
from infra.constructs.packaging import core_layer_bundler, deps_layer_hash, functions_bundler
from tests.infra.bytecode_support import RUNTIME_MAGIC, needs_lambda_python

pytestmark = [pytest.mark.infra, needs_lambda_python]

TIMESTAMP = py_compile.PycInvalidationMode.TIMESTAMP

# Imports every module of the two assets in a fresh interpreter that may not write bytecode (-B, as on
# Lambda's read-only folders) and counts the modules of the assets compiled from source instead of loaded
# from their .pyc. Third-party packages come from the venv at the end of sys.path and are not counted.
IMPORT_ALL = """
import importlib, importlib.machinery, json, pkgutil, sys
roots, extra, packages = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3:]
sys.path[:0] = roots
sys.path.append(extra)
compiled = []
original = importlib.machinery.SourceFileLoader.source_to_code
def counting(self, data, path, *, _optimize=-1):
    if any(str(path).startswith(root) for root in roots):
        compiled.append(str(path))
    return original(self, data, path, _optimize=_optimize)
importlib.machinery.SourceFileLoader.source_to_code = counting
imported = 0
for package in packages:
    root = importlib.import_module(package)
    imported += 1
    for info in pkgutil.walk_packages(root.__path__, f'{package}.'):
        importlib.import_module(info.name)
        imported += 1
print(json.dumps({'imported': imported, 'compiled': compiled}))
"""


def _import_all(roots: list[Path], *packages: str) -> dict[str, object]:
    env = {'PATH': os.environ['PATH'], 'POWERTOOLS_TRACE_DISABLED': '1', 'AWS_DEFAULT_REGION': 'us-east-1'}
    done = subprocess.run(  # noqa: S603 - this interpreter, our own script
        [
            sys.executable, '-I', '-S', '-B', '-c', IMPORT_ALL,
            json.dumps([str(root) for root in roots]), sysconfig.get_paths()['purelib'], *packages,
        ],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _code_of(pyc: Path) -> CodeType:
    """The module code object a .pyc holds (after its 16-byte header)."""
    code: CodeType = marshal.loads(pyc.read_bytes()[16:])  # noqa: S302 - bytecode this test just compiled
    return code


def _bundle_both(root: Path) -> tuple[Path, Path]:
    layer, functions = root / 'opt', root / 'task'
    core_layer_bundler().try_bundle(str(layer))
    functions_bundler(json.dumps({'environment': 'paper', 'accounts': []})).try_bundle(str(functions))
    return layer, functions


def _pycs(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob('*.pyc'))}


def test_every_module_of_the_assets_is_loaded_from_its_bytecode_never_compiled(tmp_path: Path) -> None:
    # Given the code layer and the functions as synth bundles them
    layer, functions = _bundle_both(tmp_path)
    shipped = _pycs(tmp_path)
    # When a fresh interpreter that cannot write bytecode imports every one of their modules
    result = _import_all([functions, layer / 'python'], 'tastyguard', 'functions')
    # Then every module came from its shipped .pyc (none was compiled), and the bytecode is unchanged
    assert isinstance(result['imported'], int) and result['imported'] > 80
    assert result['compiled'] == []
    assert _pycs(tmp_path) == shipped


def test_timestamp_bytecode_with_the_cdk_zip_dates_is_compiled_again_hash_based_is_not(tmp_path: Path) -> None:
    # Given one package compiled with timestamps and one hash-based, both sources dated 1980-01-01 like the
    # files the CDK CLI zips
    for name, mode in (('stamped', TIMESTAMP), ('hashed', None)):
        module = tmp_path / name / '__init__.py'
        module.parent.mkdir()
        module.write_text(f'NAME = {name!r}\n')
        if mode is None:
            compile_tree(module.parent, f'/opt/python/{name}', what=name)
        else:
            py_compile.compile(str(module), cfile=str(pyc_path(module)), invalidation_mode=mode)
        os.utime(module, (315532800, 315532800))
    # When both are imported, Then only the timestamp one is compiled again from source
    result = _import_all([tmp_path], 'stamped', 'hashed')
    assert result['compiled'] == [str(tmp_path / 'stamped' / '__init__.py')]


def test_a_stale_pyc_in_the_source_tree_is_not_shipped(tmp_path: Path) -> None:
    # Given a source tree whose __pycache__ holds bytecode of an older version of the module
    source = tmp_path / 'src' / 'pkg'
    source.mkdir(parents=True)
    module = source / 'mod.py'
    module.write_text('VALUE = 1\n')
    py_compile.compile(str(module), cfile=str(pyc_path(module)), invalidation_mode=TIMESTAMP)
    module.write_text('VALUE = 2\n')
    # When it is bundled
    CopyBundler(source, 'python/pkg', bytecode_root=c.LAYER_ROOT).try_bundle(str(tmp_path / 'out'))
    # Then the bundle's bytecode is freshly compiled from the current source
    shipped = tmp_path / 'out' / 'python' / 'pkg' / 'mod.py'
    assert check_tree(tmp_path / 'out', RUNTIME_MAGIC) == []
    assert 2 in _code_of(pyc_path(shipped)).co_consts


def test_the_bytecode_is_reproducible_and_names_the_lambda_paths(tmp_path: Path) -> None:
    # Given the same sources bundled twice into different build folders
    first, second = tmp_path / 'a', tmp_path / 'b'
    _bundle_both(first)
    _bundle_both(second)
    # Then the bytecode is byte-for-byte the same (so the asset hash does not change between synths)
    assert _pycs(first) == _pycs(second)
    # And the embedded file names are where Lambda mounts the assets, not the build folder
    ticks = pyc_path(first / 'opt' / 'python' / 'tastyguard' / 'ticks.py')
    assert _code_of(ticks).co_filename == f'{c.LAYER_ROOT}/python/tastyguard/ticks.py'
    handler = pyc_path(first / 'task' / 'functions' / 'ensure_stops' / 'handler.py')
    assert _code_of(handler).co_filename == f'{c.LAMBDA_TASK_ROOT}/functions/ensure_stops/handler.py'


def test_the_check_names_every_kind_of_unusable_bytecode(tmp_path: Path) -> None:
    # Given four modules compiled, then spoiled in four different ways
    for name in ('edited', 'timestamp', 'missing', 'foreign'):
        (tmp_path / f'{name}.py').write_text(f'NAME = {name!r}\n')
    assert compile_tree(tmp_path, '/opt/python', what='test') is True
    assert check_tree(tmp_path, RUNTIME_MAGIC) == []
    (tmp_path / 'edited.py').write_text('NAME = "changed after compiling"\n')
    timestamp = tmp_path / 'timestamp.py'
    py_compile.compile(str(timestamp), cfile=str(pyc_path(timestamp)), invalidation_mode=TIMESTAMP)
    pyc_path(tmp_path / 'missing.py').unlink()
    foreign = pyc_path(tmp_path / 'foreign.py')
    foreign.write_bytes(b'\x00\x00\r\n' + foreign.read_bytes()[4:])
    # When the tree is checked, Then each is reported with what is wrong
    problems = {problem.source.name: problem.problem for problem in check_tree(tmp_path, RUNTIME_MAGIC)}
    assert problems == {
        'edited.py': 'compiled from another version of the source',
        'timestamp.py': 'timestamp-based (stale once the CDK zips it with 1980 dates)',
        'missing.py': 'no bytecode',
        'foreign.py': f'magic 00000d0a is not the runtime magic {RUNTIME_MAGIC.hex()}',
    }


def test_a_module_that_does_not_compile_fails_the_bundle_naming_it(tmp_path: Path) -> None:
    (tmp_path / 'broken.py').write_text('def (:\n')
    with pytest.raises(BytecodeError, match=r'broken\.py'):
        compile_tree(tmp_path, '/opt/python', what='the broken asset')


def test_without_python313_the_asset_ships_without_bytecode_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bytecode, 'lambda_python', lambda: None)
    code_layer = tmp_path / 'opt'
    core_layer_bundler().try_bundle(str(code_layer))
    assert (code_layer / 'python' / 'tastyguard' / 'ticks.py').is_file()
    assert not list(code_layer.rglob('*.pyc'))
    assert 'ships without bytecode' in capsys.readouterr().err
    assert bytecode.bytecode_tag() == 'no-bytecode'


def test_an_override_that_is_not_python313_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(c.LAMBDA_PYTHON_ENV_OVERRIDE, '/nonexistent/python3.13')
    bytecode.lambda_python.cache_clear()
    try:
        expected = 'TASTYGUARD_LAMBDA_PYTHON=/nonexistent/python3.13 is not a CPython 3.13'
        with pytest.raises(BytecodeError, match=re.escape(expected)):
            bytecode.lambda_python()
    finally:
        monkeypatch.delenv(c.LAMBDA_PYTHON_ENV_OVERRIDE)
        bytecode.lambda_python.cache_clear()


def test_the_dependency_layer_is_rebuilt_when_the_bytecode_compiler_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = deps_layer_hash()
    monkeypatch.setattr(packaging, 'bytecode_tag', lambda: 'no-bytecode')
    assert deps_layer_hash() != compiled
