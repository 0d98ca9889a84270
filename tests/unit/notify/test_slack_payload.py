from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tastyguard.notify.notice import Notice, Severity
from tastyguard.notify.slack import payload_for_sns_message, validate_webhook_url

pytestmark = pytest.mark.unit


def test_a_notice_becomes_block_kit() -> None:
    notice = Notice(
        kind='reauthorize',
        severity=Severity.CRITICAL,
        title='Re-authorize tastyguard',
        environment='production',
        mode='live',
        created_at=datetime(2026, 11, 20, tzinfo=UTC),
    )
    payload = payload_for_sns_message(notice.model_dump_json())
    assert payload['blocks'][0]['text']['text'] == 'Re-authorize tastyguard'
    assert payload['text'].startswith('[critical]')


def test_a_cloudwatch_alarm_is_summarised() -> None:
    alarm = {'AlarmName': 'tastyguard-unprotected', 'NewStateValue': 'ALARM', 'NewStateReason': 'threshold crossed'}
    payload = payload_for_sns_message(json.dumps(alarm))
    assert payload['text'] == 'CloudWatch alarm tastyguard-unprotected is ALARM'


def test_any_other_text_is_posted_escaped() -> None:
    payload = payload_for_sns_message('hello <@U123>', 'Subject')
    assert payload['text'] == 'Subject\nhello &lt;@U123&gt;'


@pytest.mark.parametrize('url', ['http://hooks.slack.com/x', 'ftp://x', 'not a url', 'https://'])
def test_webhook_urls_must_be_https(url: str) -> None:
    with pytest.raises(ValueError, match='https URL') as info:
        validate_webhook_url(url)
    assert url not in str(info.value) or url == 'https://'
