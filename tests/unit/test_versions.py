"""One truth about the versions a user needs, and the jsii switch that keeps its Node banner out of the output."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / 'README.md', *sorted((ROOT / 'docs').glob('*.md'))]
JSII_SWITCH = 'JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION'


def _python() -> str:
    match = re.search(r'^PYTHON_VERSION := (3\.\d+)$', (ROOT / 'Makefile').read_text(), re.M)
    assert match, 'the Makefile names the project Python'
    return match.group(1)


def _node_major() -> str:
    engines = json.loads((ROOT / 'package.json').read_text())['engines']['node']
    match = re.fullmatch(r'>=\s*(\d+)', engines)
    assert match, engines
    return match.group(1)


def test_the_readme_names_the_python_and_node_versions_of_the_project_files() -> None:
    readme = (ROOT / 'README.md').read_text()
    assert f'Python {_python()}' in readme
    assert f'Node {_node_major()} or newer' in readme


@pytest.mark.parametrize('doc', DOCS, ids=lambda path: path.name)
def test_no_document_states_another_python_or_node_requirement(doc: Path) -> None:
    text = doc.read_text()
    for python in re.findall(r'Python (3\.\d+)\b', text):
        assert python == _python(), f'{doc.name} says Python {python}'
    for node in re.findall(r'Node (\d+)(?:\+| or newer)', text):
        assert node == _node_major(), f'{doc.name} says Node {node}'


def test_the_lambda_runtime_is_the_project_python() -> None:
    packaging = (ROOT / 'infra' / 'constructs' / 'packaging.py').read_text()
    assert f'Runtime.PYTHON_{_python().replace(".", "_")}' in packaging


def test_the_jsii_switch_the_makefile_and_tests_use_exists_in_the_installed_jsii() -> None:
    spec = importlib.util.find_spec('jsii')
    if spec is None or spec.origin is None:
        pytest.skip('jsii (the infra group) is not installed')
    runtime = Path(spec.origin).parent / '_embedded' / 'jsii' / 'bin__jsii-runtime.js'
    # jsii builds the name as `${prefix}_SILENCE_WARNING_...` with prefix "JSII"
    assert '_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION' in runtime.read_text()
    assert '"JSII"' in runtime.read_text() or "'JSII'" in runtime.read_text()
    assert JSII_SWITCH in (ROOT / 'Makefile').read_text()
    assert JSII_SWITCH in (ROOT / 'tests' / 'conftest.py').read_text()
