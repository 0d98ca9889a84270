"""The demo's fast path: a person buys in their own app, the streamer protects the new position at once.

The streamer runs in a thread of the demo's process (its own event loop; the job code it runs is the demo's,
on the streamer's one job thread, while the demo waits), against the demo's paper broker and embedded AWS.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from tastyguard.jobs.context import JobContext
from tastyguard.store.table import StateTable
from tastyguard.streaming.publish import InProcessPublisher
from tastyguard.streaming.service import GrantStream, StreamerService
from tastyguard.streaming.supervisor import JobThread, fast_path

WORKING = ('Live', 'Received', 'Routed', 'Contingent')


@dataclass(frozen=True)
class FastPathOutcome:
    """What the fast-path step showed: the stop the streamer placed and how long it took."""

    symbol: str
    quantity: int
    stop: dict[str, Any] | None
    milliseconds: float | None


class BackgroundStreamer:
    """A :class:`StreamerService` on its own event loop in a thread (``with`` starts it, leaving stops it)."""

    def __init__(self, ctx: JobContext, client: Any, accounts: list[str]) -> None:
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def sink(jobs: JobThread) -> InProcessPublisher:
            handle = fast_path(ctx)
            return InProcessPublisher(lambda event: jobs.call(handle, event))

        self.service = StreamerService(
            ctx=ctx,
            grants=[GrantStream('default', client, accounts)],
            sink=sink,
            state=StateTable,
            on_ready=lambda _accounts, _symbols: self._ready.set(),
            owner='demo-streamer',
        )
        self._thread = threading.Thread(target=self._run, name='demo-streamer', daemon=True)
        self.status: int | None = None

    def _run(self) -> None:
        try:
            self.status = self._loop.run_until_complete(self.service.run())
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    def __enter__(self) -> BackgroundStreamer:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError('the streamer did not connect to the paper broker within 30 s')
        return self

    def __exit__(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self.service.stop)
        self._thread.join(30)


def person_buys(api_url: str, client_secret: str, refresh_token: str, account: str, symbol: str, quantity: int) -> None:
    """A market buy from the person's own app (their own login session, not tastyguard's)."""
    with httpx.Client(base_url=api_url, timeout=10.0, headers={'User-Agent': 'tastytrade-desktop/demo'}) as http:
        token = http.post(
            '/oauth/token',
            json={'grant_type': 'refresh_token', 'client_secret': client_secret, 'refresh_token': refresh_token},
        ).json()['access_token']
        leg = {'instrument-type': 'Equity', 'symbol': symbol, 'action': 'Buy to Open', 'quantity': str(quantity)}
        order = {'order-type': 'Market', 'time-in-force': 'Day', 'legs': [leg]}
        http.post(f'/accounts/{account}/orders', json=order, headers={'Authorization': f'Bearer {token}'})


def protected_after_buying(broker: Any, account: str, symbol: str, quantity: int) -> FastPathOutcome:
    """Buy, then wait (at most 10 s) until a new stop of tastyguard's for the position is working at the broker."""
    before = {order['id'] for order in broker.admin.orders(account)}
    started = time.monotonic()
    person_buys(broker.api_url, broker.client_secret, broker.refresh_token, account, symbol, quantity)
    deadline = started + 10
    while time.monotonic() < deadline:
        stop = _our_stop(broker, account, symbol)
        if stop is not None and stop['id'] not in before and Decimal(str(stop['legs'][0]['quantity'])) == quantity:
            return FastPathOutcome(symbol, quantity, stop, (time.monotonic() - started) * 1000)
        time.sleep(0.005)
    return FastPathOutcome(symbol, quantity, _our_stop(broker, account, symbol), None)


def _our_stop(broker: Any, account: str, symbol: str) -> dict[str, Any] | None:
    for order in broker.admin.orders(account):
        leg = order['legs'][0]
        if (
            order['status'] in WORKING
            and leg['symbol'] == symbol
            and str(order.get('external-identifier') or '').startswith('tg-')
        ):
            result: dict[str, Any] = order
            return result
    return None
