"""Docker-free asset bundling: the CDK calls these ``ILocalBundling`` objects instead of starting a container.

* :class:`PipPlatformBundler` builds the dependency layer by cross-installing wheels for Lambda
  (``pip install --platform manylinux2014_aarch64 --python-version 3.13 --only-binary=:all:``), so an
  x86_64 laptop or CI runner without Docker produces the ARM64 CPython 3.13 binaries Lambda needs.
* :class:`CopyBundler` copies a source tree (the code layer, the functions) and can add generated files
  (the validated config as JSON).

Both then compile hash-based bytecode for the Lambda runtime's Python into the bundle
(:mod:`infra.bytecode`), because Lambda's code folders are read-only and would otherwise be compiled again
at every cold start.

Both either bundle or raise: :func:`local_only` pairs them with a Docker image that does not exist and the
command ``false``, so a bundler that ever declines fails the synth loudly instead of quietly needing Docker.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling

from infra import constants as c
from infra.bytecode import compile_tree


class BundlingError(RuntimeError):
    """An asset could not be bundled locally; the message says what to fix."""


def local_only(bundler: ILocalBundling) -> BundlingOptions:
    """Bundling options that can only succeed locally (there is no usable Docker fallback on purpose)."""
    return BundlingOptions(
        image=DockerImage.from_registry(c.NO_DOCKER_IMAGE),
        command=list(c.NO_DOCKER_COMMAND),
        local=bundler,
    )


def tree_size(root: Path) -> int:
    """Total bytes of the regular files under ``root`` (what Lambda counts as unzipped size)."""
    return sum(path.stat().st_size for path in root.rglob('*') if path.is_file() and not path.is_symlink())


def pip_command() -> list[str]:
    """How to run pip: ``$TASTYGUARD_PIP``, else this interpreter's pip, else ``pip3``/``pip`` on the PATH.

    Any pip works: with ``--platform``/``--python-version`` it selects wheels for the target, not for itself
    (the uv-created project venv has no pip of its own, so the PATH fallback is the common case).
    """
    override = os.environ.get(c.PIP_ENV_OVERRIDE)
    if override:
        return shlex.split(override)
    if importlib.util.find_spec('pip') is not None:
        return [sys.executable, '-m', 'pip']
    for name in ('pip3', 'pip'):
        found = shutil.which(name)
        if found:
            return [found]
    raise BundlingError(
        f'no pip found to build the dependency layer: install pip, or set {c.PIP_ENV_OVERRIDE} '
        "(e.g. TASTYGUARD_PIP='python3.13 -m pip')"
    )


@jsii.implements(ILocalBundling)
class PipPlatformBundler:
    """Installs pinned requirements as Lambda ARM64 / CPython 3.13 wheels into ``<output>/python``.

    pip itself compiles nothing (``--no-compile``: it would write timestamp pycs for *its* interpreter); the
    bundle's bytecode comes from :func:`infra.bytecode.compile_tree` afterwards. ``platforms`` is the only
    thing a benchmark changes, to get the same layer for the machine it runs on.
    """

    def __init__(
        self,
        requirements: Path,
        *,
        platforms: Sequence[str] = c.LAYER_PLATFORMS,
        python_version: str = c.LAYER_PYTHON_VERSION,
        implementation: str = c.LAYER_IMPLEMENTATION,
        size_limit_bytes: int = c.LAMBDA_UNZIPPED_LIMIT_BYTES,
        bytecode_root: str | None = c.LAYER_ROOT,
    ) -> None:
        self.requirements = requirements
        self.platforms = tuple(platforms)
        self.python_version = python_version
        self.implementation = implementation
        self.size_limit_bytes = size_limit_bytes
        self.bytecode_root = bytecode_root

    def command(self, target: Path) -> list[str]:
        """The pip command line (``--no-deps``: the requirements file is the complete, locked set)."""
        platform_args = [arg for platform in self.platforms for arg in ('--platform', platform)]
        return [
            *pip_command(),
            'install',
            '--requirement',
            str(self.requirements),
            '--target',
            str(target),
            *platform_args,
            '--implementation',
            self.implementation,
            '--python-version',
            self.python_version,
            '--only-binary=:all:',
            '--no-deps',
            '--no-compile',
            '--disable-pip-version-check',
            '--no-input',
            '--quiet',
        ]

    def try_bundle(self, output_dir: str, *_options: Any, **_keyword_options: Any) -> bool:
        """Build the layer into ``output_dir``; raises :class:`BundlingError` with pip's output on failure."""
        target = Path(output_dir) / 'python'
        result = subprocess.run(self.command(target), capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            tail = '\n'.join((result.stdout + result.stderr).strip().splitlines()[-20:])
            raise BundlingError(f'pip could not build the dependency layer from {self.requirements}:\n{tail}')
        shutil.rmtree(target / 'bin', ignore_errors=True)  # console scripts are useless in a layer
        if self.bytecode_root is not None:
            compile_tree(Path(output_dir), self.bytecode_root, what='the dependency layer')
        size = tree_size(Path(output_dir))
        if size > self.size_limit_bytes:
            raise BundlingError(
                f'the dependency layer is {size / 2**20:.0f} MB unzipped, over the '
                f'{self.size_limit_bytes / 2**20:.0f} MB Lambda limit: keep heavy packages out of it'
            )
        return True


@jsii.implements(ILocalBundling)
class CopyBundler:
    """Copies ``source`` to ``<output>/<destination>`` without caches or excluded folders, plus extra files.

    With ``bytecode_root`` (where Lambda mounts the bundle: ``/opt`` for a layer, ``/var/task`` for the
    function code) the copy is then compiled to hash-based bytecode.
    """

    def __init__(
        self,
        source: Path,
        destination: str,
        *,
        exclude_dirs: Sequence[str] = (),
        patterns: Sequence[str] = c.BUNDLE_EXCLUDES,
        extra_files: Mapping[str, str] | None = None,
        bytecode_root: str | None = None,
    ) -> None:
        self.source = source
        self.destination = destination
        self.exclude_dirs = frozenset(source / name for name in exclude_dirs)
        self.patterns = tuple(patterns)
        self.extra_files = dict(extra_files or {})
        self.bytecode_root = bytecode_root

    def _ignore(self, directory: str, names: list[str]) -> set[str]:
        ignored = {name for name in names if any(fnmatch.fnmatch(name, pattern) for pattern in self.patterns)}
        ignored.update(name for name in names if Path(directory) / name in self.exclude_dirs)
        return ignored

    def try_bundle(self, output_dir: str, *_options: Any, **_keyword_options: Any) -> bool:
        """Copy the tree and write the extra files (paths relative to ``output_dir``)."""
        if not self.source.is_dir():
            raise BundlingError(f'cannot bundle {self.source}: no such folder')
        output = Path(output_dir)
        shutil.copytree(self.source, output / self.destination, ignore=self._ignore, dirs_exist_ok=True)
        for relative, text in self.extra_files.items():
            path = output / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding='utf-8')
        if self.bytecode_root is not None:
            compile_tree(output / self.destination, f'{self.bytecode_root}/{self.destination}', what=str(self.source))
        return True
