"""``history``: run records of one account, read from the chosen store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tastyguard.cli.errors import echo_json
from tastyguard.cli.runtime import load_config_file, select_account
from tastyguard.cli.stores import choose_store, open_store
from tastyguard.cli.timezones import Zone
from tastyguard.jobs.results import result_words
from tastyguard.store.runs import RunRecord, RunStore


def _action_line(action: dict[str, Any]) -> str:
    """``place AAPL Sell to Close 100 Stop @ 160.65 → placed (order 100008)``."""
    parts = [str(action.get('kind')), str(action.get('symbol') or '')]
    if action.get('action'):
        parts.append(str(action['action']))
    if action.get('quantity') is not None:
        parts.append(str(action['quantity']))
    if action.get('order_type'):
        parts.append(str(action['order_type']))
    if action.get('stop_trigger') is not None:
        parts.append(f'@ {action["stop_trigger"]}')
    if action.get('limit_price') is not None:
        parts.append(f'limit {action["limit_price"]}')
    text = ' '.join(part for part in parts if part)
    text += f' → {result_words(str(action.get("result")))}'
    if action.get('order_id'):
        text += f' (order {action["order_id"]})'
    if action.get('detail'):
        text += f': {action["detail"]}'
    return text


def _run_json(run: RunRecord, zone: Zone) -> dict[str, Any]:
    return {
        'run_id': run.run_id,
        'job': run.job,
        'mode': run.mode,
        'environment': run.environment,
        'status': run.status.value,
        'started_at': zone.iso(run.started_at),
        'finished_at': None if run.finished_at is None else zone.iso(run.finished_at),
        'summary': run.summary,
        'actions': [
            {
                'kind': a.get('kind'),
                'symbol': a.get('symbol'),
                'action': a.get('action'),
                'order_type': a.get('order_type'),
                'quantity': a.get('quantity'),
                'stop_trigger': a.get('stop_trigger'),
                'limit_price': a.get('limit_price'),
                'result': a.get('result'),
                'order_id': a.get('order_id'),
                'external_identifier': a.get('external_identifier'),
                'detail': a.get('detail'),
            }
            for a in run.actions
            if a.get('kind') != 'report'
        ],
        'errors': run.errors,
    }


def show(
    account: str, limit: int, config_path: Path, *, explicit: bool, store: str | None, zone: Zone, as_json: bool
) -> None:
    """Print the newest ``limit`` runs of ``account``."""
    config = load_config_file(config_path, explicit=explicit)
    number = (select_account(config, account) if config is not None else None) or account.strip().upper()
    choice = choose_store(store, default=None, why_explicit=' to read the history from')
    with open_store(choice) as session:
        runs = RunStore(session.state).recent(number, limit=limit)
        if as_json:
            echo_json(
                {
                    'command': 'history',
                    'account': number,
                    'store': session.as_json(),
                    'timezone': zone.name,
                    'runs': [_run_json(run, zone) for run in runs],
                }
            )
            return
        console = Console()
        console.print(f'[dim]{escape(session.describe())}[/]')
        table = Table(title=f'runs of {number} (times in {zone.name})', title_justify='left', show_edge=False)
        for column in ('started', 'job', 'mode', 'status', 'what it did'):
            table.add_column(column, overflow='fold')
        for run in runs:
            done = [_action_line(a) for a in run.actions if a.get('kind') in ('place', 'replace', 'cancel')]
            alerts = sum(1 for a in run.actions if a.get('kind') == 'alert')
            if alerts:
                done.append(f'{alerts} alert{"s" if alerts > 1 else ""}')
            done.extend(f'error: {error}' for error in run.errors)
            table.add_row(
                zone.short(run.started_at), run.job.replace('_', ' '), run.mode, run.status.value,
                escape('\n'.join(done) or '-'),
            )  # fmt: skip
        console.print(table if runs else f'no runs of {number} in this store')
