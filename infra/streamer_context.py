"""The streamer image's Docker build context, staged at synth time with exactly what the image needs.

The CDK hands a folder to ``docker build`` at deploy time (``ContainerImage.from_asset``); that folder is
built here, so nothing outside it (the CLI, tests, a local ``tastyguard.yaml``, ``.env`` files) can reach
the image, and the config travels inside it like it does for the Lambdas::

    Dockerfile  .dockerignore  requirements.txt     streamer/Dockerfile, .dockerignore, requirements.txt
    streamer/*.py                                  the entry point and the health check
    tastyguard/                                    layers/core/tastyguard without tastyguard/cli, no caches
    tastyguard.json                                the validated config (the image puts it where the Lambdas have it)

Synthesizing needs no Docker: the CDK only copies and hashes this folder (the hash changes exactly when the
image's inputs change). To build the image by hand, stage a context and build it::

    python -m infra.streamer_context -c config=tastyguard.yaml /tmp/streamer-context
    docker build --platform linux/arm64 /tmp/streamer-context
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from infra import constants as c
from infra.bundling import CopyBundler

CONTEXT_FILES = (c.STREAMER_DOCKERFILE, c.STREAMER_DOCKERIGNORE, c.STREAMER_REQUIREMENTS)


class ContextError(RuntimeError):
    """The build context cannot be staged; the message says what is missing and how to make it."""


def stage(destination: Path, *, config_json: str, root: Path = c.PROJECT_ROOT) -> Path:
    """Write the build context into ``destination`` (created; must be empty or absent) and return it."""
    source = root / c.STREAMER_DIR_NAME
    missing = [name for name in CONTEXT_FILES if not (source / name).is_file()]
    if missing:
        hint = ' (make streamer-requirements exports it from uv.lock)' if c.STREAMER_REQUIREMENTS in missing else ''
        raise ContextError(f'cannot stage the streamer image: {", ".join(missing)} missing in {source}{hint}')
    destination.mkdir(parents=True, exist_ok=True)
    if any(destination.iterdir()):
        raise ContextError(f'{destination} is not empty: stage the streamer image into a new folder')
    for name in CONTEXT_FILES:
        shutil.copy2(source / name, destination / name)
    package = destination / c.STREAMER_DIR_NAME
    package.mkdir()
    for module in sorted(source.glob('*.py')):
        shutil.copy2(module, package / module.name)
    core = root / c.CORE_PACKAGE_DIR.relative_to(c.PROJECT_ROOT)
    CopyBundler(core, c.CORE_PACKAGE_NAME, exclude_dirs=c.CORE_LAYER_EXCLUDED_PACKAGES).try_bundle(str(destination))
    (destination / c.CONFIG_JSON_NAME).write_text(config_json, encoding='utf-8')
    return destination


def main(argv: list[str] | None = None) -> int:
    """``python -m infra.streamer_context [-c config=FILE] DESTINATION``: stage a context to build by hand."""
    parser = argparse.ArgumentParser(prog='python -m infra.streamer_context', description=__doc__.splitlines()[0])
    parser.add_argument('destination', type=Path, help='a new, empty folder')
    parser.add_argument(
        '-c', '--context', action='append', default=[], metavar='config=FILE', help='the config, as for cdk synth'
    )
    args = parser.parse_args(argv)
    context = dict(item.split('=', 1) for item in args.context if '=' in item)
    from infra.settings import load_settings  # noqa: PLC0415 - the CDK only when run as a command
    from tastyguard.config import ConfigError  # noqa: PLC0415

    try:
        settings = load_settings(context.get)
        stage(args.destination, config_json=settings.config_json)
    except (ConfigError, ContextError) as error:
        sys.stderr.write(f'tastyguard: {error}\n')
        return 1
    sys.stdout.write(f'{args.destination}\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
