"""Rich output for job results and messages, written for people at 80 columns: results in words, the symbol
and the order once per row, and a reason only where it adds something."""

from __future__ import annotations

import re
from collections.abc import Iterable

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from tastyguard.jobs.results import AccountRunResult, ActionResult, result_words
from tastyguard.notify.notice import Notice
from tastyguard.notify.render import email_body

_RESULT_STYLE = {
    'placed': 'green',
    'replaced': 'green',
    'cancelled': 'green',
    'already_sent': 'green',
    'dry_run_ok': 'cyan',
    'would_cancel': 'cyan',
    'planned': 'cyan',
    'left alone': 'dim',
    'deferred': 'yellow',
    'cancel_pending': 'yellow',
    'filled': 'yellow',
    'blocked': 'red',
    'rejected': 'red',
    'ambiguous': 'red',
    'invalid': 'red',
    'dry_run_rejected': 'red',
    'not_cancelled': 'red',
}
_SEVERITY_STYLE = {'critical': 'bold red', 'warning': 'yellow', 'info': 'dim'}
_WRITES = ('place', 'replace', 'cancel')


def _price(value: object) -> str:
    return format(value, 'f') if value is not None else ''


def action_text(row: ActionResult) -> str:
    """``place 100 @ 160.65``, ``resize #7: 50 @ 160.65``, ``cancel #7``, ``alert``, ``yours #7``."""
    limit = f' limit {_price(row.limit_price)}' if row.limit_price is not None else ''
    size = f'{_price(row.quantity)} @ {_price(row.stop_trigger)}{limit}' if row.stop_trigger is not None else ''
    if row.kind == 'place':
        return f'place {size}'.strip()
    if row.kind == 'replace':
        return f'resize #{row.order_id}: {size}'
    if row.kind == 'cancel':
        return f'cancel #{row.order_id}' if row.order_id else 'cancel'
    if row.kind == 'report':
        return f'yours #{row.order_id}' if row.order_id else 'yours'
    return row.kind


def result_text(row: ActionResult) -> str:
    """The outcome in words, styled (alerts by severity)."""
    if row.kind == 'alert':
        severity = row.severity or 'warning'
        return f'[{_SEVERITY_STYLE.get(severity, "")}]{severity}[/]'
    words = escape(result_words(row.result))
    if row.order_id and row.kind == 'place' and row.result in ('placed', 'already_sent'):
        words += f' #{row.order_id}'
    style = _RESULT_STYLE.get(row.result)
    return f'[{style}]{words}[/]' if style else words


def short_reason(row: ActionResult) -> str:
    """The planner's reason without what the other columns already show (the symbol, the order it places)."""
    text = row.detail or row.reason
    if row.symbol:
        text = re.sub(rf'^{re.escape(row.symbol)}( (long|short) [\d.]+)?: ', '', text)
    text = re.sub(r'; placing .+? @ [\d.]+(?: limit [\d.]+)? \(', ' (', text)
    text = re.sub(r'; cancelling our #\d+ .*$', '', text)
    text = re.sub(r' \[(Live|Received|Routed|Contingent)\]', '', text)
    if row.kind == 'report':
        text = re.sub(r"^#\d+ .+? is a person's order, ", '', text)
        text = re.sub(r'; left alone$', '', text)
    return text


def result_table(result: AccountRunResult, *, why: bool, reports: bool = True) -> Table:
    """One account's actions: symbol, action, result (and why)."""
    table = Table(title=_heading(result), title_justify='left', show_edge=False, pad_edge=False)
    table.add_column('symbol', overflow='fold')
    table.add_column('action', overflow='fold')
    table.add_column('result')
    if why:
        table.add_column('why', overflow='fold', ratio=1)
    for row in result.actions:
        if row.kind == 'report' and not reports:
            continue
        cells = [escape(row.symbol or ''), escape(action_text(row)), result_text(row)]
        if why:
            cells.append(escape(short_reason(row)))
        table.add_row(*cells)
    return table


def _heading(result: AccountRunResult) -> str:
    status = '' if result.status == 'ok' else f' · [bold red]{result.status}[/]'
    return f'[bold]{result.account}[/] · {result.job.replace("_", " ")} · {result.environment}/{result.mode}{status}'


def summary_line(result: AccountRunResult, *, reports_shown: bool) -> str:
    """Coverage (when the job established it), what was left alone, calls and time."""
    parts: list[str] = []
    if result.positions is not None:
        if result.protected is not None and result.unprotected is not None:
            parts.append(
                f'{result.positions} positions · {result.protected} protected · '
                f'{result.unprotected} without a full stop'
            )
            if result.unprotected and result.money_at_risk is not None:
                parts.append(f'{result.money_at_risk:,.2f} at risk')
        else:
            parts.append(f'{result.positions} positions')
    left_alone = sum(1 for row in result.actions if row.kind == 'report')
    if left_alone and not reports_shown:
        parts.append(f'{left_alone} of your orders seen and left alone')
    parts.append(f'{result.api_calls} API calls · {result.duration_ms} ms')
    return ' · '.join(parts)


def print_result(console: Console, result: AccountRunResult, *, why: bool = False, table: bool = True) -> None:
    """A result: its table (if it did anything), one summary line, then events, notes and errors."""
    shown = [row for row in result.actions if why or row.kind != 'report']
    if table and shown:
        console.print(result_table(result, why=why, reports=why))
    else:
        console.print(_heading(result))
    console.print(f'[dim]{escape(summary_line(result, reports_shown=why and table))}[/]')
    print_details(console, result)


def print_details(console: Console, result: AccountRunResult) -> None:
    """Events, notes and errors of a result, one line each."""
    for event in result.events:
        console.print(f'  [cyan]event:[/] {escape(event)}')
    for note in result.notes:
        console.print(f'  [dim]note:[/] {escape(note)}')
    for error in result.errors:
        console.print(f'  [red]error:[/] {escape(error)}')


def writes(results: Iterable[AccountRunResult]) -> int:
    """How many order writes the broker accepted in ``results``."""
    return sum(
        1 for r in results for a in r.actions if a.kind in _WRITES and a.result in ('placed', 'replaced', 'cancelled')
    )


def notice_panel(notice: Notice) -> Panel:
    """A message as the email would show it."""
    color = {'info': 'green', 'warning': 'yellow', 'critical': 'red'}[notice.severity.value]
    return Panel(Text(email_body(notice)), title=f'message · {notice.severity.value}', border_style=color)


class ConsoleNotifier:
    """Prints every notice (what the email would say) instead of sending it."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.sent: list[Notice] = []

    def publish(self, notice: Notice) -> None:
        """Show ``notice`` in a panel."""
        self.sent.append(notice)
        self.console.print(notice_panel(notice))
