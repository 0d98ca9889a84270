"""The ``tastyguard`` command line, end to end against the paper broker and moto."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer
from typer.testing import CliRunner

from paperbroker.server import PaperBroker
from tastyguard.cli.app import app

pytestmark = pytest.mark.e2e

runner = CliRunner()


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine with no AWS configuration at all."""
    for key in (
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
        'AWS_SECURITY_TOKEN',
        'AWS_SESSION_TOKEN',
        'AWS_ENDPOINT_URL',
    ):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv('AWS_EC2_METADATA_DISABLED', 'true')


@pytest.fixture
def credentials(paper_broker: PaperBroker, monkeypatch: pytest.MonkeyPatch) -> PaperBroker:
    monkeypatch.setenv('TASTYTRADE_CLIENT_SECRET', paper_broker.client_secret)
    monkeypatch.setenv('TASTYTRADE_REFRESH_TOKEN', paper_broker.refresh_token)
    return paper_broker


@pytest.fixture
def moto_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A local AWS endpoint (moto's server on loopback), as ``AWS_ENDPOINT_URL`` users have."""
    server = ThreadedMotoServer(ip_address='127.0.0.1', port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    monkeypatch.setenv('AWS_ENDPOINT_URL', f'http://{host}:{port}')
    yield f'http://{host}:{port}'
    server.stop()


def test_demo_runs_the_whole_story(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_DEFAULT_REGION'):
        monkeypatch.setenv(key, 'restored-after-the-test')
    result = runner.invoke(app, ['demo'])
    assert result.exit_code == 0, result.output
    for expected in ('1/7 · plan', '3/7 · live mode', '0 order writes on the second run', 'filled at', 'Daily digest'):
        assert expected in result.output


def test_run_json_with_embedded_aws_prints_the_documented_object(credentials: PaperBroker, no_aws: None) -> None:
    result = runner.invoke(
        app,
        ['run', 'ensure-stops', '--mode', 'live', '--api-url', credentials.api_url, '--account', '5WT00001', '--json'],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert {'mode', 'account', 'positions', 'protected', 'unprotected', 'actions', 'errors'} <= payload.keys()
    assert payload['mode'] == 'live'
    assert payload['account'] == '5WT00001'
    assert payload['errors'] == []
    placed = [a for a in payload['actions'] if a['kind'] == 'place']
    assert placed and all({'symbol', 'quantity', 'stop_trigger', 'reason', 'result'} <= a.keys() for a in placed)
    assert {a['result'] for a in placed} == {'placed'}
    assert 'embedded in-process AWS' in result.stderr


def test_plan_sends_nothing(credentials: PaperBroker, no_aws: None) -> None:
    credentials.admin.clear_requests()
    result = runner.invoke(app, ['plan', '--api-url', credentials.api_url])
    assert result.exit_code == 0, result.output
    assert 'AAPL' in result.stdout
    writes = [r for r in credentials.admin.requests() if r['method'] != 'GET' and r['path'] != '/oauth/token']
    assert writes == []


def test_store_init_then_run_and_history_against_a_local_endpoint(credentials: PaperBroker, moto_endpoint: str) -> None:
    init = runner.invoke(app, ['store', 'init'])
    assert init.exit_code == 0, init.output
    assert 'tastyguard-state: created' in init.stdout
    again = runner.invoke(app, ['store', 'init'])
    assert 'tastyguard-state: already there' in again.stdout
    run = runner.invoke(app, ['run', 'sync-positions', '--api-url', credentials.api_url, '--account', '5WT00001'])
    assert run.exit_code == 0, run.output
    history = runner.invoke(app, ['history', '--account', '5WT00001'])
    assert history.exit_code == 0, history.output
    assert 'sync_positions' in history.stdout


def test_the_kill_switch_round_trips(moto_endpoint: str) -> None:
    assert 'ENGAGED' in runner.invoke(app, ['kill-switch', 'on', '--reason', 'broker outage']).stdout
    assert runner.invoke(app, ['kill-switch', 'status']).stdout.startswith('ENGAGED')
    runner.invoke(app, ['kill-switch', 'off'])
    assert runner.invoke(app, ['kill-switch', 'status']).stdout.startswith('off')


def test_missing_credentials_are_explained(
    paper_broker: PaperBroker, no_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv('TASTYTRADE_CLIENT_SECRET', raising=False)
    monkeypatch.delenv('TASTYTRADE_REFRESH_TOKEN', raising=False)
    result = runner.invoke(app, ['run', 'ensure-stops', '--api-url', paper_broker.api_url])
    assert result.exit_code == 1
    assert 'TASTYTRADE_CLIENT_SECRET' in result.stderr


def test_an_unknown_job_is_refused(credentials: PaperBroker) -> None:
    result = runner.invoke(app, ['run', 'place-everything'])
    assert result.exit_code == 2
    assert 'ensure-stops' in result.output


def test_a_wrong_account_is_named(credentials: PaperBroker, no_aws: None) -> None:
    result = runner.invoke(app, ['run', 'ensure-stops', '--api-url', credentials.api_url, '--account', '5WT99999'])
    assert result.exit_code == 1
    assert '5WT99999' in result.stderr


def test_the_breaker_can_be_read_and_reset(moto_endpoint: str) -> None:
    runner.invoke(app, ['store', 'init'])
    assert runner.invoke(app, ['breaker', 'status', '--account', '5WT00001']).stdout.startswith('closed')
    from tastyguard.store.control import CircuitBreaker
    from tastyguard.store.table import StateTable

    CircuitBreaker(StateTable(), max_writes=1, window_seconds=60).trip('5WT00001', 'test burst')
    assert runner.invoke(app, ['breaker', 'status', '--account', '5WT00001']).stdout.startswith('TRIPPED')
    runner.invoke(app, ['breaker', 'reset', '--account', '5WT00001'])
    assert runner.invoke(app, ['breaker', 'status', '--account', '5WT00001']).stdout.startswith('closed')
