"""Posting to a Slack incoming webhook, and turning SNS messages into Slack payloads."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import ValidationError

from tastyguard import __version__
from tastyguard.notify.notice import Notice
from tastyguard.notify.render import SLACK_SECTION_LIMIT, slack_escape, slack_message


class SlackDeliveryError(RuntimeError):
    """Slack did not accept the message (the SNS → Lambda retry and DLQ take over)."""


def validate_webhook_url(url: str) -> str:
    """An https URL, or ``http`` on loopback for local tests. The URL itself never appears in errors."""
    parts = urlsplit(url)
    loopback = parts.hostname in ('127.0.0.1', 'localhost', '::1')
    if not parts.hostname or not (parts.scheme == 'https' or (parts.scheme == 'http' and loopback)):
        raise ValueError(
            'the Slack webhook secret does not hold an https URL; store {"webhook_url": "https://hooks.slack.com/..."}'
        )
    return url


def post_to_slack(url: str, payload: dict[str, Any], *, client: httpx.Client | None = None) -> None:
    """POST ``payload`` to the webhook; raise :class:`SlackDeliveryError` on anything but 2xx."""
    own = client is None
    http = client or httpx.Client(timeout=5.0, headers={'User-Agent': f'tastyguard/{__version__}'})
    try:
        response = http.post(validate_webhook_url(url), json=payload)
    except httpx.HTTPError as error:
        raise SlackDeliveryError(f'could not reach Slack ({type(error).__name__})') from None
    finally:
        if own:
            http.close()
    if not response.is_success:
        raise SlackDeliveryError(f'Slack answered {response.status_code}: {response.text[:200]}')


def payload_for_sns_message(message: str, subject: str | None = None) -> dict[str, Any]:
    """The Slack payload for one SNS message: a tastyguard notice, a CloudWatch alarm, or plain text."""
    try:
        return slack_message(Notice.model_validate_json(message))
    except ValidationError:
        pass
    try:
        alarm = json.loads(message)
    except ValueError:
        alarm = None
    if isinstance(alarm, dict) and 'AlarmName' in alarm:
        state = str(alarm.get('NewStateValue', '?'))
        title = f'CloudWatch alarm {alarm["AlarmName"]} is {state}'
        reason = str(alarm.get('NewStateReason', ''))
        text = slack_escape(f'{title}\n{reason}')[:SLACK_SECTION_LIMIT]
        return {
            'text': slack_escape(title),
            'blocks': [
                {'type': 'header', 'text': {'type': 'plain_text', 'text': title[:150]}},
                {'type': 'section', 'text': {'type': 'mrkdwn', 'text': text}},
            ],
        }
    text = slack_escape(f'{subject}\n{message}' if subject else message)[:SLACK_SECTION_LIMIT]
    return {'text': text, 'blocks': [{'type': 'section', 'text': {'type': 'mrkdwn', 'text': text}}]}
