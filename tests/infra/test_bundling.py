"""Docker-free bundling: what goes into each asset (fast, local copies) and one real cross-platform pip run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra import constants as c
from infra.bundling import BundlingError, CopyBundler, PipPlatformBundler, local_only, pip_command, tree_size
from infra.bytecode import check_tree
from infra.constructs.packaging import core_layer_bundler, functions_bundler
from tests.infra.bytecode_support import RUNTIME_MAGIC, needs_lambda_python

pytestmark = pytest.mark.infra

MB = 1024 * 1024


def code_layer(output: Path) -> Path:
    core_layer_bundler().try_bundle(str(output))
    return output / 'python' / 'tastyguard'


@needs_lambda_python
def test_the_code_layer_is_the_package_without_its_cli_with_fresh_bytecode(tmp_path: Path) -> None:
    package = code_layer(tmp_path)
    assert (package / '__init__.py').is_file()
    assert (package / 'store' / 'schema.py').is_file()
    assert not (package / 'cli').exists()
    assert check_tree(tmp_path, RUNTIME_MAGIC) == []
    assert not list(tmp_path.rglob('*.pyo'))


@needs_lambda_python
def test_the_functions_asset_carries_the_handlers_and_the_validated_config(tmp_path: Path) -> None:
    # Given the functions bundler with a config JSON
    config = {'environment': 'paper', 'accounts': [{'account_number': '5WX01234'}]}
    bundler = functions_bundler(json.dumps(config))
    # When it bundles
    assert bundler.try_bundle(str(tmp_path)) is True
    # Then handlers keep their import path and the config sits where TASTYGUARD_CONFIG_FILE points
    assert (tmp_path / 'functions' / 'notify_slack' / 'handler.py').is_file()
    bundled = tmp_path / c.CONFIG_FILE_IN_FUNCTION.removeprefix(f'{c.LAMBDA_TASK_ROOT}/')
    assert json.loads(bundled.read_text()) == config
    # And every handler module has its bytecode
    assert check_tree(tmp_path, RUNTIME_MAGIC) == []


def test_a_missing_source_fails_loudly(tmp_path: Path) -> None:
    with pytest.raises(BundlingError, match='no such folder'):
        CopyBundler(tmp_path / 'nope', 'x').try_bundle(str(tmp_path / 'out'))


def test_the_dependency_layer_is_cross_installed_for_lambda(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(c.PIP_ENV_OVERRIDE, 'python3.13 -m pip')
    command = PipPlatformBundler(Path('req.txt')).command(tmp_path / 'python')
    assert command[:4] == ['python3.13', '-m', 'pip', 'install']
    joined = ' '.join(command)
    for flag in (
        '--platform manylinux2014_aarch64',
        '--implementation cp',
        '--python-version 3.13',
        '--only-binary=:all:',
        '--no-deps',
        '--no-compile',
        f'--target {tmp_path / "python"}',
    ):
        assert flag in joined


def test_pip_is_found_without_the_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(c.PIP_ENV_OVERRIDE, raising=False)
    assert 'pip' in ' '.join(pip_command())


def test_a_bundler_that_declines_falls_back_to_a_docker_image_that_cannot_run() -> None:
    options = local_only(CopyBundler(c.FUNCTIONS_DIR, 'functions'))
    assert options.image.image == 'tastyguard/local-bundling-only'
    assert list(options.command or []) == ['false']


@pytest.mark.slow
@needs_lambda_python
def test_the_real_dependency_layer_is_arm64_cpython313_and_small(tmp_path: Path) -> None:
    # Given the pinned requirements, When pip cross-installs them (needs PyPI)
    layer = tmp_path / 'deps'
    assert PipPlatformBundler(c.DEPS_LAYER_DIR / c.DEPS_REQUIREMENTS).try_bundle(str(layer)) is True
    site = layer / 'python'
    # Then compiled wheels are for Lambda's ARM64 CPython 3.13, not for this machine
    (core,) = (site / 'pydantic_core').glob('_pydantic_core.*.so')
    assert core.name == f'_pydantic_core.{c.LAYER_SO_TAG}.so'
    assert all(c.LAYER_SO_TAG in so.name for so in site.rglob('*.so'))
    # And everything the Lambdas import is there, and nothing the runtime already provides
    for package in ('pydantic', 'httpx', 'aws_lambda_powertools', 'aws_xray_sdk', 'jmespath'):
        assert (site / package).is_dir(), package
    assert not (site / 'boto3').exists()
    assert not (site / 'botocore').exists()
    # And every module carries hash-based bytecode for the runtime's magic number (the test venv is 3.13)
    assert check_tree(layer, RUNTIME_MAGIC) == []
    # And the layers plus the code stay far below Lambda's 250 MB unzipped limit
    code = tmp_path / 'core'
    assert not (code_layer(code) / 'cli').exists()
    total = tree_size(layer) + tree_size(code)
    assert total < 50 * MB, f'{total / MB:.1f} MB'
