"""The examples of ``docs/paper-broker.md`` ("Use it from your own tastytrade code"), run as the files they are.

Each example runs in its own process against the paper broker, configured only through the environment
variables the docs tell users to export from ``tastyguard paper serve``'s JSON line; the assertions check what it
printed and what the broker holds afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from paperbroker.server import PaperBroker

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / 'docs' / 'examples'
JS = ROOT / 'tests' / 'js'


def run_example(broker: PaperBroker, *command: str) -> str:
    env = {
        **os.environ,
        'TASTYWARE_PAPER_URL': broker.tastyware_paper_url,
        'TASTYWARE_PAPER_STREAMER_URL': broker.tastyware_paper_streamer_url,
        'TW_API_KEY': broker.tastyware_api_key,
        'TASTYTRADE_API_URL': broker.api_url,
        'TASTYTRADE_STREAMER_URL': broker.account_streamer_url,
        'TT_SECRET': broker.client_secret,
        'TT_REFRESH': broker.refresh_token,
        'PYTHONWARNINGS': 'ignore::DeprecationWarning',
    }
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=90, check=False)  # noqa: S603
    assert done.returncode == 0, f'{command[-1]} failed:\n{done.stdout}\n{done.stderr}'
    return done.stdout


def paper_accounts(broker: PaperBroker) -> list[str]:
    numbers = [a['account']['account-number'] for a in broker.admin.state()['accounts']]
    return [n for n in numbers if n.startswith('TW')]


def test_the_tastyware_paper_session_example(paper_broker: PaperBroker) -> None:
    out = run_example(paper_broker, sys.executable, str(EXAMPLES / 'tastyware_paper_session.py'))

    assert 'TW000001: cash 102500' in out
    assert out.index(': Live') < out.index(': Filled')
    assert 'AAPL 5 @ 190.24' in out
    assert paper_accounts(paper_broker) == []  # the temporary account was deleted


def test_the_tastyware_plain_session_example(paper_broker: PaperBroker) -> None:
    out = run_example(paper_broker, sys.executable, str(EXAMPLES / 'tastyware_plain_session.py'))

    assert '5WT00001: 11 positions' in out
    assert 'AAPL bid 190.2 ask 190.24' in out
    newest = paper_broker.admin.orders('5WT00001')[0]
    assert f'stop {newest["id"]}: Cancelled' in out
    assert (newest['order-type'], newest['stop-trigger'], newest['status']) == ('Stop', '170.0', 'Cancelled')


def test_the_raw_http_example(paper_broker: PaperBroker) -> None:
    out = run_example(paper_broker, sys.executable, str(EXAMPLES / 'raw_http.py'))

    assert out.splitlines() == [
        'TW000001: cash 9500.0',
        '/accounts/TW000001/orders/100007: Live',
        '/accounts/TW000001/orders/100007: Filled',
        'a wrong key: 401 invalid_api_key',
        'deleted TW000001: 1 orders, 3 transactions',
    ]
    assert paper_accounts(paper_broker) == []


def test_the_official_js_sdk_example(paper_broker: PaperBroker) -> None:
    node = shutil.which('node')
    assert node, 'Node.js 20+ is needed for the JS example'
    assert (JS / 'node_modules' / '@tastytrade' / 'api').is_dir(), (
        'tests/js has no node_modules: run `make tests/js/node_modules/.package-lock.json` (npm ci in tests/js)'
    )

    out = run_example(
        paper_broker, node, '--import', './tests/js/register-resolver.mjs', str(EXAMPLES / 'official_js_sdk.mjs')
    )

    assert '5WT00001: 11 positions' in out
    assert 'Filled at 61.52' in out
    ko = next(p for p in paper_broker.admin.positions('5WT00001') if p['symbol'] == 'KO')
    assert ko['quantity'] == '301'
