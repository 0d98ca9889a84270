"""What a tastyware SDK user installs and runs: ``tastyguard paper serve``'s paper-API keys and the pytest plugin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
DOCS_EXAMPLE = Path(__file__).resolve().parents[2] / 'docs' / 'examples' / 'test_tastyware_plugin.py'
CLI = [sys.executable, '-c', 'from tastyguard.cli.app import main; main()']


def test_serve_prints_the_paper_api_urls_and_a_key_that_works() -> None:
    command = [*CLI, 'paper', 'serve', '--scenario', 'empty', '--tastyware-api-key', 'MY-API-KEY']
    command += ['--tastyware-rate-limit', '5', '--tastyware-restrictions']
    env = {**os.environ, 'PYTHONUNBUFFERED': '1'}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)  # noqa: S603
    try:
        assert process.stdout is not None
        ready = json.loads(process.stdout.readline())
        api = ready['api_url']
        assert ready['tastyware_paper_url'] == f'{api}/tastyware'
        assert ready['tastyware_paper_streamer_url'] == api.replace('http://', 'ws://') + '/tastyware/notifications'
        assert ready['tastyware_api_key'] == 'MY-API-KEY'
        headers = {'X-Api-Key': ready['tastyware_api_key'], 'User-Agent': 'tastyguard-tests/1.0'}
        created = httpx.post(f'{ready["tastyware_paper_url"]}/accounts', headers=headers, json={'account_name': 'cli'})
        assert (created.status_code, created.json()['data']['account-number']) == (201, 'TW000001')
        settings = httpx.get(f'{api}/_paper/tastyware/settings').json()
        assert (settings['rate-limit'], settings['restrictions']) == (5, True)
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert process.returncode == 0


# Recorded when pytest is configured: after the plugins loaded, before any test module is imported.
PLUGIN_USER_CONFTEST = """
import sys


def pytest_configure(config):
    config.heavy_modules_at_startup = sorted({'tastytrade', 'paperbroker.server'} & set(sys.modules))
"""

PLUGIN_USER_TESTS = """
import pytest


@pytest.fixture
def anyio_backend():
    return 'asyncio'


def test_the_plugin_is_loaded_but_imported_nothing_heavy(pytestconfig):
    assert pytestconfig.pluginmanager.has_plugin('paperbroker')
    assert pytestconfig.heavy_modules_at_startup == []


@pytest.mark.anyio
async def test_temporary_account_works_inside_the_fixture(tastyware_paper_session, tastyware_paper_broker):
    from tastytrade import Account
    from tastytrade.paper import PaperSession

    async with tastyware_paper_session.temporary_account() as account:
        assert [a.account_number for a in await Account.get(tastyware_paper_session)] == [account.account_number]
    assert await Account.get(tastyware_paper_session) == []
    assert await Account.get(PaperSession(None)) == []  # None: the SDK reads TW_API_KEY, set for the test


def test_the_sdk_urls_are_restored_after_the_test():
    import tastytrade.paper
    import tastytrade.streamer

    assert tastytrade.paper.PAPER_URL == 'https://tastyware.dev/api'
    assert tastytrade.streamer.PAPER_STREAMER_URL == 'wss://tastyware.dev/api/notifications'
"""


def test_the_pytest_plugin_works_in_a_foreign_test_suite(tmp_path: Path) -> None:
    """A suite outside this repository (no pytest_plugins, no fixtures of its own) gets them from the entry point.

    It runs the checks above, then the docs' own plugin example, ``docs/examples/test_tastyware_plugin.py``.
    """
    ini = tmp_path / 'pytest.ini'
    ini.write_text('[pytest]\n')
    (tmp_path / 'conftest.py').write_text(PLUGIN_USER_CONFTEST)
    (tmp_path / 'test_my_paper_code.py').write_text(PLUGIN_USER_TESTS)
    env = {**os.environ, 'PYTHONWARNINGS': 'ignore::DeprecationWarning'}
    for key in ('TW_API_KEY', 'TT_SECRET', 'TT_REFRESH'):
        env.pop(key, None)

    done = subprocess.run(  # noqa: S603
        [
            *(sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', f'--rootdir={tmp_path}', '-c', str(ini)),
            *(str(tmp_path / 'test_my_paper_code.py'), str(DOCS_EXAMPLE)),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert '4 passed' in done.stdout
