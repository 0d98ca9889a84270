from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import httpx
import pytest
import respx
from aws_lambda_powertools.utilities import parameters

from tastyguard.notify.notice import Notice, NoticeSection, Severity
from tastyguard.notify.slack import SlackDeliveryError
from tastyguard.notify.sns import SnsNotifier

pytestmark = pytest.mark.integration

WEBHOOK = 'https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX'


def _notice() -> Notice:
    return Notice(
        kind='run_summary',
        severity=Severity.INFO,
        title='1 stop placed',
        environment='paper',
        mode='live',
        account='5WT00001',
        sections=[NoticeSection(title='What the broker did', lines=['Placed AAPL stop'])],
        created_at=datetime(2026, 11, 20, 15, 0, tzinfo=UTC),
    )


def test_email_subscribers_get_text_and_the_lambda_gets_the_notice(aws: None) -> None:
    # Given a topic with an SQS subscriber standing in for the email protocol's raw view
    sns, sqs = boto3.client('sns'), boto3.client('sqs')
    topic = sns.create_topic(Name='tastyguard')['TopicArn']
    queue = sqs.create_queue(QueueName='q')['QueueUrl']
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=['QueueArn'])['Attributes']['QueueArn']
    sns.subscribe(TopicArn=topic, Protocol='sqs', Endpoint=queue_arn)
    # When a notice is published
    SnsNotifier(sns, topic).publish(_notice())
    # Then the message carries the readable body, the subject and the severity attribute
    [message] = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1)['Messages']
    envelope = json.loads(message['Body'])
    assert envelope['Subject'] == '[tastyguard INFO paper/live 5WT00001] 1 stop placed'
    assert 'Placed AAPL stop' in envelope['Message']
    assert envelope['MessageAttributes']['severity']['Value'] == 'info'


def test_a_notifier_given_a_factory_creates_its_client_at_the_first_publish_only(aws: None) -> None:
    # Given a notifier whose client is a factory (as the Lambdas build it: most runs publish nothing)
    sns = boto3.client('sns')
    topic = sns.create_topic(Name='tastyguard')['TopicArn']
    made: list[object] = []

    def factory() -> Any:
        made.append(sns)
        return sns

    notifier = SnsNotifier(factory, topic)
    assert made == []
    # When it publishes twice
    notifier.publish(_notice())
    notifier.publish(_notice())
    # Then the client was made once, at the first publish
    assert made == [sns]


def _sns_event(message: str) -> dict[str, Any]:
    return {
        'Records': [
            {
                'EventSource': 'aws:sns',
                'EventVersion': '1.0',
                'EventSubscriptionArn': 'arn:aws:sns:us-east-1:123456789012:tastyguard:sub',
                'Sns': {
                    'Type': 'Notification',
                    'MessageId': 'm-1',
                    'TopicArn': 'arn:aws:sns:us-east-1:123456789012:t',
                    'Subject': None,
                    'Message': message,
                    'Timestamp': '2026-11-20T15:00:00.000Z',
                    'SignatureVersion': '1',
                    'Signature': 'x',
                    'SigningCertUrl': 'x',
                    'UnsubscribeUrl': 'x',
                    'MessageAttributes': {},
                },
            }
        ]
    }


class _Context:
    function_name = 'notify-slack'
    memory_limit_in_mb = 256
    invoked_function_arn = 'arn:aws:lambda:us-east-1:123456789012:function:notify-slack'
    aws_request_id = 'req-1'


@pytest.fixture
def slack_secret(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    boto3.client('secretsmanager').create_secret(
        Name='tastyguard/slack', SecretString=json.dumps({'webhook_url': WEBHOOK})
    )
    monkeypatch.setenv('TASTYGUARD_SLACK_SECRET', 'tastyguard/slack')
    parameters.clear_caches()


def test_the_slack_handler_posts_block_kit_and_never_logs_the_webhook(
    slack_secret: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from functions.notify_slack.handler import lambda_handler

    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(WEBHOOK).mock(return_value=httpx.Response(200, text='ok'))
        result = lambda_handler(_sns_event(_notice().model_dump_json()), _Context())
    assert result == {'posted': 1}
    body = json.loads(route.calls[0].request.content)
    assert body['blocks'][0]['text']['text'] == '1 stop placed'
    out = capsys.readouterr()
    assert 'XXXXSECRETXXXX' not in out.out + out.err


def test_a_slack_failure_raises_so_sns_retries(slack_secret: None) -> None:
    from functions.notify_slack.handler import lambda_handler

    with respx.mock() as mock:
        mock.post(WEBHOOK).mock(return_value=httpx.Response(500, text='rollup_error'))
        with pytest.raises(SlackDeliveryError, match='500') as info:
            lambda_handler(_sns_event(_notice().model_dump_json()), _Context())
    assert 'XXXXSECRETXXXX' not in str(info.value)
