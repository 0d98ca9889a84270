"""The demo: the whole product on this machine, a paper broker and an embedded AWS.

Nothing leaves the machine: the paper broker listens on loopback and AWS is an in-process moto, whatever AWS
configuration this machine has. Written to read well at 80 columns: a table where a table says more (the plan,
the broker's orders), otherwise the message a person would receive and one line per account.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.rule import Rule
from rich.table import Table

from tastyguard.cli.demo_fast_path import BackgroundStreamer, FastPathOutcome, protected_after_buying
from tastyguard.cli.render import ConsoleNotifier, print_result, writes
from tastyguard.cli.stores import embedded_aws
from tastyguard.config.loader import parse_config
from tastyguard.config.models import Mode
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.invocation import JobInvocation, JobName
from tastyguard.jobs.registry import run
from tastyguard.jobs.results import AccountRunResult
from tastyguard.jobs.wiring import build_context
from tastyguard.store.table import StateTable

STEPS = 8
WORKING = ('Live', 'Received', 'Routed', 'Contingent')
NEXT_STEPS = """\
  ./tastyguard paper serve --port 8650 --client-secret paper-secret --refresh-token paper-token &
  export TASTYGUARD_API_URL=http://127.0.0.1:8650
  export TASTYTRADE_CLIENT_SECRET=paper-secret TASTYTRADE_REFRESH_TOKEN=paper-token
  ./tastyguard plan                         # what it would do; sends and writes nothing
  ./tastyguard run ensure-stops --mode live # place the stops at the paper broker
  ./tastyguard status                       # every position, its stops and coverage
  ./tastyguard config check tastyguard.example.yaml
  docs/deploy.md                            # your own AWS account, step by step"""


def _order_text(order: dict[str, Any]) -> str:
    leg = order['legs'][0]
    action = '' if leg['action'].endswith('to Close') else f' {leg["action"]}'
    price = order.get('stop-trigger') or order.get('price', '')
    owner = 'tastyguard' if str(order.get('external-identifier') or '').startswith('tg-') else 'yours'
    return f'{order["order-type"]}{action} {leg["quantity"]} @ {price} ({owner})'


def positions_table(state: dict[str, Any]) -> Table:
    """The paper broker's positions and the working orders on each."""
    table = Table(title="The paper broker's accounts", title_justify='left', show_edge=False, pad_edge=False)
    for column, justify in (('account', 'left'), ('position', 'left'), ('qty', 'right'), ('orders on it', 'left')):
        table.add_column(column, justify=justify, overflow='fold')  # type: ignore[arg-type]
    for entry in state['accounts']:
        account = entry['account']
        number = account['account-number'] if isinstance(account, dict) else account
        orders = [o for o in entry['orders'] if o['status'] in WORKING]
        symbols = {p['symbol'] for p in entry['positions']} | {o['legs'][0]['symbol'] for o in orders}
        for symbol in sorted(symbols):
            position = next((p for p in entry['positions'] if p['symbol'] == symbol), None)
            qty = (
                '-'
                if position is None
                else ('-' if position['quantity-direction'] == 'Short' else '') + position['quantity']
            )
            on_it = [_order_text(o) for o in orders if o['legs'][0]['symbol'] == symbol]
            table.add_row(number, escape(symbol), qty, escape('\n'.join(on_it)))
    return table


def _step(console: Console, number: int, title: str, text: str) -> None:
    console.print()
    console.print(Rule(f'[bold]{number}/{STEPS} · {title}'))
    console.print(text)


def _run(ctx: JobContext, console: Console, job: JobName, mode: Mode, *, table: bool = False) -> list[AccountRunResult]:
    ctx.mode_override = mode
    results = run(ctx, JobInvocation(job=job, force=True))
    STORY.extend(results)
    for result in results:
        print_result(console, result, why=table, table=table)
    return results


STORY: list[AccountRunResult] = []  # every run of the story, for --json


def demo(*, as_json: bool = False) -> int:
    """Run the demo (see the module docstring); 0 when the story ran and every protectable position ended
    protected (every one that is not has an alert that says why)."""
    from paperbroker.server import PaperBroker  # noqa: PLC0415 - only the demo and `paper serve` pay for it
    from tastyguard.broker import Environment, OAuthCredentials, RateLimits, TastytradeClient  # noqa: PLC0415

    console = Console(quiet=as_json)
    STORY.clear()
    started = time.monotonic()
    console.print(Rule('[bold]tastyguard demo'))
    console.print(
        'A paper broker that speaks the tastytrade API and an embedded AWS run inside this process. Nothing '
        'leaves this machine, whatever AWS or tastytrade account it has configured.'
    )
    with embedded_aws(), PaperBroker('demo') as broker:
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
                'streamer': {'catch_up_on_reconnect': False},  # the story's own runs have just protected everything
            }
        )
        notifier = ConsoleNotifier(console)
        ctx = build_context(config=config, broker=client, state=StateTable(), notifier=notifier, owner='cli:demo')
        console.print(f'[dim]paper broker at {broker.api_url}[/]')
        console.print(positions_table(broker.admin.state()))

        _step(
            console,
            1,
            'plan (observe mode)',
            'What would tastyguard do? `./tastyguard plan` reads and plans; it sends nothing.',
        )
        notifier.console = Console(quiet=True)  # the plan's messages are the same as step 2's; show them there
        _run(ctx, console, JobName.ENSURE_STOPS, Mode.OBSERVE, table=True)
        notifier.console = console

        _step(
            console, 2, 'shadow mode (the default)',
            'Every intended order is dry-run at the broker and reported; nothing is submitted. The message:',
        )  # fmt: skip
        _run(ctx, console, JobName.ENSURE_STOPS, Mode.SHADOW)

        _step(console, 3, 'live mode', 'The stops are submitted; stale and duplicate stops of tastyguard cancelled.')
        _run(ctx, console, JobName.ENSURE_STOPS, Mode.LIVE)
        console.print(positions_table(broker.admin.state()))

        _step(console, 4, 'again', 'A second run finds every protectable position protected and does nothing.')
        again = _run(ctx, console, JobName.ENSURE_STOPS, Mode.LIVE)
        console.print(f'[green]{writes(again)} order writes on the second run.[/]')

        _step(
            console, 5, 'the fast path',
            'The streamer holds the account streamer and DXLink. You buy 100 DIS in your own app; it protects '
            'the new position at once, with no scheduled run:',
        )  # fmt: skip
        broker.admin.set_quotes([{'symbol': 'DIS', 'bid': '95.00', 'ask': '95.04', 'last': '95.02'}])
        with BackgroundStreamer(ctx, client, ['5WT00001', '5WT00002']):
            fast = protected_after_buying(broker, '5WT00001', 'DIS', 100)
        if fast.stop is not None and fast.milliseconds is not None:
            trigger = fast.stop.get('stop-trigger')
            console.print(
                f'[green]DIS protected {fast.milliseconds:.0f} ms after the fill: Sell to Close 100 Stop @ {trigger}[/]'
            )
        else:
            console.print('[red]the streamer did not protect DIS within 10 s[/]')

        _step(console, 6, 'the market moves', 'AAPL falls to 150: its stop at 160.65 triggers and fills at the broker.')
        broker.admin.set_quotes([{'symbol': 'AAPL', 'bid': '150.00', 'ask': '150.05', 'last': '150.02'}])
        _run(ctx, console, JobName.RECONCILE_ORDERS, Mode.LIVE)
        _run(ctx, console, JobName.SYNC_POSITIONS, Mode.LIVE)

        _step(console, 7, 'the daily digest', 'Positions, coverage, money at risk without a stop, what waits for you.')
        _run(ctx, console, JobName.DIGEST, Mode.LIVE)

        final = _final(ctx)
        _step(console, 8, 'next', 'Try it yourself (from this folder):')
        console.print(escape(NEXT_STEPS), soft_wrap=True)
        console.print(f'[dim]demo finished in {time.monotonic() - started:.1f} s[/]')
        summary = demo_summary(broker.admin.state(), final, notifier.sent, fast)
    if as_json:
        sys.stdout.write(json.dumps(summary, default=str) + '\n')
    return 0 if summary['ok'] else 1


def _final(ctx: JobContext) -> list[AccountRunResult]:
    """A last, quiet look (observe mode): what is protected, and why the rest is not."""
    ctx.mode_override = Mode.OBSERVE
    return run(ctx, JobInvocation(job=JobName.ENSURE_STOPS, force=True))


_NOT_PROTECTED = frozenset(
    {'breached', 'unprotectable', 'no_quote', 'software_stop', 'futures_option', 'spread', 'alert_only',
     'blocked_by_human_orders', 'human_cancelled', 'stop_triggering', 'expiring'}
)  # fmt: skip
"""Alerts that say why a position has no full broker stop."""


def demo_summary(
    state: dict[str, Any], final: list[AccountRunResult], sent: list[Any], fast: FastPathOutcome
) -> dict[str, Any]:
    """The ``--json`` object: the final state, what happened, and whether the story succeeded."""
    positions = [
        {
            'account': entry['account']['account-number'],
            'symbol': p['symbol'],
            'quantity': ('-' if p['quantity-direction'] == 'Short' else '') + str(p['quantity']),
        }
        for entry in state['accounts']
        for p in entry['positions']
    ]
    placeable = [a for r in final for a in r.actions if a.kind in ('place', 'replace')]
    unprotected = [
        {'account': r.account, 'symbol': a.symbol, 'why': a.reason}
        for r in final
        for a in r.actions
        if a.kind == 'alert' and a.alert in _NOT_PROTECTED
    ]
    protected = sum(r.protected or 0 for r in final)
    missing = sum(r.unprotected or 0 for r in final)
    explained = {(u['account'], u['symbol']) for u in unprotected}
    return {
        'ok': bool(final)
        and all(r.status == 'ok' for r in final)
        and not placeable
        and fast.milliseconds is not None
        and missing <= len({(u['account'], u['symbol']) for u in unprotected})
        and all(key in explained for key in {(u['account'], u['symbol']) for u in unprotected}),
        'positions': positions,
        'protected': protected,
        'unprotected': unprotected,
        'actions': [
            {'kind': a.kind, 'symbol': a.symbol, 'result': a.result}
            for r in STORY
            if r.mode == 'live'
            for a in r.actions
            if a.kind in ('place', 'replace', 'cancel')
        ],
        'notifications': [{'title': n.title, 'severity': n.severity.value} for n in sent],
        'fast_path_ms': None if fast.milliseconds is None else round(fast.milliseconds, 1),
    }
