"""``tastyguard demo``: the whole product on this machine — a paper broker and an embedded AWS.

Nothing leaves the machine: the paper broker listens on loopback and AWS is an in-process moto, even if
this machine has AWS credentials configured.
"""

from __future__ import annotations

import os
import time
from typing import Any

import typer
from rich.console import Console
from rich.rule import Rule
from rich.table import Table

from tastyguard.cli.render import ConsoleNotifier, print_result
from tastyguard.config.loader import parse_config
from tastyguard.config.models import Mode
from tastyguard.jobs.invocation import JobInvocation, JobName
from tastyguard.jobs.registry import run
from tastyguard.jobs.results import AccountRunResult
from tastyguard.jobs.wiring import build_context

STEPS = 7


def _positions_table(state: dict[str, Any]) -> Table:
    table = Table(title='The paper broker\'s accounts (scenario "demo")', title_justify='left', expand=True)
    for column in ('account', 'position', 'qty', 'avg open', 'working orders on it'):
        table.add_column(column)
    for account in state['accounts']:
        number = account['account']['account-number'] if isinstance(account['account'], dict) else account['account']
        orders = [o for o in account['orders'] if o['status'] in ('Live', 'Received', 'Routed', 'Contingent')]
        symbols = {p['symbol'] for p in account['positions']} | {o['legs'][0]['symbol'] for o in orders}
        for symbol in sorted(symbols):
            position = next((p for p in account['positions'] if p['symbol'] == symbol), None)
            qty = (
                '-'
                if position is None
                else f'{"-" if position["quantity-direction"] == "Short" else ""}{position["quantity"]}'
            )
            on_it = [
                f'{o["order-type"]} {o["legs"][0]["action"]} {o["legs"][0]["quantity"]}'
                + (f' @ {o["stop-trigger"]}' if o.get('stop-trigger') else f' @ {o.get("price", "")}')
                + (' (tastyguard)' if str(o.get('external-identifier') or '').startswith('tg-') else ' (yours)')
                for o in orders
                if o['legs'][0]['symbol'] == symbol
            ]
            table.add_row(
                number, symbol, qty, '' if position is None else position['average-open-price'], '\n'.join(on_it)
            )
    return table


def _step(console: Console, number: int, title: str, text: str) -> None:
    console.print()
    console.print(Rule(f'[bold]{number}/{STEPS} · {title}'))
    console.print(text)


def _run(ctx: Any, console: Console, job: JobName, mode: Mode, *, reports: bool = False) -> list[AccountRunResult]:
    ctx.mode_override = mode
    results = run(ctx, JobInvocation(job=job, force=True))
    for result in results:
        print_result(console, result, reports=reports)
    return results


def demo() -> None:
    """Run the demo: a paper broker plus an embedded AWS; no tastytrade or AWS account needed."""
    from moto import mock_aws  # noqa: PLC0415 - the CLI's other commands do not pay for moto

    from paperbroker.server import PaperBroker  # noqa: PLC0415
    from tastyguard.broker import Environment, OAuthCredentials, RateLimits, TastytradeClient  # noqa: PLC0415
    from tastyguard.store.schema import create_tables  # noqa: PLC0415
    from tastyguard.store.table import StateTable  # noqa: PLC0415

    console = Console()
    started = time.monotonic()
    console.print(Rule('[bold]tastyguard demo'))
    console.print(
        'A local paper broker that speaks the tastytrade API and an embedded AWS (moto) run inside this process.\n'
        'Nothing leaves this machine; no tastytrade or AWS account is used, whatever this machine has configured.'
    )
    for key in ('AWS_PROFILE', 'AWS_ENDPOINT_URL'):
        os.environ.pop(key, None)
    os.environ.update({'AWS_ACCESS_KEY_ID': 'demo', 'AWS_SECRET_ACCESS_KEY': 'demo', 'AWS_DEFAULT_REGION': 'us-east-1'})
    with mock_aws(), PaperBroker('demo') as broker:
        import boto3  # noqa: PLC0415

        create_tables(boto3.client('dynamodb'))
        notifier = ConsoleNotifier(console)
        client = TastytradeClient(
            Environment.paper(broker.api_url, broker.account_streamer_url),
            OAuthCredentials.model_validate(
                {'client_secret': broker.client_secret, 'refresh_token': broker.refresh_token}
            ),
            rate_limits=RateLimits.disabled(),
        )
        config = parse_config(
            {
                'environment': 'paper',
                'mode': 'shadow',
                'accounts': [
                    {'account_number': '5WT00001', 'nickname': 'Individual'},
                    {'account_number': '5WT00002', 'nickname': 'Roth IRA'},
                ],
                'notifications': {'min_severity': 'warning'},
            }
        )
        ctx = build_context(config=config, broker=client, state=StateTable(), notifier=notifier, owner='cli:demo')
        console.print(f'[dim]paper broker at {broker.api_url} · DynamoDB, SSM and SNS in-process[/]')
        console.print(_positions_table(broker.admin.state()))

        _step(
            console,
            1,
            'plan (observe mode)',
            'What would tastyguard do? `tastyguard plan` reads and plans; it sends nothing.',
        )
        _run(ctx, console, JobName.ENSURE_STOPS, Mode.OBSERVE, reports=True)

        _step(
            console, 2, 'shadow mode (the default)',
            'Every intended order is dry-run at the broker (/orders/dry-run) and reported; nothing is submitted.',
        )  # fmt: skip
        _run(ctx, console, JobName.ENSURE_STOPS, Mode.SHADOW)

        _step(
            console, 3, 'live mode', 'Now the stops are submitted, stale and duplicate stops of tastyguard cancelled.'
        )
        _run(ctx, console, JobName.ENSURE_STOPS, Mode.LIVE)
        console.print(_positions_table(broker.admin.state()))

        _step(console, 4, 'again', 'A second run finds every protectable position protected and does nothing.')
        again = _run(ctx, console, JobName.ENSURE_STOPS, Mode.LIVE)
        writes = sum(1 for r in again for a in r.actions if a.kind in ('place', 'replace', 'cancel'))
        console.print(f'[green]{writes} order writes on the second run.[/]')

        _step(console, 5, 'the market moves', 'AAPL falls to 150: its stop at 160.65 triggers and fills at the broker.')
        broker.admin.set_quotes([{'symbol': 'AAPL', 'bid': '150.00', 'ask': '150.05', 'last': '150.02'}])
        _run(ctx, console, JobName.RECONCILE_ORDERS, Mode.LIVE)
        _run(ctx, console, JobName.SYNC_POSITIONS, Mode.LIVE)

        _step(console, 6, 'the daily digest', 'Positions, coverage, money at risk without a stop, what waits for you.')
        _run(ctx, console, JobName.DIGEST, Mode.LIVE)

        _step(console, 7, 'next', 'Try it yourself:')
        console.print(
            '  tastyguard paper serve                      # a paper broker; prints its URL and credentials\n'
            '  export TASTYTRADE_CLIENT_SECRET=... TASTYTRADE_REFRESH_TOKEN=...\n'
            '  tastyguard plan --api-url http://127.0.0.1:<port>\n'
            '  tastyguard run ensure-stops --mode live --api-url http://127.0.0.1:<port> --json\n'
            '  tastyguard config check tastyguard.example.yaml\n'
            '  docs/operations.md                          # deploy to your AWS account with cdk deploy'
        )
        console.print(f'[dim]demo finished in {time.monotonic() - started:.1f} s[/]')
    raise typer.Exit(0)
