"""What ``tastyguard stream`` does: connect like ``run``, then run a :class:`StreamerService` in-process."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tastyguard.cli.errors import CliError
from tastyguard.cli.runtime import (
    connect,
    job_context,
    preflight,
    read_credentials,
    resolve_target,
    settle_config,
)
from tastyguard.cli.stores import EMBEDDED_STORE, choose_store, open_store
from tastyguard.config.models import Mode
from tastyguard.jobs.context import JobContext
from tastyguard.notify.notice import Notice
from tastyguard.store.table import StateTable
from tastyguard.streaming.publish import EventSink, InProcessPublisher
from tastyguard.streaming.service import GrantStream, StreamerService, configure_logging
from tastyguard.streaming.supervisor import JobThread, fast_path

logger = logging.getLogger('tastyguard.streaming')


@dataclass(frozen=True)
class StreamRequest:
    """The command line of ``tastyguard stream``."""

    config: Path
    explicit_config: bool
    accounts: list[str]
    api_url: str | None
    streamer_url: str | None
    secret: str | None
    store: str | None


class LoggedNotices:
    """Messages a local streamer's jobs send: logged to stderr (and to the stack's topic, when there is one)."""

    def __init__(self, topic: object | None = None) -> None:
        self.topic = topic
        self.sent: list[Notice] = []

    def publish(self, notice: Notice) -> None:
        self.sent.append(notice)
        if self.topic is not None:
            self.topic.publish(notice)  # type: ignore[attr-defined]
        lines = [line for section in notice.sections for line in section.lines]
        logger.info('message [%s] %s', notice.severity, notice.title, extra={'lines': lines[:20]})


def run_stream(request: StreamRequest, mode: Mode | None) -> int:
    """Connect, then stream until SIGINT/SIGTERM (exit 0)."""
    configure_logging(sys.stderr)
    target = resolve_target(
        request.config, explicit=request.explicit_config, api_url=request.api_url, streamer_url=request.streamer_url
    )
    choice = choose_store(
        request.store,
        default=EMBEDDED_STORE if target.is_paper else None,
        why_explicit=' for a streamer against a real account: the deployed stack holds the account lease and the '
        'intent log that keep it and the scheduled jobs from sending the same order (--store embedded runs alone)',
    )
    with open_store(choice) as session:
        logger.info(session.describe())
        credentials = read_credentials(session, request.secret)
        client = connect(target, credentials, session)
        config = settle_config(target, preflight(client, target, credentials), mode)
        topic = None
        if session.topic_arn is not None:
            from tastyguard.notify.sns import SnsNotifier  # noqa: PLC0415

            topic = SnsNotifier(session.client('sns'), session.topic_arn)
        ctx = job_context(config, client, session, LoggedNotices(topic))
        ctx.mode_override = mode
        accounts = _accounts(ctx, request.accounts)
        service = StreamerService(
            ctx=ctx,
            grants=[GrantStream('default', client, accounts)],
            sink=lambda jobs: _in_process(ctx, jobs),
            state=StateTable,
            on_ready=_print_ready,
        )
        return asyncio.run(service.run_until_signalled())


def _accounts(ctx: JobContext, wanted: Sequence[str]) -> list[str]:
    enabled = [a.account_number for a in ctx.config.configured_accounts() if a.enabled]
    if not wanted:
        return enabled
    chosen = [a.strip().upper() for a in wanted]
    unknown = [a for a in chosen if a not in enabled]
    if unknown:
        raise CliError(
            f'unknown or disabled account {", ".join(unknown)}; configured: {", ".join(enabled)}', exit_code=2
        )
    return chosen


def _in_process(ctx: JobContext, jobs: JobThread) -> EventSink:
    handle = fast_path(ctx)
    return InProcessPublisher(lambda event: jobs.call(handle, event))


def _print_ready(accounts: Sequence[str], symbols: int) -> None:
    sys.stdout.write(json.dumps({'status': 'streaming', 'accounts': list(accounts), 'symbols': symbols}) + '\n')
    sys.stdout.flush()
