"""The Lambda handlers, invoked the way EventBridge Scheduler invokes them, against moto and the paper broker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters

from functions.common import jobs as job_runtime
from paperbroker.server import PaperBroker
from tastyguard.config.loader import config_to_json, parse_config
from tastyguard.redact import forget_secrets
from tastyguard.store.schema import create_tables
from tests.integration.jobs.conftest import demo_config

pytestmark = pytest.mark.integration


class LambdaContext:
    function_name = 'tastyguard-ensure-stops'
    memory_limit_in_mb = 512
    invoked_function_arn = 'arn:aws:lambda:us-east-1:123456789012:function:tastyguard-ensure-stops'
    aws_request_id = 'req-1'

    def get_remaining_time_in_millis(self) -> int:
        return 120_000


@pytest.fixture
def lambda_env(
    aws: None, paper_broker: PaperBroker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PaperBroker]:
    """What the stack deploys: tables, secrets, topic, kill-switch parameter, bundled config, environment."""
    create_tables(boto3.client('dynamodb'))
    secrets = boto3.client('secretsmanager')
    secrets.create_secret(
        Name='tastyguard/broker',
        SecretString=json.dumps(
            {'client_secret': paper_broker.client_secret, 'refresh_token': paper_broker.refresh_token}
        ),
    )
    secrets.create_secret(Name='tastyguard/access-token', SecretString=json.dumps({'access_token': None}))
    topic = boto3.client('sns').create_topic(Name='tastyguard')['TopicArn']
    config = tmp_path / 'tastyguard.json'
    config.write_text(config_to_json(parse_config(demo_config('live'))))
    for key, value in {
        'TASTYGUARD_BROKER_SECRET': 'tastyguard/broker',
        'TASTYGUARD_TOKEN_SECRET': 'tastyguard/access-token',
        'TASTYGUARD_TOPIC_ARN': topic,
        'TASTYGUARD_CONFIG_FILE': str(config),
        'TASTYGUARD_API_URL': paper_broker.api_url,
        'TASTYGUARD_STREAMER_URL': paper_broker.account_streamer_url,
    }.items():
        monkeypatch.setenv(key, value)
    parameters.clear_caches()
    job_runtime.reset_for_tests()
    yield paper_broker
    job_runtime.reset_for_tests()
    forget_secrets()


def _tick(time: str = '2026-11-20T15:00:00Z', job: str = 'ensure_stops') -> dict[str, Any]:
    return {'job': job, 'scheduled_time': time, 'schedule_arn': 'arn:aws:scheduler:us-east-1:123456789012:schedule/x'}


FRIDAY_MORNING = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # 10:00 in New York: the market is open
SATURDAY = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)


def _warm_container(now: datetime) -> None:
    """Build the container's context the way the first invocation does, with a fixed clock."""
    job_runtime.job_context('req-0', LambdaContext.function_name).clock = lambda: now


def test_a_scheduled_tick_protects_the_demo_account_and_emits_metrics(
    lambda_env: PaperBroker, capsys: pytest.CaptureFixture[str]
) -> None:
    from functions.ensure_stops.handler import lambda_handler

    _warm_container(FRIDAY_MORNING)
    result = lambda_handler(_tick(), LambdaContext())
    [main, roth] = result['accounts']
    assert main['status'] == 'ok' and roth['status'] == 'ok'
    assert main['actions']['place:placed'] == 7
    out = capsys.readouterr().out
    [emf] = [json.loads(line) for line in out.splitlines() if '"PositionsUnprotected"' in line]
    assert emf['PositionsUnprotected'] == [2.0]  # AMD (breached) and the futures option
    assert emf['OrdersPlaced'] == [8.0]
    assert emf['job'] == 'ensure_stops'
    assert emf['_aws']['CloudWatchMetrics'][0]['Namespace'] == 'tastyguard'


def test_a_duplicate_delivery_of_the_same_tick_does_not_run_again(lambda_env: PaperBroker) -> None:
    from functions.ensure_stops.handler import lambda_handler

    _warm_container(FRIDAY_MORNING)
    first = lambda_handler(_tick(), LambdaContext())
    lambda_env.admin.clear_requests()
    again = lambda_handler(_tick(), LambdaContext())
    assert again == first
    assert lambda_env.admin.requests() == []


def test_a_scheduled_tick_outside_market_hours_does_nothing(lambda_env: PaperBroker) -> None:
    from functions.ensure_stops.handler import lambda_handler

    _warm_container(SATURDAY)
    result = lambda_handler(_tick('2026-11-21T15:00:00Z'), LambdaContext())
    assert result == {'accounts': []}
    assert lambda_env.admin.requests() == []


def test_the_wrong_job_for_the_function_is_refused(lambda_env: PaperBroker) -> None:
    from functions.ensure_stops.handler import lambda_handler

    with pytest.raises(ValueError, match='this function runs ensure_stops'):
        lambda_handler(_tick(job='digest'), LambdaContext())


def test_a_missing_environment_variable_is_named(lambda_env: PaperBroker, monkeypatch: pytest.MonkeyPatch) -> None:
    from functions.sync_positions.handler import lambda_handler
    from tastyguard.jobs.wiring import SettingsError

    monkeypatch.delenv('TASTYGUARD_TOPIC_ARN')
    with pytest.raises(SettingsError, match='TASTYGUARD_TOPIC_ARN'):
        lambda_handler(_tick(job='sync_positions'), LambdaContext())


def test_a_warm_container_picks_up_a_newly_stored_grant(lambda_env: PaperBroker) -> None:
    from functions.ensure_stops.handler import lambda_handler
    from tastyguard.store.table import StateTable
    from tastyguard.store.tokens import AwsTokenCache

    secrets = boto3.client('secretsmanager')
    # Given the user stored a wrong refresh token: the first run trips the breaker and asks to re-authorize
    wrong = {'client_secret': lambda_env.client_secret, 'refresh_token': 'not-the-grant-at-all'}
    secrets.put_secret_value(SecretId='tastyguard/broker', SecretString=json.dumps(wrong))
    _warm_container(FRIDAY_MORNING)
    first = lambda_handler(_tick('2026-11-20T15:00:00Z'), LambdaContext())
    assert first['accounts'][0]['status'] == 'failed'
    # When they store the right grant and reset the breaker (the container stays warm)
    right = {'client_secret': lambda_env.client_secret, 'refresh_token': lambda_env.refresh_token}
    secrets.put_secret_value(SecretId='tastyguard/broker', SecretString=json.dumps(right))
    cache = AwsTokenCache(StateTable(), secrets, secret_id='tastyguard/access-token', environment='paper')
    cache.reset_breaker()
    # Then the next tick works without a cold start
    second = lambda_handler(_tick('2026-11-20T15:05:00Z'), LambdaContext())
    assert [account['status'] for account in second['accounts']] == ['ok', 'ok']


def test_an_empty_broker_secret_asks_to_store_the_grant_once(
    lambda_env: PaperBroker, capsys: pytest.CaptureFixture[str]
) -> None:
    from functions.ensure_stops.handler import lambda_handler

    # The stack creates the secret with empty values until the user stores the grant
    boto3.client('secretsmanager').put_secret_value(
        SecretId='tastyguard/broker',
        SecretString=json.dumps({'client_secret': '', 'refresh_token': '', 'placeholder': 'x'}),
    )
    _warm_container(FRIDAY_MORNING)
    result = lambda_handler(_tick(), LambdaContext())
    assert result['accounts'][0]['status'] == 'failed'
    assert 'put-secret-value' in result['accounts'][0]['errors'][0]
    assert lambda_env.admin.requests(path='/oauth/token') == []  # nothing was sent to tastytrade
