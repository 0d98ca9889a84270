"""``run`` and ``plan``: one JSON shape, unknown as null, documented exit codes, an explicit store, and a plan
that writes nothing anywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paperbroker.server import PaperBroker
from tastyguard.cli import exit_codes

from .conftest import MotoEndpoint, invoke

pytestmark = pytest.mark.e2e


def _json(stdout: str) -> dict:  # type: ignore[type-arg]
    return json.loads(stdout)


def test_run_json_has_one_shape_for_one_account(paper: PaperBroker) -> None:
    result = invoke('run', 'ensure-stops', '--mode', 'live', '--api-url', paper.api_url, '-a', '5WT00002', '--json')
    assert result.exit_code == exit_codes.OK, result.output
    payload = _json(result.stdout)
    assert payload['command'] == 'run' and payload['store']['kind'] == 'embedded'
    [account] = payload['accounts']
    assert account['account'] == '5WT00002' and account['status'] == 'ok'
    [place] = [a for a in account['actions'] if a['kind'] == 'place']
    assert place['result'] == 'placed' and place['order_id'] and place['stop_trigger'] == '225.00'


def test_run_json_has_the_same_shape_for_several_accounts(paper: PaperBroker) -> None:
    result = invoke('run', 'sync-positions', '--api-url', paper.api_url, '--json')
    payload = _json(result.stdout)
    assert [a['account'] for a in payload['accounts']] == ['5WT00001', '5WT00002']
    one = _json(invoke('run', 'sync-positions', '--api-url', paper.api_url, '-a', '5WT00001', '--json').stdout)
    assert one.keys() == payload.keys()
    assert one['accounts'][0].keys() == payload['accounts'][0].keys()


def test_sync_positions_reports_protection_as_unknown_not_zero(paper: PaperBroker) -> None:
    payload = _json(invoke('run', 'sync-positions', '--api-url', paper.api_url, '-a', '5WT00001', '--json').stdout)
    [account] = payload['accounts']
    assert account['positions'] == 11
    assert account['protected'] is None and account['unprotected'] is None and account['money_at_risk'] is None


def test_a_skipped_run_reports_unknown_counts_and_exit_status_1(paper: PaperBroker) -> None:
    paper.admin.fault('status', method='GET', path=r'/accounts/5WT00001/positions$', count=-1, status=503)
    result = invoke('run', 'ensure-stops', '--api-url', paper.api_url, '-a', '5WT00001', '--json')
    assert result.exit_code == exit_codes.ERROR
    [account] = _json(result.stdout)['accounts']
    assert account['status'] == 'skipped'
    assert account['positions'] is None and account['money_at_risk'] is None


def test_run_digest_json_carries_the_digest(paper: PaperBroker) -> None:
    payload = _json(invoke('run', 'digest', '--api-url', paper.api_url, '-a', '5WT00002', '--json').stdout)
    digest = payload['accounts'][0]['digest']
    assert digest['title'].startswith('Daily digest')
    sections = {section['title']: section['lines'] for section in digest['sections']}
    assert any(line.startswith('VTI') for line in sections['Positions and coverage'])


def test_critical_alerts_give_exit_status_3(paper: PaperBroker) -> None:
    # AMD's stop would be through the market already (critical); the rest of the run completed
    result = invoke('plan', '--api-url', paper.api_url, '-a', '5WT00001', '--json')
    assert result.exit_code == exit_codes.CRITICAL, result.output
    payload = _json(result.stdout)
    assert payload['critical'] is True and payload['exit_code'] == exit_codes.CRITICAL
    assert any(a['kind'] == 'breached' and a['severity'] == 'critical' for a in payload['accounts'][0]['alerts'])


def test_plan_sends_nothing_to_the_broker(paper: PaperBroker) -> None:
    paper.admin.clear_requests()
    result = invoke('plan', '--api-url', paper.api_url)
    assert 'AAPL' in result.stdout, result.output
    writes = [r for r in paper.admin.requests() if r['method'] != 'GET' and r['path'] != '/oauth/token']
    assert writes == []


def test_plan_with_aws_credentials_uses_the_embedded_store(paper: PaperBroker, real_looking_aws: None) -> None:
    # A trader with AWS credentials and no tables: nothing may reach AWS (pytest-socket would refuse it)
    result = invoke('plan', '--api-url', paper.api_url, '-a', '5WT00002')
    assert result.exit_code == exit_codes.OK, result.output
    assert 'store: embedded' in result.stdout


def test_an_aws_endpoint_in_the_environment_is_ignored_by_the_embedded_store(
    paper: PaperBroker, moto_endpoint: MotoEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv('AWS_ENDPOINT_URL', moto_endpoint.url)
    result = invoke('run', 'ensure-stops', '--mode', 'live', '--api-url', paper.api_url, '-a', '5WT00002')
    assert result.exit_code == exit_codes.OK, result.output
    assert moto_endpoint.client('dynamodb').list_tables()['TableNames'] == []


def test_plan_writes_nothing_to_a_persistent_store(paper: PaperBroker, moto_endpoint: MotoEndpoint) -> None:
    # Given a local store with history (a live run, the kill switch flipped once)
    store = moto_endpoint.url
    assert invoke('store', 'init', '--store', store).exit_code == 0
    assert invoke('run', 'ensure-stops', '--mode', 'live', '--api-url', paper.api_url, '--store', store).exit_code in (
        exit_codes.OK,
        exit_codes.CRITICAL,
    )
    invoke('kill-switch', 'off', '--store', store)
    paper.admin.set_quotes([{'symbol': 'KO', 'bid': '70.00', 'ask': '70.05', 'last': '70.02'}])  # trailing marks
    items, parameters = moto_endpoint.items(), moto_endpoint.parameters()
    paper.admin.clear_requests()
    # When a plan runs against it
    result = invoke('plan', '--api-url', paper.api_url, '--store', store, '--json')
    # Then it saw the stored state, and the store is exactly as before (items, versions), the broker only read
    assert result.exit_code in (exit_codes.OK, exit_codes.CRITICAL), result.output
    assert 'read only' in result.stderr
    assert moto_endpoint.items() == items
    assert moto_endpoint.parameters() == parameters
    assert {r['method'] for r in paper.admin.requests() if r['path'] != '/oauth/token'} == {'GET'}


def test_a_live_run_against_production_needs_an_explicit_store(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (workdir / 'tastyguard.yaml').write_text('environment: production\naccounts:\n  - account_number: 5WX11111\n')
    monkeypatch.setenv('TASTYTRADE_CLIENT_SECRET', 's')
    monkeypatch.setenv('TASTYTRADE_REFRESH_TOKEN', 'r')
    result = invoke('run', 'ensure-stops')
    assert result.exit_code == exit_codes.USAGE
    assert '--store tastyguard' in result.stderr and 'lease' in result.stderr


def test_a_run_against_the_stack_publishes_to_its_topic(paper: PaperBroker, stack: MotoEndpoint) -> None:
    topic = stack.client('sns').create_topic(Name='tastyguard-notifications')['TopicArn']
    result = invoke('run', 'ensure-stops', '--mode', 'live', '--api-url', paper.api_url, '--store', 'tastyguard', '-a',
                    '5WT00002', '--json')  # fmt: skip
    assert result.exit_code == exit_codes.OK, result.output
    payload = _json(result.stdout)
    assert payload['store']['kind'] == 'stack' and payload['store']['account_id'] == '123456789012'
    assert payload['messages'] and all(m['sent'] for m in payload['messages'])
    assert topic.endswith(':123456789012:tastyguard-notifications')
