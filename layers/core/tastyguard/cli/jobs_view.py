"""``run`` and ``plan``: a job outside Lambda, with one JSON shape and documented exit codes.

``run`` writes to the chosen store (and, for the deployed stack, publishes its messages to the stack's topic).
``plan`` writes nothing anywhere: it reads the store into an embedded copy, runs ensure-stops in observe mode
there (no order, no dry-run), and throws the copy away.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from tastyguard.broker import TastytradeClient
from tastyguard.cli import exit_codes
from tastyguard.cli.errors import echo_json
from tastyguard.cli.overlay import copy_store, embedded_copy
from tastyguard.cli.render import notice_panel, print_result
from tastyguard.cli.runtime import (
    BrokerCredentials,
    Target,
    connect,
    job_context,
    preflight,
    read_credentials,
    resolve_target,
    select_account,
    settle_config,
)
from tastyguard.cli.stores import EMBEDDED_STORE, StoreKind, StoreSession, choose_store, open_store
from tastyguard.config.models import Mode
from tastyguard.jobs.invocation import JobInvocation, JobName
from tastyguard.jobs.registry import run as run_registered
from tastyguard.jobs.results import AccountRunResult
from tastyguard.notify.notice import Notice
from tastyguard.notify.ports import MemoryNotifier


@dataclass
class Request:
    """What the person asked for."""

    config: Path
    explicit_config: bool
    account: str | None
    api_url: str | None
    streamer_url: str | None
    secret: str | None
    store: str | None
    as_json: bool


@dataclass
class Outcome:
    """What a command did, for output and the exit code."""

    command: str
    job: JobName
    store: dict[str, Any]
    environment: str
    results: list[AccountRunResult]
    notes: list[str] = field(default_factory=list)
    messages: list[Notice] = field(default_factory=list)
    sent: bool = False

    @property
    def exit_code(self) -> int:
        """1 when a run did not complete, 3 when critical alerts are present, else 0."""
        if any(result.status != 'ok' for result in self.results):
            return exit_codes.ERROR
        if any(result.critical for result in self.results):
            return exit_codes.CRITICAL
        return exit_codes.OK

    def to_json(self) -> dict[str, Any]:
        """The documented ``--json`` object (the same shape for any number of accounts)."""
        return {
            'command': self.command,
            'job': self.job.value,
            'environment': self.environment,
            'store': self.store,
            'exit_code': self.exit_code,
            'critical': any(result.critical for result in self.results),
            'accounts': [result.to_cli_json() for result in self.results],
            'messages': [
                {'account': m.account, 'severity': m.severity.value, 'title': m.title, 'sent': self.sent}
                for m in self.messages
            ],
            'notes': list(self.notes),
        }


class _Publisher:
    """Prints each message (humans) or keeps it (JSON) and, for the deployed stack, sends it to the topic."""

    def __init__(self, console: Console | None, topic: Any = None) -> None:
        self.console = console
        self.topic = topic
        self.sent: list[Notice] = []

    def publish(self, notice: Notice) -> None:
        if self.topic is not None:
            self.topic.publish(notice)
        self.sent.append(notice)
        if self.console is not None:
            self.console.print(notice_panel(notice))


def _say(console: Console, text: str) -> None:
    console.print(f'[dim]{text}[/]')


def run_job(job: JobName, mode: Mode | None, request: Request) -> Outcome:
    """Run ``job`` once, now (whatever the market hours: a person asked for it)."""
    target = resolve_target(
        request.config, explicit=request.explicit_config, api_url=request.api_url, streamer_url=request.streamer_url
    )
    environment = target.environment.name.value
    choice = choose_store(
        request.store,
        default=EMBEDDED_STORE if target.is_paper else None,
        why_explicit=(
            f' for a run against {environment}: the deployed stack holds the account lease and the intent log that '
            'keep two writers from sending the same order (--store embedded runs without them)'
        ),
    )
    console = Console(stderr=request.as_json)
    with open_store(choice) as session:
        _say(Console(stderr=True) if request.as_json else console, session.describe())
        credentials = read_credentials(session, request.secret)
        client = connect(target, credentials, session)
        config = settle_config(target, preflight(client, target, credentials), mode)
        account = select_account(config, request.account)
        topic = _topic(session)
        publisher = _Publisher(None if request.as_json else console, topic)
        if mode is Mode.LIVE and target.environment.is_production and sys.stdin.isatty():
            import typer  # noqa: PLC0415

            typer.confirm('Submit real orders to your production tastytrade account?', abort=True)
        ctx = job_context(config, client, session, publisher)
        ctx.mode_override = mode
        results = run_registered(ctx, JobInvocation(job=job, account=account, force=True))
        return Outcome(
            'run', job, session.as_json(), environment, results, list(ctx.notes), publisher.sent, topic is not None
        )


def _topic(session: StoreSession) -> Any:
    if session.topic_arn is None:
        return None
    from tastyguard.notify.sns import SnsNotifier  # noqa: PLC0415

    return SnsNotifier(session.client('sns'), session.topic_arn)


@dataclass(frozen=True)
class ReadOnly:
    """Where a read-only command works (an embedded store, or an embedded copy of the real one)."""

    session: StoreSession
    store: dict[str, Any]
    description: str
    credentials: BrokerCredentials | None
    credentials_problem: str | None = None


@contextlib.contextmanager
def read_only(
    target: Target, store: str | None, secret: str | None, *, need_credentials: bool = True
) -> Iterator[ReadOnly]:
    """Open the chosen store for reading only: an embedded copy of what the command reads."""
    from tastyguard.cli.errors import CliError  # noqa: PLC0415

    choice = choose_store(store, default=EMBEDDED_STORE)
    with open_store(choice) as real:
        description, as_json = real.describe(), real.as_json()
        credentials: BrokerCredentials | None = None
        problem: str | None = None
        try:
            credentials = read_credentials(real, secret)
        except CliError as error:
            if need_credentials:
                raise
            problem = str(error)
        if real.kind is StoreKind.EMBEDDED:
            yield ReadOnly(real, as_json, description, credentials, problem)
            return
        accounts = [a.account_number for a in target.config.accounts] if target.config else []
        if not accounts and credentials is not None:  # a paper broker without a file: ask it
            accounts = [
                a.account_number
                for a in preflight(TastytradeClient(target.environment, credentials.value), target, credentials)
            ]
        copy = copy_store(real, accounts)
    with embedded_copy(copy) as overlay:
        yield ReadOnly(overlay, as_json, f'{description}; read only', credentials, problem)


def plan(request: Request) -> Outcome:
    """What ensure-stops would do now, with nothing written anywhere."""
    target = resolve_target(
        request.config, explicit=request.explicit_config, api_url=request.api_url, streamer_url=request.streamer_url
    )
    console = Console(stderr=True) if request.as_json else Console()
    with read_only(target, request.store, request.secret) as where:
        _say(console, where.description)
        assert where.credentials is not None
        client = connect(target, where.credentials, where.session)
        config = settle_config(target, preflight(client, target, where.credentials), Mode.OBSERVE)
        account = select_account(config, request.account)
        notifier = MemoryNotifier()
        ctx = job_context(config, client, where.session, notifier)
        ctx.mode_override = Mode.OBSERVE
        results = run_registered(ctx, JobInvocation(job=JobName.ENSURE_STOPS, account=account, force=True))
        return Outcome(
            'plan', JobName.ENSURE_STOPS, where.store, target.environment.name.value, results, list(ctx.notes),
            notifier.sent, False,
        )  # fmt: skip


def emit(outcome: Outcome, *, as_json: bool) -> int:
    """Print the outcome (tables, or the JSON object) and return the exit code."""
    if as_json:
        echo_json(outcome.to_json())
        return outcome.exit_code
    console = Console()
    why = outcome.command == 'plan'
    for result in outcome.results:
        print_result(console, result, why=why)
    for note in outcome.notes:
        console.print(f'[dim]note:[/] {note}')
    if outcome.sent and outcome.messages:
        console.print(f"[dim]{len(outcome.messages)} message(s) sent to the stack's notification topic[/]")
    elif outcome.messages and outcome.command == 'run':
        console.print('[dim]the messages above were printed, not sent (only the deployed stack sends them)[/]')
    if outcome.exit_code == exit_codes.CRITICAL:
        console.print('[bold red]critical alerts present[/] (exit status 3): a person has to act')
    return outcome.exit_code
