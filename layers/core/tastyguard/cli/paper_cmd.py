"""``tastyguard paper ...``: the local paper broker."""

from __future__ import annotations

import errno
import json
import logging
import signal
import sys
import threading
from types import FrameType
from typing import Any

import typer

from tastyguard.cli import options
from tastyguard.cli.errors import CliError, guarded

app = options.command_group('Run and inspect the local paper broker.')

_BIND_ERRORS = {
    errno.EADDRINUSE: 'is already in use: pick another --port, or --port 0 for a free one',
    errno.EACCES: 'needs privileges: use a port above 1023, or --port 0 for a free one',
    errno.EADDRNOTAVAIL: 'is not an address of this machine: use --host 127.0.0.1',
}


@app.command()
@guarded
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
    tastyware_api_key: str | None = typer.Option(
        None, help='tastyware paper API key to accept (X-Api-Key; random if omitted).'
    ),
    tastyware_rate_limit: int | None = typer.Option(
        None, min=1, help='Emulate the paper API rate limit: requests per second per key (the service: 5).'
    ),
    tastyware_restrictions: bool = typer.Option(
        False, help='Emulate the paper API restrictions: equities and equity/index options only, no complex orders.'
    ),
) -> None:
    """Run the paper broker until interrupted; print one JSON line (URLs, credentials, accounts) when ready.

    The line also names the tastyware paper API: tastyware_paper_url (the SDK's PAPER_URL),
    tastyware_paper_streamer_url (PAPER_STREAMER_URL) and tastyware_api_key.
    """
    # Imported here so the rest of the CLI does not pay for uvicorn and starlette.
    from paperbroker.scenarios import SCENARIOS  # noqa: PLC0415
    from paperbroker.server import PaperBroker  # noqa: PLC0415
    from paperbroker.tastyware.state import TastywareSettings  # noqa: PLC0415

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
        scenario,
        host=host,
        port=port,
        client_secret=client_secret,
        refresh_token=refresh_token,
        tastyware_api_key=tastyware_api_key,
        tastyware=TastywareSettings(rate_limit=tastyware_rate_limit, restrictions=tastyware_restrictions),
        **options,
    )
    try:
        try:
            broker.start()
        except OSError as error:
            problem = _BIND_ERRORS.get(error.errno or 0)
            if problem is None:
                raise
            where = f'{host}:{port}' if error.errno != errno.EADDRNOTAVAIL else host
            raise CliError(f'cannot listen on {where}: it {problem}') from None
        sys.stdout.write(json.dumps(broker.ready_line()) + '\n')
        sys.stdout.flush()
        logging.getLogger('paperbroker').info('paper broker (%s) listening on %s', scenario, broker.api_url)
        while not stop.wait(0.5):
            pass
        broker.stop()
        logging.getLogger('paperbroker').info('paper broker stopped')
    finally:
        broker.stop()  # idempotent; also after a failed start
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@app.command()
@guarded
def state(
    api_url: str = typer.Option(
        ...,
        '--api-url',
        help="The running broker's api_url.",
        callback=options.check_api_url,
        envvar='TASTYGUARD_API_URL',
    ),
    as_json: bool = options.AS_JSON,
) -> None:
    """Print a running paper broker's accounts, positions and orders as tables (or its full state as JSON)."""
    from rich.console import Console  # noqa: PLC0415 - keeps the other commands fast
    from rich.table import Table  # noqa: PLC0415

    from paperbroker.admin_client import AdminClient, AdminError  # noqa: PLC0415

    client = AdminClient(api_url.rstrip('/'))
    try:
        data = client.state()
    except AdminError as exc:
        raise CliError(
            f'could not read the paper broker at {api_url}: {exc} (is `./tastyguard paper serve` running?)'
        ) from None
    finally:
        client.close()
    if as_json:
        options_json = json.dumps(data, indent=2)
        sys.stdout.write(options_json + '\n')
        return
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
