"""The account streamer and DXLink websockets: protocol, notifications, quotes, keepalive and websocket faults."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from paperbroker.server import PaperBroker

pytestmark = pytest.mark.integration
QUOTE_FIELDS = ['eventType', 'eventSymbol', 'bidPrice', 'askPrice', 'bidSize', 'madeUp']


def _send(ws: ClientConnection, message: dict[str, Any]) -> None:
    ws.send(json.dumps(message))


def _recv(ws: ClientConnection, timeout: float = 5) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(ws.recv(timeout=timeout))
    return message


def _until(ws: ClientConnection, predicate: Any, limit: int = 50) -> dict[str, Any]:
    for _ in range(limit):
        message = _recv(ws)
        if predicate(message):
            return message
    raise AssertionError('expected message never came')


@pytest.fixture
def token(api: httpx.Client) -> str:
    return api.headers['Authorization'].removeprefix('Bearer ')


@pytest.fixture
def streamer(paper_broker: PaperBroker) -> Iterator[ClientConnection]:
    with connect(paper_broker.account_streamer_url, open_timeout=5) as ws:
        yield ws


def _connect(ws: ClientConnection, token: str, value: Any = None, request_id: int = 1) -> dict[str, Any]:
    _send(
        ws,
        {
            'action': 'connect',
            'value': value or ['5WT00001'],
            'auth-token': f'Bearer {token}',
            'request-id': request_id,
        },
    )
    return _recv(ws)


# --- account streamer ------------------------------------------------------------------------------------------
def test_heartbeat_before_connect_is_not_implemented(streamer: ClientConnection, token: str) -> None:
    _send(streamer, {'action': 'heartbeat', 'auth-token': f'Bearer {token}', 'request-id': 1})

    reply = _recv(streamer)

    assert (reply['status'], reply['action'], reply['message'], reply['request-id']) == (
        'error',
        'heartbeat',
        'not-implemented',
        1,
    )


def test_connect_then_heartbeat(streamer: ClientConnection, token: str) -> None:
    connected = _connect(streamer, token, ['5WT00001', '5WT00002'], request_id=2)
    _send(streamer, {'action': 'heartbeat', 'auth-token': f'Bearer {token}', 'request-id': 3})

    assert connected['status'] == 'ok'
    assert connected['value'] == ['5WT00001', '5WT00002']
    assert connected['request-id'] == 2
    assert connected['web-socket-session-id']
    assert _recv(streamer)['status'] == 'ok'


def test_connect_accepts_a_single_account_string(streamer: ClientConnection, token: str) -> None:
    assert _connect(streamer, token, '5WT00001')['status'] == 'ok'


def test_messages_need_a_valid_bearer_token(streamer: ClientConnection, token: str) -> None:
    _send(streamer, {'action': 'connect', 'value': ['5WT00001'], 'auth-token': token, 'request-id': 1})

    reply = _recv(streamer)

    assert (reply['status'], reply['message']) == ('error', 'invalid-auth-token')


def test_unknown_actions_are_errors(streamer: ClientConnection, token: str) -> None:
    _connect(streamer, token)
    _send(streamer, {'action': 'account-subscribe', 'auth-token': f'Bearer {token}', 'request-id': 5})

    assert _recv(streamer)['status'] == 'error'


def test_placing_and_filling_streams_full_objects(streamer: ClientConnection, token: str, api: httpx.Client) -> None:
    _connect(streamer, token)
    api.post(
        '/accounts/5WT00001/orders',
        json={
            'time-in-force': 'Day',
            'order-type': 'Market',
            'legs': [{'instrument-type': 'Equity', 'symbol': 'KO', 'quantity': 10, 'action': 'Buy to Open'}],
        },
    )

    messages = [_recv(streamer) for _ in range(6)]

    assert [m['type'] for m in messages] == ['Order', 'Order', 'Order', 'Order', 'CurrentPosition', 'AccountBalance']
    assert [m['data']['status'] for m in messages[:4]] == ['Received', 'Routed', 'Live', 'Filled']
    assert all(isinstance(m['timestamp'], int) for m in messages)
    assert messages[4]['data']['quantity'] == '310'
    assert messages[3]['data']['legs'][0]['fills'][0]['quantity'] == 10


def test_only_connected_accounts_are_notified(
    streamer: ClientConnection, token: str, paper_broker: PaperBroker
) -> None:
    _connect(streamer, token, ['5WT00002'])

    paper_broker.admin.set_quote('MSFT', bid='390.00', ask='390.10')  # fills 5WT00001's stop
    paper_broker.admin.add_position('5WT00002', 'VTI', 10, '275.00')

    assert _recv(streamer)['data']['account-number'] == '5WT00002'


def test_streamer_drop_closes_abnormally(streamer: ClientConnection, token: str, paper_broker: PaperBroker) -> None:
    _connect(streamer, token)

    paper_broker.admin.fault('streamer_drop')

    with pytest.raises(ConnectionClosed) as caught:
        _recv(streamer)
    assert caught.value.rcvd is None  # no close frame: 1006


def test_streamer_drop_armed_for_the_next_connection(paper_broker: PaperBroker, token: str) -> None:
    paper_broker.admin.fault('streamer_drop')

    with connect(paper_broker.account_streamer_url, open_timeout=5) as ws:
        assert _connect(ws, token)['status'] == 'ok'
        with pytest.raises(ConnectionClosed):
            _recv(ws)
    assert paper_broker.admin.faults() == []


def test_silent_streamer_stops_answering(streamer: ClientConnection, token: str, paper_broker: PaperBroker) -> None:
    _connect(streamer, token)
    paper_broker.admin.fault('streamer_silent')

    _send(streamer, {'action': 'heartbeat', 'auth-token': f'Bearer {token}', 'request-id': 9})

    with pytest.raises(TimeoutError):
        streamer.recv(timeout=0.3)


def test_reset_closes_open_streams(streamer: ClientConnection, token: str, paper_broker: PaperBroker) -> None:
    _connect(streamer, token)

    paper_broker.reset('empty')

    with pytest.raises(ConnectionClosed) as caught:
        _recv(streamer)
    assert caught.value.rcvd is not None and caught.value.rcvd.code == 1001


# --- DXLink ----------------------------------------------------------------------------------------------------
@pytest.fixture
def quote_token(api: httpx.Client) -> str:
    token: str = api.get('/api-quote-tokens').json()['data']['token']
    return token


@pytest.fixture
def dxlink(paper_broker: PaperBroker) -> Iterator[ClientConnection]:
    with connect(paper_broker.dxlink_url, open_timeout=5) as ws:
        yield ws


def _authorize(ws: ClientConnection, token: str) -> None:
    _send(
        ws, {'type': 'SETUP', 'channel': 0, 'version': '0.1-test', 'keepaliveTimeout': 60, 'acceptKeepaliveTimeout': 60}
    )
    assert _recv(ws)['type'] == 'SETUP'
    assert _recv(ws) == {'type': 'AUTH_STATE', 'channel': 0, 'state': 'UNAUTHORIZED'}
    _send(ws, {'type': 'AUTH', 'channel': 0, 'token': token})
    assert _recv(ws)['state'] == 'AUTHORIZED'


def _feed(ws: ClientConnection, channel: int = 7, data_format: str = 'COMPACT') -> dict[str, Any]:
    _send(ws, {'type': 'CHANNEL_REQUEST', 'channel': channel, 'service': 'FEED', 'parameters': {'contract': 'AUTO'}})
    opened = _recv(ws)
    assert opened == {
        'type': 'CHANNEL_OPENED',
        'channel': channel,
        'service': 'FEED',
        'parameters': {'contract': 'AUTO', 'subFormat': 'LIST'},
    }
    _send(
        ws,
        {
            'type': 'FEED_SETUP',
            'channel': channel,
            'acceptAggregationPeriod': 0.1,
            'acceptDataFormat': data_format,
            'acceptEventFields': {'Quote': QUOTE_FIELDS},
        },
    )
    return _recv(ws)


def test_dxlink_flow_snapshot_then_updates_in_the_requested_field_order(
    dxlink: ClientConnection, quote_token: str, paper_broker: PaperBroker
) -> None:
    _authorize(dxlink, quote_token)
    config = _feed(dxlink)
    assert config == {'type': 'FEED_CONFIG', 'channel': 7, 'dataFormat': 'COMPACT', 'aggregationPeriod': 0.1}

    _send(
        dxlink,
        {
            'type': 'FEED_SUBSCRIPTION',
            'channel': 7,
            'add': [{'symbol': 'AAPL', 'type': 'Quote'}, {'symbol': '/ESZ26:XCME', 'type': 'Quote'}],
        },
    )
    announced = _recv(dxlink)
    snapshot = _recv(dxlink)
    paper_broker.admin.set_quote('AAPL', bid='191.00', ask='191.05')
    update = _recv(dxlink)

    assert snapshot == {
        'type': 'FEED_DATA',
        'channel': 7,
        'data': [
            'Quote',
            ['Quote', 'AAPL', 190.2, 190.24, 100.0, 'NaN', 'Quote', '/ESZ26:XCME', 6050.0, 6050.25, 100.0, 'NaN'],
        ],
    }
    assert announced == {
        'type': 'FEED_CONFIG',
        'channel': 7,
        'dataFormat': 'COMPACT',
        'aggregationPeriod': 0.1,
        'eventFields': {'Quote': QUOTE_FIELDS},
    }
    assert update['data'] == ['Quote', ['Quote', 'AAPL', 191.0, 191.05, 100.0, 'NaN']]


def test_dxlink_full_format_sends_objects(dxlink: ClientConnection, quote_token: str) -> None:
    _authorize(dxlink, quote_token)
    _feed(dxlink, data_format='FULL')

    _send(dxlink, {'type': 'FEED_SUBSCRIPTION', 'channel': 7, 'add': [{'symbol': '.AAPL261218C200', 'type': 'Quote'}]})

    assert _recv(dxlink)['eventFields'] == {'Quote': QUOTE_FIELDS}
    data = _recv(dxlink)['data']
    assert data == [
        {
            'eventType': 'Quote',
            'eventSymbol': '.AAPL261218C200',
            'bidPrice': 7.1,
            'askPrice': 7.2,
            'bidSize': 100.0,
            'madeUp': 'NaN',
        }
    ]


def test_auth_before_setup_is_an_error_and_closes(dxlink: ClientConnection, quote_token: str) -> None:
    _send(dxlink, {'type': 'AUTH', 'channel': 0, 'token': quote_token})

    assert _recv(dxlink)['type'] == 'ERROR'
    with pytest.raises(ConnectionClosed):
        _recv(dxlink)


def test_channel_request_before_authorized_is_an_error_and_closes(dxlink: ClientConnection) -> None:
    _send(dxlink, {'type': 'SETUP', 'channel': 0, 'version': 't', 'keepaliveTimeout': 60, 'acceptKeepaliveTimeout': 60})
    _recv(dxlink), _recv(dxlink)
    _send(dxlink, {'type': 'CHANNEL_REQUEST', 'channel': 1, 'service': 'FEED', 'parameters': {'contract': 'AUTO'}})

    error = _recv(dxlink)
    assert (error['type'], error['error']) == ('ERROR', 'UNAUTHORIZED')
    with pytest.raises(ConnectionClosed):
        _recv(dxlink)


def test_a_token_this_server_did_not_issue_is_refused(dxlink: ClientConnection) -> None:
    _send(dxlink, {'type': 'SETUP', 'channel': 0, 'version': 't', 'keepaliveTimeout': 60, 'acceptKeepaliveTimeout': 60})
    _recv(dxlink), _recv(dxlink)
    _send(dxlink, {'type': 'AUTH', 'channel': 0, 'token': 'forged'})

    assert _recv(dxlink)['error'] == 'UNAUTHORIZED'
    with pytest.raises(ConnectionClosed):
        _recv(dxlink)


def test_a_client_silent_for_sixty_virtual_seconds_is_disconnected(
    dxlink: ClientConnection, quote_token: str, paper_broker: PaperBroker
) -> None:
    _authorize(dxlink, quote_token)

    paper_broker.admin.advance_clock(61)

    assert _until(dxlink, lambda m: m['type'] == 'ERROR')['error'] == 'TIMEOUT'
    with pytest.raises(ConnectionClosed):
        _recv(dxlink)


def test_keepalives_keep_the_connection_open(
    dxlink: ClientConnection, quote_token: str, paper_broker: PaperBroker
) -> None:
    _authorize(dxlink, quote_token)

    for _ in range(3):
        paper_broker.admin.advance_clock(30)
        _send(dxlink, {'type': 'KEEPALIVE', 'channel': 0})
        assert _recv(dxlink) == {'type': 'KEEPALIVE', 'channel': 0}  # the server's own keepalive
    _send(dxlink, {'type': 'CHANNEL_REQUEST', 'channel': 3, 'service': 'FEED', 'parameters': {'contract': 'AUTO'}})
    assert _recv(dxlink)['type'] == 'CHANNEL_OPENED'


def test_dxlink_close_1012(dxlink: ClientConnection, quote_token: str, paper_broker: PaperBroker) -> None:
    _authorize(dxlink, quote_token)

    paper_broker.admin.fault('dxlink_1012')

    with pytest.raises(ConnectionClosed) as caught:
        _recv(dxlink)
    assert caught.value.rcvd is not None
    assert (caught.value.rcvd.code, caught.value.rcvd.reason) == (1012, 'Reconnection is required')


def test_dxlink_drop_closes_without_a_close_frame(
    dxlink: ClientConnection, quote_token: str, paper_broker: PaperBroker
) -> None:
    _authorize(dxlink, quote_token)

    paper_broker.admin.fault('dxlink_drop')

    with pytest.raises(ConnectionClosed) as caught:
        _recv(dxlink)
    assert caught.value.rcvd is None


def test_silent_dxlink_sends_nothing_more(
    dxlink: ClientConnection, quote_token: str, paper_broker: PaperBroker
) -> None:
    _authorize(dxlink, quote_token)
    _feed(dxlink)
    _send(dxlink, {'type': 'FEED_SUBSCRIPTION', 'channel': 7, 'add': [{'symbol': 'AAPL', 'type': 'Quote'}]})
    _recv(dxlink), _recv(dxlink)

    paper_broker.admin.fault('dxlink_silent')
    paper_broker.admin.set_quote('AAPL', bid='150.00', ask='150.05')

    with pytest.raises(TimeoutError):
        dxlink.recv(timeout=0.3)
