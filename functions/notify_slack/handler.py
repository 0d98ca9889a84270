"""SNS → Slack: renders each notice as Block Kit (with a plain-text fallback) and posts it to the webhook.

The webhook URL lives in Secrets Manager (``TASTYGUARD_SLACK_SECRET``: the secret's name or ARN, holding
``{"webhook_url": "https://hooks.slack.com/..."}``). A failed post raises, so the asynchronous SNS → Lambda
retries and the dead-letter queue take over.
"""

from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.data_classes import SNSEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.common.observability import logger
from tastyguard.notify.slack import payload_for_sns_message, post_to_slack
from tastyguard.redact import register_secret, scrub

SECRET_ENV = 'TASTYGUARD_SLACK_SECRET'  # noqa: S105 - the variable's name, not a secret


def webhook_url() -> str:
    """The webhook URL from Secrets Manager (cached by Powertools for five minutes)."""
    name = os.environ.get(SECRET_ENV)
    if not name:
        raise RuntimeError(f'{SECRET_ENV} is not set: the stack passes the Slack secret name to this function')
    raw = parameters.get_secret(name, max_age=300)
    text = raw if isinstance(raw, str) else bytes(raw).decode()
    try:
        value = json.loads(text)
    except ValueError:
        value = text
    url = value.get('webhook_url') if isinstance(value, dict) else value
    if not isinstance(url, str) or not url:
        raise RuntimeError(
            'the Slack secret holds no "webhook_url"; store {"webhook_url": "https://hooks.slack.com/..."}'
        )
    register_secret(url)
    return url


@logger.inject_lambda_context(log_event=False)
@event_source(data_class=SNSEvent)
def lambda_handler(event: SNSEvent, context: LambdaContext) -> dict[str, Any]:
    """Post every SNS record of the event to Slack."""
    url = webhook_url()
    posted = 0
    for record in event.records:
        payload = json.loads(scrub(json.dumps(payload_for_sns_message(record.sns.message, record.sns.subject))))
        post_to_slack(url, payload)
        posted += 1
        logger.info('posted to Slack', extra={'message_id': record.sns.message_id})
    return {'posted': posted}
