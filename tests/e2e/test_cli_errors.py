"""Errors that explain: every way the first hour goes wrong gives one message that says what to set or run,
never a traceback, and a non-zero exit status."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from paperbroker.server import PaperBroker
from tastyguard.cli import exit_codes

from .conftest import MotoEndpoint, invoke

pytestmark = pytest.mark.e2e


def _no_traceback(output: str) -> None:
    assert 'Traceback' not in output and '──────' not in output, output


def test_an_api_url_without_a_scheme_says_how_to_write_it(paper: PaperBroker) -> None:
    bare = paper.api_url.removeprefix('http://')
    result = invoke('plan', '--api-url', bare)
    assert result.exit_code == exit_codes.USAGE
    assert f'http://{bare}' in result.stderr
    _no_traceback(result.output)


def test_an_api_url_with_a_path_is_refused_before_anything_is_called(paper: PaperBroker) -> None:
    result = invoke('plan', '--api-url', f'{paper.api_url}/v1')
    assert result.exit_code == exit_codes.USAGE
    assert 'no path such as' in result.stderr or 'has a path' in result.stderr


def test_a_404_from_the_token_endpoint_is_a_configuration_error_naming_the_url(
    paper: PaperBroker, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # $TASTYGUARD_API_URL skips the option's check, so the broker is really asked (with a wrong base URL)
    paper.admin.fault('status', method='POST', path='^/oauth/token$', count=-1, status=404)
    monkeypatch.setenv('TASTYGUARD_API_URL', paper.api_url)
    result = invoke('plan')
    assert result.exit_code == exit_codes.ERROR
    assert f'POST {paper.api_url}/oauth/token answered HTTP 404' in result.stderr
    assert 'retries' not in result.stderr
    _no_traceback(result.output)


def test_a_busy_port_is_one_message(paper: PaperBroker) -> None:
    with socket.socket() as busy:
        busy.bind(('127.0.0.1', 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = invoke('paper', 'serve', '--port', str(port))
    assert result.exit_code == exit_codes.ERROR
    assert f'127.0.0.1:{port}' in result.stderr and 'already in use' in result.stderr and '--port 0' in result.stderr
    _no_traceback(result.output)


def test_wrong_credentials_against_a_paper_broker_get_paper_advice(
    paper: PaperBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv('TASTYTRADE_REFRESH_TOKEN', 'not-the-one-it-printed')
    result = invoke('plan', '--api-url', paper.api_url)
    assert result.exit_code == exit_codes.ERROR
    assert 'paper serve' in result.stderr and 'my.tastytrade.com' not in result.stderr
    assert 'store it in' not in result.stderr
    _no_traceback(result.output)


def test_missing_credentials_say_what_to_set(paper: PaperBroker, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv('TASTYTRADE_CLIENT_SECRET')
    monkeypatch.delenv('TASTYTRADE_REFRESH_TOKEN')
    result = invoke('run', 'ensure-stops', '--api-url', paper.api_url)
    assert result.exit_code == exit_codes.ERROR
    assert 'TASTYTRADE_CLIENT_SECRET' in result.stderr


def test_an_unreachable_broker_is_one_message(paper: PaperBroker) -> None:
    with socket.socket() as closed:
        closed.bind(('127.0.0.1', 0))
        port = closed.getsockname()[1]
    result = invoke('plan', '--api-url', f'http://127.0.0.1:{port}')
    assert result.exit_code == exit_codes.ERROR
    assert 'paper serve' in result.stderr
    _no_traceback(result.output)


def test_an_unreachable_aws_endpoint_is_one_message(paper: PaperBroker) -> None:
    with socket.socket() as closed:
        closed.bind(('127.0.0.1', 0))
        port = closed.getsockname()[1]
    result = invoke('status', '--api-url', paper.api_url, '--store', f'http://127.0.0.1:{port}')
    assert result.exit_code == exit_codes.ERROR
    assert f'cannot reach the AWS endpoint http://127.0.0.1:{port}' in result.stderr and 'moto_server' in result.stderr
    _no_traceback(result.output)


def test_status_before_store_init_says_to_run_it(paper: PaperBroker, moto_endpoint: MotoEndpoint) -> None:
    result = invoke('status', '--api-url', paper.api_url, '--store', moto_endpoint.url)
    assert result.exit_code == exit_codes.ERROR
    assert f'./tastyguard store init --store {moto_endpoint.url}' in result.stderr
    _no_traceback(result.output)


def test_a_local_endpoint_needs_no_region_and_no_credentials(
    moto_endpoint: MotoEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ('AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN',
                'AWS_SECURITY_TOKEN'):  # fmt: skip
        monkeypatch.delenv(key, raising=False)
    result = invoke('store', 'init', '--store', moto_endpoint.url)
    assert result.exit_code == exit_codes.OK, result.output
    assert 'tastyguard-state: created' in result.stdout


def test_the_stack_without_a_region_says_what_to_set(monkeypatch: pytest.MonkeyPatch, workdir: Path) -> None:
    monkeypatch.delenv('AWS_DEFAULT_REGION')
    monkeypatch.delenv('AWS_REGION')
    result = invoke('kill-switch', 'status', '--store', 'tastyguard')
    assert result.exit_code == exit_codes.ERROR
    assert 'AWS_REGION' in result.stderr
    _no_traceback(result.output)


def test_the_stack_without_credentials_says_what_to_set(monkeypatch: pytest.MonkeyPatch, workdir: Path) -> None:
    for key in ('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN'):
        monkeypatch.delenv(key)
    monkeypatch.setenv('AWS_EC2_METADATA_DISABLED', 'true')
    result = invoke('kill-switch', 'status', '--store', 'tastyguard')
    assert result.exit_code == exit_codes.ERROR
    assert 'AWS_PROFILE' in result.stderr


def test_a_stack_that_is_not_deployed_there_says_so(stack: MotoEndpoint, workdir: Path) -> None:
    stack.client('dynamodb').delete_table(TableName='tastyguard-state')
    result = invoke('history', '-a', '5WT00001', '--store', 'tastyguard')
    assert result.exit_code == exit_codes.ERROR
    assert 'not deployed there' in result.stderr and '123456789012' in result.stderr


def test_ops_commands_need_a_named_store(workdir: Path) -> None:
    result = invoke('kill-switch', 'on', '--reason', 'test')
    assert result.exit_code == exit_codes.USAGE
    assert '--store tastyguard' in result.stderr


@pytest.mark.parametrize('name', ['prod', 'embeded', 'localhost:5000'])
def test_an_unknown_store_is_a_usage_error(name: str, workdir: Path) -> None:
    result = invoke('kill-switch', 'status', '--store', name)
    assert result.exit_code == exit_codes.USAGE
    assert "'tastyguard'" in result.stderr


def test_a_mistyped_environment_is_an_error_not_a_reset(stack: MotoEndpoint) -> None:
    result = invoke('token', 'reset', '-e', 'prod', '--store', 'tastyguard')
    assert result.exit_code == exit_codes.USAGE
    assert 'production' in result.output


@pytest.mark.parametrize('command', [['breaker', 'status'], ['breaker', 'reset'], ['history']])
def test_an_unknown_account_is_an_error(command: list[str], stack: MotoEndpoint, workdir: Path) -> None:
    result = invoke(*command, '-a', 'NOPE', '--store', 'tastyguard')
    assert result.exit_code == exit_codes.USAGE
    assert "unknown account 'NOPE'" in result.stderr and '5WT00001' in result.stderr


def test_config_show_refuses_an_unknown_account(workdir: Path) -> None:
    result = invoke('config', 'show', '--account', 'NOPE')
    assert result.exit_code == exit_codes.USAGE
    assert "unknown account 'NOPE'" in result.stderr


def test_a_configured_account_the_broker_does_not_know_is_one_clear_error(paper: PaperBroker, workdir: Path) -> None:
    (workdir / 'tastyguard.yaml').write_text(
        'environment: paper\naccounts:\n  - account_number: 5WT00001\n  - account_number: 5WX99999\n'
    )
    result = invoke('run', 'ensure-stops', '--api-url', paper.api_url)
    assert result.exit_code == exit_codes.ERROR
    assert '5WX99999' in result.stderr and 'enabled: false' in result.stderr
    assert 'ensure stops' not in result.stdout  # nothing ran


def test_an_invalid_configuration_points_at_config_check(paper: PaperBroker, workdir: Path) -> None:
    (workdir / 'tastyguard.yaml').write_text('environment: paper\nmode: liev\naccounts: []\n')
    result = invoke('plan', '--api-url', paper.api_url)
    assert result.exit_code == exit_codes.ERROR
    assert 'config check' in result.stderr and 'liev' in result.stderr
