"""``tastyguard stream`` end to end: one JSON line when both sockets are up, fills protected, exit 0 on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

from paperbroker.server import PaperBroker
from tests.integration.jobs.conftest import make_client
from tests.integration.person import Person

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.paper_scenario('empty')]
A = '5WT00001'
CLI = [sys.executable, '-c', 'from tastyguard.cli.app import main; main()']


def _ours(broker: PaperBroker, symbol: str) -> list[dict[str, Any]]:
    return [
        o for o in broker.admin.working_orders(A)
        if o['legs'][0]['symbol'] == symbol and str(o.get('external-identifier') or '').startswith('tg-')
    ]  # fmt: skip


def test_stream_prints_one_line_protects_a_fill_and_stops_cleanly(paper_broker: PaperBroker, tmp_path: Any) -> None:
    paper_broker.admin.add_position(A, 'AAPL', 10, '150.00', bid='150.00', ask='150.05', last='150.00')
    paper_broker.admin.set_quote('NVDA', bid='120.00', ask='120.05', last='120.00')
    env = {
        **os.environ,
        'TASTYTRADE_CLIENT_SECRET': paper_broker.client_secret,
        'TASTYTRADE_REFRESH_TOKEN': paper_broker.refresh_token,
    }
    env.pop('TASTYGUARD_STORE', None)
    process = subprocess.Popen(  # noqa: S603 - our own CLI
        [*CLI, 'stream', '--api-url', paper_broker.api_url, '--mode', 'live', '--account', A],
        stdout=subprocess.PIPE,
        stderr=(tmp_path / 'stream.err').open('w'),
        text=True,
        env=env,
        cwd=tmp_path,
    )
    person = Person(paper_broker, make_client(paper_broker), A)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert json.loads(line) == {'status': 'streaming', 'accounts': [A], 'symbols': 1}
        # When the person buys NVDA, the streamer protects it without any scheduled run
        person.trade('NVDA', 50, 'Buy to Open')
        deadline = time.monotonic() + 20
        while not _ours(paper_broker, 'NVDA') and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _ours(paper_broker, 'NVDA'), (tmp_path / 'stream.err').read_text()[-2000:]
    finally:
        person.close()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    assert code == 0
    assert process.stdout.read() == ''  # exactly one line on stdout
    assert paper_broker.client_secret not in (tmp_path / 'stream.err').read_text()
