from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tastyguard.notify.notice import Notice, NoticeSection, Severity
from tastyguard.notify.render import SLACK_SECTION_LIMIT, email_body, email_subject, slack_message

pytestmark = pytest.mark.unit


def _notice(**changes: object) -> Notice:
    base = Notice(
        kind='run_summary',
        severity=Severity.WARNING,
        title='2 stops placed, 1 position needs you',
        environment='paper',
        mode='live',
        account='5WT00001',
        summary='ensure-stops finished',
        sections=[NoticeSection(title='What the broker did', lines=['Placed AAPL Sell to Close 100 Stop @ 160.65'])],
        run_id='run-1',
        created_at=datetime(2026, 11, 20, 15, 0, tzinfo=UTC),
    )
    return base.model_copy(update=changes)


def test_subject_names_severity_environment_mode_and_account() -> None:
    assert email_subject(_notice()) == ('[tastyguard WARNING paper/live 5WT00001] 2 stops placed, 1 position needs you')


def test_subject_is_one_line_within_the_sns_limit() -> None:
    subject = email_subject(_notice(title='x\n' * 200))
    assert len(subject) <= 100
    assert '\n' not in subject


def test_email_body_lists_every_section_line_and_the_context() -> None:
    body = email_body(_notice())
    assert 'Placed AAPL Sell to Close 100 Stop @ 160.65' in body
    assert 'Mode: live' in body
    assert 'Account: 5WT00001' in body


def test_slack_message_has_a_fallback_and_escapes_markup() -> None:
    message = slack_message(_notice(title='<!channel> alert', summary='a & b'))
    assert message['text'].startswith('[warning] &lt;!channel&gt; alert')
    texts = [block['text']['text'] for block in message['blocks'] if block['type'] == 'section']
    assert any('a &amp; b' in text for text in texts)
    assert all('<!channel>' not in text for text in texts)


def test_slack_sections_stay_within_slacks_limit() -> None:
    lines = [f'line {index} ' + 'x' * 80 for index in range(200)]
    message = slack_message(_notice(sections=[NoticeSection(title='Many', lines=lines)]))
    sections = [block for block in message['blocks'] if block['type'] == 'section']
    assert len(sections) > 1
    assert all(len(block['text']['text']) <= SLACK_SECTION_LIMIT for block in sections)
    assert len(message['blocks']) <= 50
