"""Secrets never leave Secrets Manager: not in logs, messages, stored records or results.

One whole run through the Lambda handler at DEBUG level, with a token refresh, an access token revoked
mid-run (a 401 and a second refresh), a rejected order and a failed broker read; then every captured log
line, every SNS message, every item of the state table and the handler's result are searched for the
client secret, the refresh token and every access token the broker issued.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from functions.common import jobs as job_runtime
from paperbroker.server import PaperBroker
from tastyguard.store.schema import STATE_TABLE
from tastyguard.store.tokens import AwsTokenCache
from tests.integration.jobs.test_handlers import LambdaContext, lambda_env  # noqa: F401 - fixture

pytestmark = pytest.mark.integration


def test_no_secret_reaches_logs_messages_records_or_results(
    lambda_env: PaperBroker,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from functions.ensure_stops.handler import lambda_handler
    from functions.sync_positions.handler import lambda_handler as sync_handler

    broker = lambda_env
    issued: list[str] = []
    original_store = AwsTokenCache.store

    def remember(self: AwsTokenCache, token: Any) -> None:
        issued.append(token.value.get_secret_value())
        original_store(self, token)

    monkeypatch.setattr(AwsTokenCache, 'store', remember)
    monkeypatch.setenv('POWERTOOLS_LOG_LEVEL', 'DEBUG')
    caplog.set_level(logging.INFO)  # botocore's own DEBUG output prints raw AWS responses; it is never on
    caplog.set_level(logging.DEBUG, logger='tastyguard')
    sns, sqs = boto3.client('sns'), boto3.client('sqs')
    queue = sqs.create_queue(QueueName='inbox')['QueueUrl']
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=['QueueArn'])['Attributes']['QueueArn']
    sns.subscribe(TopicArn=sns.list_topics()['Topics'][0]['TopicArn'], Protocol='sqs', Endpoint=queue_arn)
    job_runtime.job_context('req-0', LambdaContext.function_name).clock = lambda: datetime(2026, 11, 20, 15, tzinfo=UTC)

    # Given faults along the way: the first access token revoked mid-run, one order rejected
    broker.admin.fault('revoke_token', method='GET', path=r'/orders/live$', count=1, scope='access')
    broker.admin.fault('status', method='POST', path=r'/orders$', count=1, status=422)
    results = [lambda_handler({'job': 'ensure_stops', 'scheduled_time': '2026-11-20T15:00:00Z'}, LambdaContext())]
    # and a broker read that fails
    broker.admin.fault('status', method='GET', path=r'/positions$', count=-1, status=500)
    results.append(sync_handler({'job': 'sync_positions', 'scheduled_time': '2026-11-20T15:05:00Z'}, LambdaContext()))

    secrets = [broker.client_secret, broker.refresh_token, *issued]
    assert len(issued) >= 2, 'the run should have refreshed after the revoked token'
    captured = capsys.readouterr()
    haystacks = {
        'stdout (Powertools JSON logs and metrics)': captured.out,
        'stderr': captured.err,
        'log records': '\n'.join(f'{r.getMessage()} {r.exc_text or ""} {r.__dict__}' for r in caplog.records),
        'SNS messages': json.dumps(
            sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get('Messages', []), default=str
        ),
        'state table': json.dumps(boto3.resource('dynamodb').Table(STATE_TABLE.name).scan()['Items'], default=str),
        'handler results': json.dumps(results, default=str),
    }
    assert 'refreshed' in haystacks['log records']  # the capture really saw the run
    assert any(r['status'] == 'skipped' for r in results[1]['accounts'])
    for where, text in haystacks.items():
        for secret in secrets:
            assert secret not in text, f'a secret value appeared in {where}'
