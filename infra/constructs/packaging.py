"""The Lambda code: a dependency layer, a code layer (the ``tastyguard`` package) and the functions asset.

All three are bundled locally without Docker (:mod:`infra.bundling`) and carry hash-based bytecode for the
runtime's Python (:mod:`infra.bytecode`). The bundler factories below are what the stack uses, and what
``bench/`` uses to measure the assets exactly as synth builds them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from aws_cdk import AssetHashType
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import constants as c
from infra.bundling import CopyBundler, PipPlatformBundler, local_only
from infra.bytecode import bytecode_tag

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64


def deps_layer_hash() -> str:
    """The dependency layer's identity: the pinned requirements, the target platform and the bytecode.

    A custom hash lets the CDK reuse an already-built layer in ``cdk.out`` (no pip run on every synth)
    while any change of a pin, of the target or of the bytecode compiler (e.g. a layer first built on a
    machine without python3.13) rebuilds and redeploys it.
    """
    digest = hashlib.sha256((c.DEPS_LAYER_DIR / c.DEPS_REQUIREMENTS).read_bytes())
    digest.update(repr((c.LAYER_PLATFORMS, c.LAYER_PYTHON_VERSION, c.LAYER_IMPLEMENTATION)).encode())
    digest.update(bytecode_tag().encode())
    return digest.hexdigest()


def code_identity(
    roots: tuple[Path, ...] = (c.CORE_PACKAGE_DIR, c.FUNCTIONS_DIR),
    excluded: tuple[Path, ...] = tuple(c.CORE_PACKAGE_DIR / name for name in c.CORE_LAYER_EXCLUDED_PACKAGES),
) -> str:
    """A digest of the Python sources the functions run (tastyguard as the code layer ships it, and functions/).

    The functions get it as ``TASTYGUARD_BUILD``: a run that verified an account under other code proves nothing
    about this code, so a deploy that changes the code makes every account due again (decision 60).
    """
    digest = hashlib.sha256()
    for root in roots:
        for path in sorted(root.rglob('*.py')):
            if any(path.is_relative_to(folder) for folder in excluded):
                continue
            digest.update(f'{root.name}/{path.relative_to(root).as_posix()}\n'.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def deps_layer_bundler(platforms: tuple[str, ...] = c.LAYER_PLATFORMS) -> PipPlatformBundler:
    """The dependency layer: the locked requirements as wheels for ``platforms`` (Lambda's by default)."""
    return PipPlatformBundler(c.DEPS_LAYER_DIR / c.DEPS_REQUIREMENTS, platforms=platforms)


def core_layer_bundler() -> CopyBundler:
    """The code layer: ``tastyguard`` without its CLI, at ``/opt/python/tastyguard``."""
    return CopyBundler(
        c.CORE_PACKAGE_DIR,
        'python/tastyguard',
        exclude_dirs=c.CORE_LAYER_EXCLUDED_PACKAGES,
        bytecode_root=c.LAYER_ROOT,
    )


def functions_bundler(config_json: str) -> CopyBundler:
    """The functions asset: ``functions/`` plus the validated config, at ``/var/task/functions``."""
    return CopyBundler(
        c.FUNCTIONS_DIR,
        'functions',
        extra_files={f'functions/{c.CONFIG_JSON_NAME}': config_json},
        bytecode_root=c.LAMBDA_TASK_ROOT,
    )


class LambdaPackaging(Construct):
    """What every tastyguard function runs: ``functions/`` on top of the two layers."""

    def __init__(self, scope: Construct, construct_id: str, *, config_json: str) -> None:
        super().__init__(scope, construct_id)
        self.deps_layer = lambda_.LayerVersion(
            self,
            'DepsLayer',
            description='tastyguard runtime dependencies (pydantic, httpx, Powertools) for python3.13 arm64',
            code=lambda_.Code.from_asset(
                str(c.DEPS_LAYER_DIR),
                bundling=local_only(deps_layer_bundler()),
                asset_hash_type=AssetHashType.CUSTOM,
                asset_hash=deps_layer_hash(),
            ),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
        )
        # OUTPUT hashes: the bundle is a cheap copy, and hashing what is shipped is what catches every change.
        self.core_layer = lambda_.LayerVersion(
            self,
            'CoreLayer',
            description='the tastyguard package (without its CLI)',
            code=lambda_.Code.from_asset(
                str(c.CORE_PACKAGE_DIR),
                bundling=local_only(core_layer_bundler()),
                asset_hash_type=AssetHashType.OUTPUT,
            ),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
        )
        # The validated config travels inside the functions asset, so a config change redeploys the code.
        self.code = lambda_.Code.from_asset(
            str(c.FUNCTIONS_DIR),
            bundling=local_only(functions_bundler(config_json)),
            asset_hash_type=AssetHashType.OUTPUT,
        )
        self.layers: list[lambda_.ILayerVersion] = [self.deps_layer, self.core_layer]
        self.build = code_identity()
