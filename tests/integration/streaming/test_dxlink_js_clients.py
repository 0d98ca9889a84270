"""Third-party DXLink clients against our servers: dxFeed's own JS client (``@dxfeed/dxlink-api`` 0.3.0) and
tastytrade's JS SDK (``@tastytrade/api`` 7.0.2) stream quotes from the paper broker, and dxFeed's client and
ours decode the same ``FEED_DATA`` into the same values.

The JS side is ``tests/js/quote_stream.mjs``; ``make test`` installs its pinned packages (``npm ci``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from paperbroker.server import PaperBroker
from tastyguard.streaming.dxlink import EventType, Quote, Trade
from tastyguard.streaming.dxlink.events import WIRE_FIELDS
from tests.integration.streaming.conftest import FeedFactory
from tests.integration.streaming.dxlink_script import Script, ScriptedDXLink
from tests.integration.streaming.support import Recorder, StaticTokens

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
JS = Path(__file__).resolve().parents[2] / 'js'
QUOTE_FIELDS = ['askPrice', 'eventSymbol', 'bidSize', 'eventType', 'bidPrice', 'eventTime', 'askSize', 'bidTime']
TRADE_FIELDS = ['eventType', 'eventSymbol', 'price', 'dayVolume', 'size', 'extendedTradingHours', 'change']


class NodeClient:
    """A running ``quote_stream.mjs``: JSON lines on stdout, logs on stderr."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.events: list[dict[str, Any]] = []
        self.stderr = ''

    async def until(self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 15) -> None:
        assert self.process.stdout is not None
        async with asyncio.timeout(timeout):
            while not predicate(self.events):
                line = await self.process.stdout.readline()
                if not line:
                    raise AssertionError(f'the JS client exited early: {await self._stderr()}')
                message = json.loads(line, parse_float=Decimal)
                if message['kind'] == 'events':
                    self.events.extend(message['events'])

    async def _stderr(self) -> str:
        assert self.process.stderr is not None
        return (await self.process.stderr.read()).decode()

    async def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            async with asyncio.timeout(10):
                await self.process.wait()
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        self.stderr = await self._stderr()


@asynccontextmanager
async def node_client(mode: str, config: dict[str, Any]) -> AsyncIterator[NodeClient]:
    if not (JS / 'node_modules' / '@dxfeed' / 'dxlink-api').is_dir():
        pytest.fail('the JS test clients are not installed: run `make test` (or `cd tests/js && npm ci`)')
    process = await asyncio.create_subprocess_exec(
        'node',
        'quote_stream.mjs',
        mode,
        json.dumps(config),
        cwd=JS,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    client = NodeClient(process)
    try:
        yield client
    finally:
        await client.stop()


def _quotes(symbol: str) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    return lambda events: [e for e in events if e.get('eventType') == 'Quote' and e.get('eventSymbol') == symbol]


@pytest.mark.parametrize('mode', ['dxfeed', 'tastytrade'])
async def test_the_js_clients_stream_quotes_of_a_held_symbol_from_the_paper_broker(
    mode: str, paper_broker: PaperBroker
) -> None:
    config = {
        'apiUrl': paper_broker.api_url,
        'clientSecret': paper_broker.client_secret,
        'refreshToken': paper_broker.refresh_token,
        'subscriptions': [{'type': 'Quote', 'symbol': 'AAPL'}],  # the demo account holds 100 AAPL
    }
    aapl = _quotes('AAPL')
    async with node_client(mode, config) as client:
        await client.until(lambda events: len(aapl(events)) >= 1)
        await asyncio.to_thread(paper_broker.admin.set_quote, 'AAPL', bid='191.00', ask='191.05')
        await client.until(lambda events: any(q['bidPrice'] == Decimal('191') for q in aapl(events)))

    snapshot = aapl(client.events)[0]
    assert (snapshot['bidPrice'], snapshot['askPrice']) == (Decimal('190.2'), Decimal('190.24'))
    assert snapshot['eventType'] == 'Quote'
    assert 'Cannot find event fields' not in client.stderr
    assert 'Unhandled dxLink error' not in client.stderr


def _same(wire: Any, ours: Any) -> bool:
    """A value as dxFeed's client printed it against ours: numbers exactly, "NaN" as None."""
    if wire in {'NaN', 'Infinity', '-Infinity', None}:
        return ours is None
    if isinstance(wire, bool | str):
        return bool(wire == ours)
    return Decimal(str(wire)) == ours


async def test_dxfeeds_client_and_ours_decode_the_same_feed_data_alike(
    running_feed: FeedFactory, recorder: Recorder
) -> None:
    script = Script(
        event_fields={'Quote': QUOTE_FIELDS, 'Trade': TRADE_FIELDS},
        rows={
            'Quote': {
                'AAPL': [190.24, 'AAPL', 100.0, 'Quote', 190.2, 0, 'NaN', 1796230629021],
                '/ESZ26:XCME': ['NaN', '/ESZ26:XCME', 3, 'Quote', 6050.25, 0, 7.0, 1796230629000],
                '.AAPL261218C200': [7.2, '.AAPL261218C200', 'NaN', 'Quote', 'NaN', 1, 'NaN', 0],
            },
            'Trade': {
                'SPY': ['Trade', 'SPY', 559.36, 1.3743299e7, 100.0, False, -1.25],
                'BTC/USD:CXTALP': ['Trade', 'BTC/USD:CXTALP', 58356.71, 'NaN', 'NaN', True, 'NaN'],
            },
        },
    )
    subscriptions = [{'type': kind, 'symbol': symbol} for kind, rows in script.rows.items() for symbol in rows]
    async with ScriptedDXLink(script) as server:
        async with node_client('dxfeed', {'dxlinkUrl': server.url, 'token': 't', 'subscriptions': subscriptions}) as js:
            await js.until(lambda events: len(events) >= 5)
        async with running_feed(StaticTokens(server.url)) as feed:
            await feed.set_symbols(list(script.rows['Quote']), [EventType.QUOTE])
            await feed.set_symbols(list(script.rows['Trade']), [EventType.TRADE])
            await recorder.until(lambda: len(recorder.events) >= 5)

    assert 'Cannot find event fields' not in js.stderr
    ours = {(e.event_type.value, e.symbol): e for e in recorder.events}
    assert len(js.events) == len(ours) == 5
    compared = 0
    for event in js.events:
        kind = event['eventType']
        mine = ours[(kind, event['eventSymbol'])]
        assert isinstance(mine, Quote | Trade)
        for name, (attribute, _) in WIRE_FIELDS[EventType(kind)].items():
            if name in event:
                assert _same(event[name], getattr(mine, attribute)), (kind, name, event[name], getattr(mine, attribute))
                compared += 1
    assert compared == 3 * 7 + 2 * 6  # every announced field of every event that both clients model
