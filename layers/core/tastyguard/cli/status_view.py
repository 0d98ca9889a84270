"""``status``: every position of every account with its stops and coverage, the safety switches, the last run
of each job and the open alerts. Read only: the broker is read and planned against (as ``plan`` does), the
store is read through an embedded copy; nothing is sent or written anywhere.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table

from tastyguard.cli import exit_codes
from tastyguard.cli.errors import echo_json
from tastyguard.cli.jobs_view import Request, read_only
from tastyguard.cli.runtime import connect, job_context, preflight, resolve_target, select_account, settle_config
from tastyguard.cli.timezones import Zone
from tastyguard.config.models import Mode, TastyguardConfig
from tastyguard.engine.actions import AlertKind, CoverageStatus, PositionCoverage
from tastyguard.engine.types import Holding, InstrumentType, QuoteView, WorkingOrder
from tastyguard.jobs.context import JobContext, Stores
from tastyguard.jobs.ensure_stops import plan_account
from tastyguard.jobs.outcome import Outcome
from tastyguard.notify.ports import MemoryNotifier
from tastyguard.store.alerts import AlertStateStore
from tastyguard.store.control import CircuitBreaker
from tastyguard.store.runs import RunStore
from tastyguard.store.table import StateTable

COVERAGE_WORDS = {
    CoverageStatus.PROTECTED: 'protected',
    CoverageStatus.PARTIAL: 'partly protected',
    CoverageStatus.UNPROTECTED: 'unprotected',
    CoverageStatus.HANDS_OFF: 'hands-off',
    CoverageStatus.ALERT_ONLY: 'alert only',
    CoverageStatus.SOFTWARE_STOP: 'software stop (the streamer watches it)',
}
JOBS = ('sync_positions', 'ensure_stops', 'reconcile_orders', 'digest')


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize() if value == value.to_integral() else value, 'f')


@dataclass
class PositionRow:
    """One position as the status shows it."""

    symbol: str
    quantity: Decimal
    mark: Decimal | None
    stops: list[dict[str, Any]]
    protected: Decimal | None
    status: str
    alerts: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The position in ``status --json``."""
        return {
            'symbol': self.symbol,
            'quantity': _decimal(self.quantity),
            'mark': _decimal(self.mark),
            'stops': self.stops,
            'protected': _decimal(self.protected),
            'status': self.status,
            'alerts': self.alerts,
        }


@dataclass
class AccountStatus:
    """One account's status."""

    account: str
    nickname: str | None
    mode: str
    enabled: bool
    breaker: dict[str, Any] | None
    positions: list[PositionRow] | None  # None: the broker was not read
    last_runs: dict[str, dict[str, Any]]
    open_alerts: list[dict[str, Any]]
    critical: bool = False

    def to_json(self) -> dict[str, Any]:
        """The account in ``status --json``."""
        return {
            'account': self.account,
            'nickname': self.nickname,
            'mode': self.mode,
            'enabled': self.enabled,
            'breaker': self.breaker,
            'positions': None if self.positions is None else [row.to_json() for row in self.positions],
            'last_runs': self.last_runs,
            'open_alerts': self.open_alerts,
            'critical': self.critical,
        }


@dataclass
class Status:
    """The whole status."""

    store: dict[str, Any]
    store_description: str
    environment: str
    zone: Zone
    generated_at: datetime
    kill_switch: dict[str, Any]
    accounts: list[AccountStatus]
    notes: list[str] = field(default_factory=list)
    streamer: dict[str, Any] | None = None  # the streamer's last health item (None: no streamer has reported)

    @property
    def exit_code(self) -> int:
        """3 when critical alerts are present, else 0."""
        return exit_codes.CRITICAL if any(a.critical for a in self.accounts) else exit_codes.OK

    def to_json(self) -> dict[str, Any]:
        """The documented ``status --json`` object."""
        return {
            'command': 'status',
            'environment': self.environment,
            'store': self.store,
            'generated_at': self.zone.iso(self.generated_at),
            'timezone': self.zone.name,
            'kill_switch': self.kill_switch,
            'accounts': [account.to_json() for account in self.accounts],
            'streamer': self.streamer,
            'critical': any(a.critical for a in self.accounts),
            'exit_code': self.exit_code,
            'notes': self.notes,
        }


def _stops(orders: list[WorkingOrder], holding: Holding) -> list[dict[str, Any]]:
    rows = []
    for order in orders:
        if not order.order_type.is_stop:
            continue
        for leg in order.legs:
            if leg.symbol == holding.symbol and leg.action.value.endswith('to Close'):
                rows.append(
                    {
                        'order_id': order.id,
                        'trigger': _decimal(order.stop_trigger),
                        'limit': _decimal(order.price),
                        'quantity': _decimal(leg.remaining_quantity),
                        'owner': 'tastyguard' if order.is_ours else 'yours',
                    }
                )
    return rows


def _mark(quote: QuoteView | None) -> Decimal | None:
    if quote is None:
        return None
    if quote.mark or quote.last:
        return quote.mark or quote.last
    if quote.bid and quote.ask:
        return (quote.bid + quote.ask) / 2
    return None


def _coverage_now(cover: PositionCoverage | None) -> str:
    """How the position is covered at the broker right now (the plan's status is what it will be after)."""
    if cover is None:
        return 'not planned'
    if cover.status in (CoverageStatus.HANDS_OFF, CoverageStatus.ALERT_ONLY, CoverageStatus.SOFTWARE_STOP):
        return COVERAGE_WORDS[cover.status]
    if cover.unprotected_now == 0:
        return COVERAGE_WORDS[CoverageStatus.PROTECTED]
    if cover.protected_now > 0:
        return COVERAGE_WORDS[CoverageStatus.PARTIAL]
    return COVERAGE_WORDS[CoverageStatus.UNPROTECTED]


def _alerted_rows(symbol: str, kind: object, held: dict[str, Holding]) -> list[str]:
    """The position rows an alert belongs to: its symbol's, or for a structure's software stop (named by its
    underlying) the structure's option legs (not a stock of the same underlying)."""
    if kind is not AlertKind.SOFTWARE_STOP:
        return [symbol]
    own = held.get(symbol)
    if own is not None and own.instrument_type is InstrumentType.FUTURE_OPTION:
        return [symbol]
    legs = (h for h in held.values() if h.instrument_type is InstrumentType.EQUITY_OPTION)
    return [h.symbol for h in legs if h.underlying_symbol == symbol]


def _positions(ctx: JobContext, account: str, outcome: Outcome) -> list[PositionRow]:
    plan, read = plan_account(ctx, account, 'status', outcome)
    coverage: dict[str, PositionCoverage] = {cover.symbol: cover for cover in plan.coverage}
    alerts: dict[str, list[str]] = {}
    held = {holding.symbol: holding for holding in read.holdings}
    for action in plan.actions:
        severity = getattr(action, 'severity', None)
        kind = getattr(action, 'kind', None)
        if severity is None or kind is None or not action.symbol:
            continue
        text = f'{str(kind).replace("_", " ")} ({severity})'
        for symbol in _alerted_rows(action.symbol, kind, held):
            alerts.setdefault(symbol, []).append(text)
    rows = []
    for holding in sorted(read.holdings, key=lambda h: h.symbol):
        cover = coverage.get(holding.symbol)
        rows.append(
            PositionRow(
                symbol=holding.symbol,
                quantity=holding.quantity,
                mark=_mark(read.quotes.get(holding.symbol)),
                stops=_stops(read.working, holding),
                protected=None if cover is None else cover.protected_now,
                status=_coverage_now(cover),
                alerts=alerts.get(holding.symbol, []),
            )
        )
    return rows


def _account_status(
    stores: Stores, ctx: JobContext | None, config: TastyguardConfig, number: str, zone: Zone
) -> AccountStatus:
    entry = config.account(number)
    state = stores.state
    trip = CircuitBreaker(state, max_writes=1, window_seconds=60).tripped(number)
    last_runs: dict[str, dict[str, Any]] = {}
    for run in RunStore(state).recent(number, limit=100):
        if run.job not in last_runs:
            last_runs[run.job] = {
                'started_at': zone.iso(run.started_at),
                'status': run.status.value,
                'mode': run.mode,
                'run_id': run.run_id,
                'errors': run.errors,
            }
    alerts = [
        {'kind': r.kind, 'severity': r.severity, 'message': r.message, 'since': zone.iso(r.first_seen)}
        for r in sorted(AlertStateStore(state).all(number).values(), key=lambda r: r.first_seen)
        if r.open and r.kind != 'shadow'
    ]
    positions: list[PositionRow] | None = None
    critical = any(alert['severity'] == 'critical' for alert in alerts)
    if ctx is not None and entry.enabled:
        outcome = Outcome(mode=Mode.OBSERVE.value)
        positions = _positions(ctx, number, outcome)
        critical = critical or any(a.severity.value == 'critical' for a in outcome.alerts)
        critical = critical or any('(critical)' in text for row in positions for text in row.alerts)
    return AccountStatus(
        account=number,
        nickname=entry.nickname,
        mode=config.mode_for(entry).value,
        enabled=entry.enabled,
        breaker=None if trip is None else {'tripped_at': zone.iso(trip.tripped_at), 'reason': trip.reason},
        positions=positions,
        last_runs=last_runs,
        open_alerts=alerts,
        critical=critical,
    )


STREAMER_SILENT_AFTER = timedelta(minutes=2)
"""The streamer writes its health item every 30 s: four missed writes and it counts as silent."""


def _streamer(state: StateTable, zone: Zone, now: datetime) -> dict[str, Any] | None:
    """What the streamer last reported, and whether it still reports."""
    from tastyguard.store.streamer_health import read_health  # noqa: PLC0415 (only status reads it)

    record = read_health(state)
    if record is None:
        return None
    age = max(0.0, (now - record.updated_at).total_seconds())
    reporting = age <= STREAMER_SILENT_AFTER.total_seconds()
    return {
        'healthy': record.healthy and reporting,
        'reporting': reporting,
        'updated_at': zone.iso(record.updated_at),
        'age_seconds': round(age),
        'symbols': record.symbols,
        'accounts_held': len(record.held),  # held without a break: quiet ones are left out of most sweeps
        'sockets': {name: {k: _plain(v) for k, v in socket.items()} for name, socket in record.sockets.items()},
        'detail': record.detail,
        'owner': record.owner,
    }


def _plain(value: Any) -> Any:
    """A stored number as JSON has it (DynamoDB gives every number back as a Decimal)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _streamer_line(streamer: dict[str, Any] | None, zone: Zone) -> str:
    if streamer is None:
        return 'streamer: [dim]no report (not deployed, or it never ran)[/]'
    since = f'last report {zone.short(streamer["updated_at"])} ({streamer["age_seconds"]} s ago)'
    if not streamer['reporting']:
        return f'[bold red]streamer SILENT[/]: {since}; fills are protected only by the scheduled sweeps'
    sockets = ', '.join(
        f'{name} {"connected" if socket.get("connected") else "[bold red]down[/]"}'
        for name, socket in sorted(streamer['sockets'].items())
    )
    if not streamer['healthy']:
        detail = f': {escape(streamer["detail"])}' if streamer['detail'] else ''
        return f'[yellow]streamer unhealthy[/]{detail} · {sockets} · {since}'
    held = f' · holds {streamer["accounts_held"]} accounts' if streamer['accounts_held'] else ''
    return f'streamer: healthy · {sockets} · {streamer["symbols"]} symbols{held} · {since}'


def collect(request: Request, zone: Zone, now: Callable[[], datetime]) -> Status:
    """Read everything the status shows."""
    target = resolve_target(
        request.config, explicit=request.explicit_config, api_url=request.api_url, streamer_url=request.streamer_url
    )
    with read_only(target, request.store, request.secret, need_credentials=False) as where:
        notes: list[str] = []
        client = None
        config = target.config
        if where.credentials is not None:
            client = connect(target, where.credentials, where.session)
            config = settle_config(target, preflight(client, target, where.credentials), None)
        else:
            notes.append(f'positions not read: {where.credentials_problem}')
        if config is None:  # a paper broker without credentials and without a file: nothing to show
            from tastyguard.cli.errors import CliError  # noqa: PLC0415

            raise CliError(str(where.credentials_problem))
        wanted = select_account(config, request.account)
        session = where.session
        stores = Stores.on(session.state, session.client('ssm'), config, session.kill_switch_parameter)
        ctx = None if client is None else job_context(config, client, session, MemoryNotifier())
        if ctx is not None:
            ctx.mode_override = Mode.OBSERVE
        switch = stores.kill_switch.read()
        kill = {
            'engaged': switch.engaged or config.safety.kill_switch,
            'reason': switch.reason if switch.engaged else ('safety.kill_switch' if config.safety.kill_switch else ''),
            'changed_by': switch.changed_by or None,
            'changed_at': None if switch.changed_at is None else zone.iso(switch.changed_at),
        }
        accounts = [
            _account_status(stores, ctx, config, entry.account_number, zone)
            for entry in config.accounts
            if wanted is None or entry.account_number == wanted
        ]
        generated = now()
        streamer = _streamer(session.state, zone, generated)
        return Status(
            where.store,
            where.description,
            target.environment.name.value,
            zone,
            generated,
            kill,
            accounts,
            notes,
            streamer,
        )


def _stop_text(stop: dict[str, Any]) -> str:
    limit = f' limit {stop["limit"]}' if stop['limit'] else ''
    return f'{stop["trigger"]}{limit} ×{stop["quantity"]} ({stop["owner"]})'


_STATUS_STYLE = {'protected': 'green', 'partly protected': 'yellow', 'unprotected': 'bold red', 'hands-off': 'dim'}


def _runs_line(account: AccountStatus, zone: Zone) -> str:
    parts = []
    for job in JOBS:
        run = account.last_runs.get(job)
        if run is None:
            parts.append(f'{job.replace("_", " ")}: never')
        else:
            style = '' if run['status'] == 'ok' else 'bold red'
            status = f'[{style}]{run["status"]}[/]' if style else run['status']
            parts.append(f'{job.replace("_", " ")}: {zone.short(run["started_at"])} {status}')
    return ' · '.join(parts)


def render(status: Status) -> Group:
    """The status for people."""
    zone = status.zone
    parts: list[Any] = [
        f'[bold]tastyguard status[/] · {status.environment} · {zone.short(zone.iso(status.generated_at))} '
        f'(times in {zone.name})',
        f'[dim]{escape(status.store_description)}[/]',
    ]
    kill = status.kill_switch
    if kill['engaged']:
        parts.append(f'[bold red]kill switch ENGAGED[/]: {escape(kill["reason"] or "no reason given")}')
    else:
        parts.append('kill switch: off')
    parts.append(_streamer_line(status.streamer, zone))
    for account in status.accounts:
        trip = account.breaker
        breaker = (
            f'[bold red]breaker TRIPPED[/] {zone.short(trip["tripped_at"])}: {escape(trip["reason"])}'
            if trip
            else 'breaker closed'
        )
        name = f' {escape(account.nickname)}' if account.nickname else ''
        enabled = '' if account.enabled else ' · [dim]disabled[/]'
        parts.append('')
        parts.append(f'[bold]{account.account}[/]{name} · mode {account.mode}{enabled} · {breaker}')
        if account.positions is not None:
            table = Table(show_edge=False, pad_edge=False)
            for column, justify in (('symbol', 'left'), ('qty', 'right'), ('mark', 'right'), ('stops', 'left'),
                                    ('cover', 'right'), ('status', 'left')):  # fmt: skip
                table.add_column(column, justify=justify, overflow='fold')  # type: ignore[arg-type]
            for row in account.positions:
                style = _STATUS_STYLE.get(row.status, '')
                status_text = f'[{style}]{row.status}[/]' if style else row.status
                if row.alerts:
                    status_text += '\n' + escape(', '.join(row.alerts))
                table.add_row(
                    escape(row.symbol),
                    _decimal(row.quantity) or '',
                    _decimal(row.mark) or '-',
                    '\n'.join(escape(_stop_text(stop)) for stop in row.stops) or '-',
                    '-' if row.protected is None else f'{_decimal(row.protected)}/{_decimal(abs(row.quantity))}',
                    status_text,
                )
            parts.append(table if account.positions else '[dim]no positions[/]')
        parts.append(f'[dim]last runs:[/] {_runs_line(account, zone)}')
        for alert in account.open_alerts:
            style = {'critical': 'bold red', 'warning': 'yellow'}.get(alert['severity'], 'dim')
            parts.append(f'  [{style}]{alert["severity"]}[/] {escape(alert["message"])}')
    for note in status.notes:
        parts.append(f'[dim]note:[/] {escape(note)}')
    if status.exit_code == exit_codes.CRITICAL:
        parts.append('[bold red]critical alerts present[/] (exit status 3)')
    return Group(*parts)


def show(request: Request, zone: Zone, *, watch: float | None, now: Callable[[], datetime]) -> int:
    """Print the status once (or every ``watch`` seconds until interrupted); returns the exit code."""
    if watch is None:
        status = collect(request, zone, now)
        if request.as_json:
            echo_json(status.to_json())
        else:
            Console().print(render(status))
        return status.exit_code
    return watch_loop(lambda: collect(request, zone, now), interval=watch, console=Console())


def watch_loop(
    read: Callable[[], Status],
    *,
    interval: float,
    console: Console,
    wait: Callable[[float], bool] | None = None,
    rounds: int | None = None,
) -> int:
    """Refresh the status every ``interval`` seconds (``wait`` returns True to stop; Ctrl-C stops too)."""
    waiter = wait or threading.Event().wait
    code = exit_codes.OK
    done = 0
    try:
        while True:
            status = read()
            code = status.exit_code
            console.clear()
            console.print(render(status))
            console.print(f'[dim]refreshing every {interval:g} s · Ctrl-C to stop[/]')
            done += 1
            if (rounds is not None and done >= rounds) or waiter(interval):
                return code
    except KeyboardInterrupt:
        return code
