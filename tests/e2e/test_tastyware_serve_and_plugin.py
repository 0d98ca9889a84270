"""What a tastyware SDK user installs and runs: ``tastyguard paper serve``'s paper-API keys and the pytest plugin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
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


PLUGIN_USER_TESTS = """
import sys

import pytest


@pytest.fixture
def anyio_backend():
    return 'asyncio'


def test_the_plugin_is_loaded_but_imports_nothing_heavy_until_used(pytestconfig):
    assert pytestconfig.pluginmanager.has_plugin('paperbroker')
    assert 'tastytrade' not in sys.modules
    assert 'paperbroker.server' not in sys.modules


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
    """A suite outside this repository (no conftest, no pytest_plugins) gets the fixtures from the entry point."""
    (tmp_path / 'pytest.ini').write_text('[pytest]\n')
    (tmp_path / 'test_my_paper_code.py').write_text(textwrap.dedent(PLUGIN_USER_TESTS))
    env = {**os.environ, 'PYTHONWARNINGS': 'ignore::DeprecationWarning'}
    for key in ('TW_API_KEY', 'TT_SECRET', 'TT_REFRESH'):
        env.pop(key, None)

    done = subprocess.run(  # noqa: S603
        [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert '3 passed' in done.stdout
