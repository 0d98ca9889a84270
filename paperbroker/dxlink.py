"""The DXLink market-data websocket (the URL ``/api-quote-tokens`` hands out).

Strict ordering, as dxfeed enforces it: SETUP, then (after the server's ``AUTH_STATE UNAUTHORIZED``) AUTH
with a quote token this server issued, then channels. Anything out of order gets an ``ERROR`` and the socket
is closed. Feeds send COMPACT (or FULL) ``FEED_DATA`` rows in exactly the field order the client asked for:
a snapshot on subscription and an update on every quote change. A client silent for its keepalive timeout
(60 s of virtual time) is disconnected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.websockets import WebSocket

from paperbroker.dxlink_events import DEFAULT_FIELDS, SUPPORTED, event_fields, row
from paperbroker.responses import broker_of
from paperbroker.ws_connection import WsConnection

SERVER_VERSION = '1.0-paperbroker'
KEEPALIVE_SECONDS = 60
SERVER_KEEPALIVE_SECONDS = 30


@dataclass
class Channel:
    """A FEED channel and its configuration."""

    contract: str
    data_format: str = 'COMPACT'
    aggregation: float = 0.1
    fields: dict[str, list[str]] = field(default_factory=dict)
    subscriptions: set[tuple[str, str]] = field(default_factory=set)  # (event type, streamer symbol)


class DxLinkConnection(WsConnection):
    """One DXLink client."""

    kind = 'dxlink'

    def __init__(self, websocket: WebSocket, broker: Any) -> None:
        super().__init__(websocket, broker)
        self.setup_done = False
        self.authorized = False
        self.channels: dict[int, Channel] = {}
        self.keepalive_timeout: float = KEEPALIVE_SECONDS
        now = broker.core.now()
        self.last_inbound: datetime = now
        self.last_outbound: datetime = now

    # --- protocol ------------------------------------------------------------------------------------------
    async def handle(self, message: Any) -> None:
        """Answer one client message, enforcing the protocol order."""
        self.last_inbound = self.broker.core.now()
        if not isinstance(message, dict) or not isinstance(message.get('type'), str):
            self._error('INVALID_MESSAGE', 'Messages must be JSON objects with a "type"')
            return
        kind, channel = message['type'], message.get('channel', 0)
        if kind == 'KEEPALIVE':
            return
        if kind == 'SETUP':
            self._setup(message)
        elif not self.setup_done:
            self._fatal('UNSUPPORTED_PROTOCOL', f'{kind} received before SETUP')
        elif kind == 'AUTH':
            self._auth(message)
        elif not self.authorized:
            self._fatal('UNAUTHORIZED', f'{kind} received before AUTH_STATE AUTHORIZED')
        elif kind == 'CHANNEL_REQUEST':
            self._channel_request(channel, message)
        elif channel not in self.channels:
            self._fatal('BAD_ACTION', f'{kind} on channel {channel}, which is not open')
        elif kind == 'FEED_SETUP':
            self._feed_setup(channel, message)
        elif kind == 'FEED_SUBSCRIPTION':
            self._subscription(channel, message)
        elif kind == 'CHANNEL_CANCEL':
            del self.channels[channel]
            self.send({'type': 'CHANNEL_CLOSED', 'channel': channel})
        else:
            self._error('UNSUPPORTED_MESSAGE', f'Unsupported message type {kind}')

    def _setup(self, message: dict[str, Any]) -> None:
        timeout = message.get('keepaliveTimeout')
        if isinstance(timeout, int | float) and timeout > 0:
            self.keepalive_timeout = timeout
        self.setup_done = True
        self.send(
            {
                'type': 'SETUP',
                'channel': 0,
                'keepaliveTimeout': KEEPALIVE_SECONDS,
                'acceptKeepaliveTimeout': KEEPALIVE_SECONDS,
                'version': SERVER_VERSION,
            }
        )
        if not self.authorized:
            self.send({'type': 'AUTH_STATE', 'channel': 0, 'state': 'UNAUTHORIZED'})

    def _auth(self, message: dict[str, Any]) -> None:
        user_id = self.broker.auth.check_quote_token(message.get('token'))
        if user_id is None:
            self._fatal('UNAUTHORIZED', 'The token is invalid or expired')
            return
        self.authorized = True
        self.send({'type': 'AUTH_STATE', 'channel': 0, 'state': 'AUTHORIZED', 'userId': user_id})
        if not self.established:
            self.established = True
            self.broker.faults.on_established(self)

    def _channel_request(self, channel: Any, message: dict[str, Any]) -> None:
        if not isinstance(channel, int) or channel <= 0:
            self._fatal('BAD_ACTION', 'Channel numbers must be positive integers')
            return
        if message.get('service') != 'FEED':
            self._error('UNSUPPORTED_SERVICE', f'Unsupported service {message.get("service")!r}')
            return
        contract = (message.get('parameters') or {}).get('contract', 'AUTO')
        self.channels[channel] = Channel(contract)
        self.send(
            {
                'type': 'CHANNEL_OPENED',
                'channel': channel,
                'service': 'FEED',
                'parameters': {'contract': contract, 'subFormat': 'LIST'},
            }
        )

    def _feed_setup(self, channel: int, message: dict[str, Any]) -> None:
        feed = self.channels[channel]
        data_format = message.get('acceptDataFormat', feed.data_format)
        feed.data_format = 'FULL' if data_format == 'FULL' else 'COMPACT'
        period = message.get('acceptAggregationPeriod')
        if isinstance(period, int | float):
            feed.aggregation = float(period)
        accepted = message.get('acceptEventFields')
        if isinstance(accepted, dict):
            for event, names in accepted.items():
                if isinstance(names, list) and all(isinstance(n, str) for n in names):
                    feed.fields[event] = list(names)
        self.send(
            {
                'type': 'FEED_CONFIG',
                'channel': channel,
                'dataFormat': feed.data_format,
                'aggregationPeriod': feed.aggregation,
                'eventFields': self._fields(feed),
            }
        )

    def _subscription(self, channel: int, message: dict[str, Any]) -> None:
        feed = self.channels[channel]
        if message.get('reset'):
            feed.subscriptions.clear()
        for item in message.get('remove') or []:
            if isinstance(item, dict):
                feed.subscriptions.discard((str(item.get('type')), str(item.get('symbol'))))
        added = []
        for item in message.get('add') or []:
            if isinstance(item, dict) and isinstance(item.get('type'), str) and isinstance(item.get('symbol'), str):
                key = (item['type'], item['symbol'])
                feed.subscriptions.add(key)
                added.append(key)
        self._send_events(channel, added)

    # --- data ----------------------------------------------------------------------------------------------
    def quote_changed(self, symbol: str) -> None:
        """Send updates for every subscription to the symbol."""
        if not self.authorized:
            return
        instrument = self.broker.core.state.registry.get(symbol)
        if instrument is None:
            return
        streamer = instrument.streamer_symbol
        for channel, feed in self.channels.items():
            wanted = [(kind, s) for kind, s in feed.subscriptions if s == streamer and kind != 'Profile']
            self._send_events(channel, sorted(wanted))

    def _send_events(self, channel: int, keys: list[tuple[str, str]]) -> None:
        feed = self.channels[channel]
        core = self.broker.core
        by_type: dict[str, list[dict[str, Any]]] = {}
        for kind, streamer in keys:
            if kind not in SUPPORTED:
                continue
            instrument = core.state.registry.from_streamer(streamer)
            quote = core.state.quotes.get(instrument.symbol) if instrument is not None else None
            if instrument is None or quote is None:
                continue
            by_type.setdefault(kind, []).append(event_fields(kind, streamer, instrument, quote, core.now()))
        for kind, events in by_type.items():
            if feed.data_format == 'FULL':
                data: list[Any] = [
                    {name: event.get(name, 'NaN') for name in self._type_fields(feed, kind)} for event in events
                ]
            else:
                names = self._type_fields(feed, kind)
                data = [kind, [value for event in events for value in row(names, event)]]
            self.send({'type': 'FEED_DATA', 'channel': channel, 'data': data})

    def _fields(self, feed: Channel) -> dict[str, list[str]]:
        return {kind: self._type_fields(feed, kind) for kind in feed.fields}

    @staticmethod
    def _type_fields(feed: Channel, kind: str) -> list[str]:
        return feed.fields.get(kind) or DEFAULT_FIELDS.get(kind, ['eventType', 'eventSymbol', 'eventTime'])

    # --- errors and timers ---------------------------------------------------------------------------------
    def _error(self, error: str, text: str) -> None:
        self.send({'type': 'ERROR', 'channel': 0, 'error': error, 'message': text})

    def _fatal(self, error: str, text: str) -> None:
        self._error(error, text)
        self.close(1008 if error == 'UNAUTHORIZED' else 1002, text[:100])

    def send(self, message: dict[str, Any]) -> None:
        """Queue a message and remember when we last spoke."""
        super().send(message)
        self.last_outbound = self.broker.core.now()

    def check_timeout(self) -> None:
        """Disconnect an idle client; send our own keepalive when quiet."""
        if self.closed or self.silent:
            return
        now = self.broker.core.now()
        if (now - self.last_inbound).total_seconds() >= self.keepalive_timeout:
            self._fatal('TIMEOUT', f'No keepalive received for {self.keepalive_timeout} s')
        elif (now - self.last_outbound).total_seconds() >= SERVER_KEEPALIVE_SECONDS:
            self.send({'type': 'KEEPALIVE', 'channel': 0})


async def dxlink(websocket: WebSocket) -> None:
    """The websocket endpoint."""
    broker = broker_of(websocket)
    await websocket.accept()
    connection = DxLinkConnection(websocket, broker)
    broker.connections.add(connection)
    broker.faults.targets.add(connection)
    broker.core.hub.quote_listeners.add(connection)
    try:
        await connection.run()
    finally:
        broker.connections.discard(connection)
        broker.faults.targets.discard(connection)
        broker.core.hub.quote_listeners.discard(connection)
