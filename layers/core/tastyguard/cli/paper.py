"""``tastyguard paper ...``: the local paper broker."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from types import FrameType
from typing import Any

import typer

app = typer.Typer(help='Run and inspect the local paper broker.', no_args_is_help=True)


@app.command()
def serve(
    *,
    host: str = typer.Option('127.0.0.1', help='Interface to listen on.'),
    port: int = typer.Option(0, help='Port to listen on (0 picks a free one).'),
    scenario: str = typer.Option('demo', help='Seeded world: demo, empty, large or expiration.'),
    positions: int = typer.Option(500, help='large: number of positions.'),
    orders: int = typer.Option(300, help='large: number of working orders.'),
    accounts: int = typer.Option(1, help='large: number of accounts.'),
    client_secret: str | None = typer.Option(None, help='OAuth client secret to accept (random if omitted).'),
    refresh_token: str | None = typer.Option(None, help='Refresh token to accept (random if omitted).'),
) -> None:
    """Run the paper broker until interrupted; print one JSON line (URLs, credentials, accounts) when ready."""
    # Imported here so the rest of the CLI does not pay for uvicorn and starlette.
    from paperbroker.scenarios import SCENARIOS  # noqa: PLC0415
    from paperbroker.server import PaperBroker  # noqa: PLC0415

    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format='%(asctime)s %(name)s %(levelname)s %(message)s')
    if scenario not in SCENARIOS:
        raise typer.BadParameter(f'use one of {", ".join(SCENARIOS)}', param_hint='--scenario')
    options: dict[str, Any] = {}
    if scenario == 'large':
        options = {'positions': positions, 'orders': orders, 'accounts': accounts}
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    broker = PaperBroker(
        scenario, host=host, port=port, client_secret=client_secret, refresh_token=refresh_token, **options
    )
    try:
        broker.start()
        sys.stdout.write(json.dumps(broker.ready_line()) + '\n')
        sys.stdout.flush()
        logging.getLogger('paperbroker').info('paper broker (%s) listening on %s', scenario, broker.api_url)
        while not stop.wait(0.5):
            pass
    finally:
        broker.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        logging.getLogger('paperbroker').info('paper broker stopped')


@app.command()
def state(
    api_url: str = typer.Option('http://127.0.0.1:8080', '--api-url', help="The running broker's api_url."),
) -> None:
    """Print a running paper broker's accounts, positions and orders as tables."""
    from rich.console import Console  # noqa: PLC0415 - keeps the other commands fast
    from rich.table import Table  # noqa: PLC0415

    from paperbroker.admin_client import AdminClient, AdminError  # noqa: PLC0415

    client = AdminClient(api_url.rstrip('/'))
    try:
        data = client.state()
    except AdminError as exc:
        typer.echo(f'Could not read the paper broker at {api_url}: {exc}', err=True)
        raise typer.Exit(1) from exc
    finally:
        client.close()
    console = Console()
    console.print(f'[bold]Paper broker[/bold] {api_url}  scenario={data["scenario"]}  now={data["now"]}')
    for entry in data['accounts']:
        account, balances = entry['account'], entry['balances']
        console.print(
            f'\n[bold]{account["account-number"]}[/bold] {account["nickname"]} ({account["margin-or-cash"]})  '
            f'cash {balances["cash-balance"]}  net liq {balances["net-liquidating-value"]}'
        )
        positions = Table('symbol', 'type', 'qty', 'avg open', 'mark', title='positions', title_justify='left')
        for p in entry['positions']:
            signed = ('-' if p['quantity-direction'] == 'Short' else '') + p['quantity']
            positions.add_row(
                p['symbol'], p['instrument-type'], signed, p['average-open-price'], p.get('mark-price', '')
            )
        console.print(positions)
        orders = Table(
            'id',
            'status',
            'type',
            'tif',
            'legs',
            'price',
            'trigger',
            'source / ext id',
            title='orders',
            title_justify='left',
        )
        for o in entry['orders']:
            legs = ', '.join(f'{leg["action"]} {leg["quantity"]} {leg["symbol"]}' for leg in o['legs'])
            origin = ' '.join(x for x in (o.get('source'), o.get('external-identifier')) if x)
            orders.add_row(
                str(o['id']),
                o['status'],
                o['order-type'],
                o['time-in-force'],
                legs,
                o.get('price', ''),
                o.get('stop-trigger', ''),
                origin,
            )
        console.print(orders)
