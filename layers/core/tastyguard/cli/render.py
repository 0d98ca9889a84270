"""Rich output for job results and notices."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from tastyguard.jobs.results import AccountRunResult
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
    'raised': 'yellow',
    'left alone': 'dim',
    'deferred': 'yellow',
    'blocked': 'red',
    'rejected': 'red',
    'ambiguous': 'red',
    'invalid': 'red',
    'dry_run_rejected': 'red',
}


def result_table(result: AccountRunResult, *, reports: bool) -> Table:
    """One account's actions as a table (a person's orders that were left alone only with ``reports``)."""
    table = Table(
        title=f'{result.job} · {result.account} · {result.environment}/{result.mode} · {result.status}',
        title_justify='left',
        expand=True,
    )
    for column, style in (
        ('kind', 'bold'),
        ('symbol', ''),
        ('qty', 'right'),
        ('stop', 'right'),
        ('result', ''),
        ('why', ''),
    ):
        table.add_column(
            column, justify='right' if style == 'right' else 'left', style='bold' if style == 'bold' else None
        )
    for row in result.actions:
        style = _RESULT_STYLE.get(row.result, '')
        result_text = f'[{style}]{row.result}[/]' if style else row.result
        if row.order_id and row.kind != 'report':
            result_text += f' #{row.order_id}'
        table.add_row(
            row.kind,
            escape(row.symbol or ''),
            '' if row.quantity is None else str(row.quantity),
            '' if row.stop_trigger is None else str(row.stop_trigger),
            result_text,
            escape(row.detail or row.reason),
        )
    return table


def print_result(console: Console, result: AccountRunResult, *, reports: bool = False) -> None:
    """Table plus a one-line summary, notes and errors."""
    shown = [row for row in result.actions if reports or row.kind != 'report']
    if shown:
        console.print(result_table(result, reports=reports))
    else:
        console.print(
            f'[bold]{result.job} · {result.account}[/] · {result.environment}/{result.mode} · {result.status}'
        )
    parts = []
    if result.job in ('ensure_stops', 'digest') or (result.job == 'reconcile_orders' and result.positions):
        parts.append(
            f'{result.positions} positions · {result.protected} protected · {result.unprotected} without a full stop'
        )
        if result.unprotected:
            parts.append(f'{result.money_at_risk:,.2f} at risk')
    elif result.job == 'sync_positions':
        parts.append(f'{result.positions} positions')
    left_alone = sum(1 for row in result.actions if row.kind == 'report')
    if left_alone and not reports:
        parts.append(f'{left_alone} of your orders seen and left alone')
    parts.append(f'{result.api_calls} API calls · {result.duration_ms} ms')
    console.print(f'[dim]{escape(" · ".join(parts))}[/]')
    for event in result.events:
        console.print(f'  [cyan]event:[/] {escape(event)}')
    for note in result.notes:
        console.print(f'  [dim]note:[/] {escape(note)}')
    for error in result.errors:
        console.print(f'  [red]error:[/] {escape(error)}')


class ConsoleNotifier:
    """Prints every notice (what the email would say) instead of sending it."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.sent: list[Notice] = []

    def publish(self, notice: Notice) -> None:
        """Show ``notice`` in a panel."""
        self.sent.append(notice)
        color = {'info': 'green', 'warning': 'yellow', 'critical': 'red'}[notice.severity.value]
        self.console.print(
            Panel(Text(email_body(notice)), title=f'message · {notice.severity.value}', border_style=color)
        )
