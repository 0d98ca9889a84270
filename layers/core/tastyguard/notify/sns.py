"""Publishing notices to the SNS topic.

One publish per notice with a per-protocol message: email subscribers get the readable text body, the Slack
notifier Lambda gets the notice as JSON (and renders Block Kit from it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from tastyguard.notify.notice import Notice
from tastyguard.notify.render import email_body, email_subject
from tastyguard.redact import scrub

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient


class SnsNotifier:
    """Publishes to one topic.

    ``client`` may be a factory, called at the first publish: most runs publish nothing, and a client costs
    its service model's load (milliseconds of a cold start).
    """

    def __init__(self, client: SNSClient | Callable[[], SNSClient], topic_arn: str) -> None:
        self._client = client
        self.topic_arn = topic_arn

    @property
    def client(self) -> SNSClient:
        """The SNS client (created now if it was given as a factory)."""
        if callable(self._client):
            self._client = self._client()
        return self._client

    def publish(self, notice: Notice) -> None:
        """Publish ``notice`` (raises on failure so the caller can record it)."""
        # Messages never carry secrets by construction; scrub() is the second line of defence.
        body = scrub(email_body(notice))
        self.client.publish(
            TopicArn=self.topic_arn,
            Subject=scrub(email_subject(notice)),
            MessageStructure='json',
            Message=json.dumps({'default': body, 'email': body, 'lambda': scrub(notice.model_dump_json())}),
            MessageAttributes={
                'severity': {'DataType': 'String', 'StringValue': notice.severity.value},
                'kind': {'DataType': 'String', 'StringValue': notice.kind},
                'environment': {'DataType': 'String', 'StringValue': notice.environment},
            },
        )
