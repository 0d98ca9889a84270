"""Rendering a :class:`Notice` for email (plain text) and Slack (Block Kit with a text fallback)."""

from __future__ import annotations

from typing import Any

from tastyguard.notify.notice import Notice, Severity

SUBJECT_LIMIT = 100  # SNS rejects longer subjects
SLACK_SECTION_LIMIT = 3000  # Slack's limit for a section's text
SLACK_HEADER_LIMIT = 150
_ICON = {Severity.INFO: ':large_green_circle:', Severity.WARNING: ':warning:', Severity.CRITICAL: ':rotating_light:'}


def _context_label(notice: Notice) -> str:
    account = f' {notice.account}' if notice.account else ''
    return f'{notice.environment}/{notice.mode}{account}'


def email_subject(notice: Notice) -> str:
    """``[tastyguard WARNING paper/shadow 5WT00001] title`` cut to SNS's 100 characters, one line."""
    prefix = f'[tastyguard {notice.severity.value.upper()} {_context_label(notice)}] '
    subject = ' '.join((prefix + notice.title).split())
    return subject if len(subject) <= SUBJECT_LIMIT else subject[: SUBJECT_LIMIT - 1] + '…'


def email_body(notice: Notice) -> str:
    """A readable plain-text body."""
    lines = [notice.title, '=' * min(len(notice.title), 72), '']
    if notice.summary:
        lines += [notice.summary, '']
    for section in notice.sections:
        lines.append(f'{section.title}:')
        lines += [f'  - {line}' for line in section.lines] or ['  (none)']
        lines.append('')
    lines.append(f'Severity: {notice.severity.value}   Environment: {notice.environment}   Mode: {notice.mode}')
    if notice.account:
        lines.append(f'Account: {notice.account}')
    lines.append(f'Time: {notice.created_at.isoformat()}' + (f'   Run: {notice.run_id}' if notice.run_id else ''))
    return '\n'.join(lines)


def slack_escape(text: str) -> str:
    """Escape the three characters Slack treats as markup (``<!channel>`` must never ping anyone)."""
    return text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')


def _chunks(lines: list[str], limit: int) -> list[str]:
    """Join lines into texts of at most ``limit`` characters (a longer single line is cut)."""
    chunks: list[str] = []
    current = ''
    for raw in lines:
        line = raw if len(raw) < limit else raw[: limit - 2] + '…'
        candidate = f'{current}\n{line}' if current else line
        if len(candidate) > limit:
            chunks.append(current)
            candidate = line
        current = candidate
    if current:
        chunks.append(current)
    return chunks


def slack_message(notice: Notice) -> dict[str, Any]:
    """The webhook payload: Block Kit blocks plus the plain ``text`` fallback used in push notifications."""
    header = f'{notice.title}'[:SLACK_HEADER_LIMIT]
    blocks: list[dict[str, Any]] = [
        {'type': 'header', 'text': {'type': 'plain_text', 'text': header, 'emoji': True}},
        {
            'type': 'context',
            'elements': [
                {
                    'type': 'mrkdwn',
                    'text': slack_escape(
                        f'{_ICON[notice.severity]} {notice.severity.value} · {_context_label(notice)}'
                        + (f' · run {notice.run_id}' if notice.run_id else '')
                    ),
                }
            ],
        },
    ]
    if notice.summary:
        for chunk in _chunks([slack_escape(notice.summary)], SLACK_SECTION_LIMIT):
            blocks.append({'type': 'section', 'text': {'type': 'mrkdwn', 'text': chunk}})
    for section in notice.sections:
        lines = [f'*{slack_escape(section.title)}*'] + [f'• {slack_escape(line)}' for line in section.lines]
        for chunk in _chunks(lines, SLACK_SECTION_LIMIT):
            blocks.append({'type': 'section', 'text': {'type': 'mrkdwn', 'text': chunk}})
    blocks = blocks[:50]  # Slack accepts at most 50 blocks per message
    fallback = slack_escape(
        f'[{notice.severity.value}] {notice.title}' + (f' — {notice.summary}' if notice.summary else '')
    )
    return {'text': fallback[:SLACK_SECTION_LIMIT], 'blocks': blocks}
