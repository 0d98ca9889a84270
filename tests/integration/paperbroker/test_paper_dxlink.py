"""The paper broker's DXLink feed behaves like dxFeed's: announced event fields, defaults, candles, greeks, faults."""

from __future__ import annotations

import contextlib
import json
import socket
import struct
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from paperbroker.clock import NEW_YORK
from paperbroker.dxlink_fields import DEFAULT_FIELDS, SNAPSHOT_BEGIN, SNAPSHOT_END
from paperbroker.server import PaperBroker

pytestmark = pytest.mark.integration
CHANNEL = 3


def _send(ws: ClientConnection, message: dict[str, Any]) -> None:
    ws.send(json.dumps(message))


def _recv(ws: ClientConnection, timeout: float = 5) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(ws.recv(timeout=timeout))
    return message


def _next(ws: ClientConnection, kind: str) -> dict[str, Any]:
    for _ in range(50):
        message = _recv(ws)
        if message['type'] == kind:
            return message
    raise AssertionError(f'no {kind} came')


@pytest.fixture
def quote_token(api: httpx.Client) -> str:
    token: str = api.get('/api-quote-tokens').json()['data']['token']
    return token


@contextlib.contextmanager
def _open_feed(paper_broker: PaperBroker, quote_token: str) -> Iterator[ClientConnection]:
    """An authorized DXLink socket with FEED channel 3 open (nothing set up yet)."""
    with connect(paper_broker.dxlink_url, open_timeout=5) as ws:
        _send(ws, {'type': 'SETUP', 'channel': 0, 'version': 't', 'keepaliveTimeout': 60, 'acceptKeepaliveTimeout': 60})
        _next(ws, 'AUTH_STATE')
        _send(ws, {'type': 'AUTH', 'channel': 0, 'token': quote_token})
        assert _next(ws, 'AUTH_STATE')['state'] == 'AUTHORIZED'
        _send(
            ws, {'type': 'CHANNEL_REQUEST', 'channel': CHANNEL, 'service': 'FEED', 'parameters': {'contract': 'AUTO'}}
        )
        _next(ws, 'CHANNEL_OPENED')
        yield ws


@pytest.fixture
def feed(paper_broker: PaperBroker, quote_token: str) -> Iterator[ClientConnection]:
    with _open_feed(paper_broker, quote_token) as ws:
        yield ws


def _setup(ws: ClientConnection, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {
        'type': 'FEED_SETUP',
        'channel': CHANNEL,
        'acceptAggregationPeriod': 0.1,
        'acceptDataFormat': 'COMPACT',
    }
    if fields is not None:
        message['acceptEventFields'] = fields
    _send(ws, message)
    return _next(ws, 'FEED_CONFIG')


def _subscribe(ws: ClientConnection, *items: dict[str, Any]) -> None:
    _send(ws, {'type': 'FEED_SUBSCRIPTION', 'channel': CHANNEL, 'add': list(items)})


def _rows(message: dict[str, Any], width: int) -> list[list[Any]]:
    values = message['data'][1]
    assert len(values) % width == 0
    return [values[i : i + width] for i in range(0, len(values), width)]


# --- announced fields ------------------------------------------------------------------------------------------
def test_a_setup_without_fields_is_answered_without_event_fields(feed: ClientConnection) -> None:
    assert _setup(feed) == {
        'type': 'FEED_CONFIG',
        'channel': CHANNEL,
        'dataFormat': 'COMPACT',
        'aggregationPeriod': 0.1,
    }


def test_default_quote_fields_are_announced_before_the_first_row(feed: ClientConnection) -> None:
    _setup(feed)

    _subscribe(feed, {'type': 'Quote', 'symbol': 'AAPL'})
    config, data = _recv(feed), _recv(feed)

    fields = DEFAULT_FIELDS['Quote']
    assert config['type'] == 'FEED_CONFIG'
    assert config['eventFields'] == {'Quote': fields}
    assert data['type'] == 'FEED_DATA'
    (row,) = _rows(data, len(fields))
    event = dict(zip(fields, row, strict=True))
    assert (event['eventType'], event['eventSymbol'], event['bidPrice'], event['askPrice']) == (
        'Quote',
        'AAPL',
        190.2,
        190.24,
    )


def test_fields_are_announced_once_per_type(feed: ClientConnection, paper_broker: PaperBroker) -> None:
    _setup(feed)
    _subscribe(feed, {'type': 'Quote', 'symbol': 'AAPL'})
    _recv(feed), _recv(feed)

    _subscribe(feed, {'type': 'Quote', 'symbol': 'MSFT'})
    paper_broker.admin.set_quote('AAPL', bid='191.00', ask='191.02')

    assert [_recv(feed)['type'], _recv(feed)['type']] == ['FEED_DATA', 'FEED_DATA']


def test_a_new_type_is_announced_alone_before_its_rows(feed: ClientConnection) -> None:
    _setup(feed)
    _subscribe(feed, {'type': 'Quote', 'symbol': 'AAPL'})
    _recv(feed), _recv(feed)

    _subscribe(feed, {'type': 'Trade', 'symbol': 'AAPL'})
    config, data = _recv(feed), _recv(feed)

    assert config['eventFields'] == {'Trade': DEFAULT_FIELDS['Trade']}
    assert data['data'][0] == 'Trade'
    assert len(data['data'][1]) == len(DEFAULT_FIELDS['Trade'])


def test_changed_fields_are_announced_in_the_setup_reply_and_used_from_then_on(
    feed: ClientConnection, paper_broker: PaperBroker
) -> None:
    _setup(feed, {'Quote': ['eventSymbol', 'bidPrice', 'askPrice']})
    _subscribe(feed, {'type': 'Quote', 'symbol': 'AAPL'})
    assert _recv(feed)['eventFields'] == {'Quote': ['eventSymbol', 'bidPrice', 'askPrice']}
    assert _recv(feed)['data'] == ['Quote', ['AAPL', 190.2, 190.24]]

    reply = _setup(feed, {'Quote': ['askPrice', 'eventSymbol', 'eventType']})
    paper_broker.admin.set_quote('AAPL', bid='191.00', ask='191.02')

    assert reply['eventFields'] == {'Quote': ['askPrice', 'eventSymbol', 'eventType']}
    assert _recv(feed)['data'] == ['Quote', [191.02, 'AAPL', 'Quote']]


def test_a_missing_bid_is_sent_as_nan(feed: ClientConnection, paper_broker: PaperBroker) -> None:
    paper_broker.admin.set_quotes([{'symbol': 'XYZ', 'ask': '12.30'}])  # nobody bids
    _setup(feed, {'Quote': ['eventSymbol', 'bidPrice', 'askPrice']})

    _subscribe(feed, {'type': 'Quote', 'symbol': 'XYZ'})
    _recv(feed)

    assert _recv(feed)['data'] == ['Quote', ['XYZ', 'NaN', 12.3]]


# --- candles ---------------------------------------------------------------------------------------------------
def _candles(message: dict[str, Any]) -> list[dict[str, Any]]:
    fields = DEFAULT_FIELDS['Candle']
    return [dict(zip(fields, row, strict=True)) for row in _rows(message, len(fields))]


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _now(paper_broker: PaperBroker) -> datetime:
    return datetime.fromisoformat(paper_broker.admin.clock()['now'])


def test_daily_candle_history_is_a_snapshot_newest_first_on_new_york_midnights(
    feed: ClientConnection, paper_broker: PaperBroker
) -> None:
    _setup(feed)
    since = _now(paper_broker) - timedelta(days=10)

    _subscribe(feed, {'type': 'Candle', 'symbol': 'AAPL{=1d}', 'fromTime': _epoch_ms(since)})
    config, data = _recv(feed), _recv(feed)
    candles = _candles(data)

    assert config['eventFields'] == {'Candle': DEFAULT_FIELDS['Candle']}
    times = [c['time'] for c in candles]
    assert times == sorted(times, reverse=True)
    assert 6 <= len(candles) <= 11  # ten days back, weekends have no candles
    assert candles[0]['eventFlags'] & SNAPSHOT_BEGIN and candles[-1]['eventFlags'] & SNAPSHOT_END
    assert all(c['eventFlags'] == 0 for c in candles[1:-1])
    for candle in candles:
        start = datetime.fromtimestamp(candle['time'] / 1000, UTC).astimezone(NEW_YORK)
        assert (start.hour, start.minute) == (0, 0)
        assert candle['low'] <= min(candle['open'], candle['close']) <= max(candle['open'], candle['close'])
        assert max(candle['open'], candle['close']) <= candle['high']
        assert candle['index'] == (candle['time'] // 1000) << 32
    assert candles[0]['close'] == 190.22  # the live candle closes at the current last price


def test_the_live_candle_follows_quote_changes(feed: ClientConnection, paper_broker: PaperBroker) -> None:
    _setup(feed)
    _subscribe(feed, {'type': 'Candle', 'symbol': 'AAPL{=5m}', 'fromTime': _epoch_ms(_now(paper_broker))})
    _recv(feed)
    (snapshot,) = _candles(_recv(feed))

    paper_broker.admin.set_quote('AAPL', bid='195.00', ask='195.10', last='195.05')
    (update,) = _candles(_recv(feed))

    assert snapshot['eventFlags'] == SNAPSHOT_BEGIN | SNAPSHOT_END
    assert update['eventFlags'] == 0
    assert update['time'] == snapshot['time']
    assert (update['close'], update['high']) == (195.05, 195.05)
    assert update['low'] == snapshot['low']


def test_candles_after_the_reset_come_from_the_recorded_quote_path(paper_broker: PaperBroker, quote_token: str) -> None:
    start = _now(paper_broker)
    for last in ('200.00', '230.00', '210.00'):
        paper_broker.admin.set_quote('AAPL', bid=last, ask=last, last=last)
        paper_broker.admin.advance_clock(3 * 3600)

    with _open_feed(paper_broker, quote_token) as feed:
        _setup(feed)
        _subscribe(feed, {'type': 'Candle', 'symbol': 'AAPL{=1h,price=mark}', 'fromTime': _epoch_ms(start)})
        _recv(feed)
        candles = _candles(_recv(feed))

    assert max(c['high'] for c in candles) == 230.0
    assert candles[0]['close'] == 210.0
    assert candles[-1]['eventFlags'] & SNAPSHOT_END


def test_an_unknown_candle_symbol_gets_nothing(feed: ClientConnection, paper_broker: PaperBroker) -> None:
    _setup(feed)
    _subscribe(feed, {'type': 'Candle', 'symbol': 'AAPL{=3t}', 'fromTime': 0}, {'type': 'Quote', 'symbol': 'AAPL'})

    assert _recv(feed)['eventFields'] == {'Quote': DEFAULT_FIELDS['Quote']}
    assert _recv(feed)['data'][0] == 'Quote'
    with pytest.raises(TimeoutError):
        feed.recv(timeout=0.2)


# --- greeks ----------------------------------------------------------------------------------------------------
def test_options_get_greeks_implied_from_their_mark(feed: ClientConnection) -> None:
    _setup(feed, {'Greeks': ['eventSymbol', 'price', 'volatility', 'delta', 'gamma', 'theta', 'vega']})

    _subscribe(feed, {'type': 'Greeks', 'symbol': '.AAPL261218C200'}, {'type': 'Greeks', 'symbol': 'AAPL'})
    _recv(feed)
    rows = _rows(_recv(feed), 7)

    (row,) = rows  # the equity gets none
    symbol, price, volatility, delta, gamma, theta, vega = row
    assert (symbol, price) == ('.AAPL261218C200', 7.15)
    assert 0.01 < volatility < 2
    assert 0 < delta < 1
    assert gamma > 0 and vega > 0 and theta < 0


# --- faults ----------------------------------------------------------------------------------------------------
def test_an_over_large_message_closes_the_socket_with_1009(feed: ClientConnection) -> None:
    _setup(feed)
    items = [{'type': 'Quote', 'symbol': f'SYM{i:05d}'} for i in range(3000)]

    _send(feed, {'type': 'FEED_SUBSCRIPTION', 'channel': CHANNEL, 'add': items})

    with pytest.raises(ConnectionClosed) as caught:
        _recv(feed)
    assert caught.value.rcvd is not None and caught.value.rcvd.code == 1009


def _ping_answered(sock: socket.socket) -> bool:
    """Send a masked ping frame on a raw websocket and report whether a pong comes back within 0.5 s."""
    payload = b'tg'
    mask = b'\x01\x02\x03\x04'
    sock.sendall(bytes([0x89, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
    sock.settimeout(0.5)
    try:
        header = sock.recv(2)
    except TimeoutError:
        return False
    return len(header) == 2 and header[0] & 0x0F == 0xA


def test_a_silent_socket_does_not_even_answer_pings(paper_broker: PaperBroker, quote_token: str) -> None:
    host, port = paper_broker.host, paper_broker.port
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(
            (
                f'GET /dxlink HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
                'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nUser-Agent: t\r\n\r\n'
            ).encode()
        )
        response = b''
        while b'\r\n\r\n' not in response:
            response += sock.recv(1024)
        assert response.startswith(b'HTTP/1.1 101')
        assert _ping_answered(sock)

        for message in (
            {'type': 'SETUP', 'channel': 0, 'version': 't', 'keepaliveTimeout': 60, 'acceptKeepaliveTimeout': 60},
            {'type': 'AUTH', 'channel': 0, 'token': quote_token},
        ):
            data = json.dumps(message).encode()
            mask = b'\x00\x00\x00\x00'
            header = bytes([0x81, 0x80 | 126]) + struct.pack('!H', len(data)) if len(data) >= 126 else None
            frame = (header or bytes([0x81, 0x80 | len(data)])) + mask + data
            sock.sendall(frame)
        sock.settimeout(2)
        seen = b''
        while b'AUTHORIZED"' not in seen.replace(b'UNAUTHORIZED', b''):
            seen += sock.recv(4096)

        paper_broker.admin.fault('dxlink_silent')

        assert not _ping_answered(sock)
