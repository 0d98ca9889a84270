"""The DXLink market-data websocket (the URL ``/api-quote-tokens`` hands out).

Strict ordering, as dxfeed enforces it: SETUP, then (after the server's ``AUTH_STATE UNAUTHORIZED``) AUTH
with a quote token this server issued, then channels. Anything out of order gets an ``ERROR`` and the socket
is closed. Feeds send COMPACT (or FULL) ``FEED_DATA`` rows in the field order the client asked for, or in
dxFeed's default order when it asked for none, always announced in a ``FEED_CONFIG`` first (see
:mod:`paperbroker.dxlink_feed`): a snapshot on subscription and an update on every quote change (what each event
type carries: :mod:`paperbroker.dxlink_data`). A client silent for its keepalive timeout (60 s of virtual time)
is disconnected; a message over 64 KiB closes the socket with 1009, as an over-large subscription does on
dxFeed's server.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.websockets import WebSocket

from paperbroker.dxlink_data import candle_base, candle_update, snapshot, ticker_events
from paperbroker.dxlink_feed import FeedChannel
from paperbroker.dxlink_fields import SUPPORTED
from paperbroker.responses import broker_of
from paperbroker.ws_connection import WsConnection

SERVER_VERSION = '1.0-paperbroker'
KEEPALIVE_SECONDS = 60
SERVER_KEEPALIVE_SECONDS = 30
MAX_MESSAGE_BYTES = 64 * 1024


class DxLinkConnection(WsConnection):
    """One DXLink client."""

    kind = 'dxlink'
    max_message_bytes = MAX_MESSAGE_BYTES

    def __init__(self, websocket: WebSocket, broker: Any) -> None:
        super().__init__(websocket, broker)
        self.setup_done = False
        self.authorized = False
        self.channels: dict[int, FeedChannel] = {}
        self.keepalive_timeout: float = KEEPALIVE_SECONDS
        self.server_keepalive: float = SERVER_KEEPALIVE_SECONDS
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
        accept = message.get('acceptKeepaliveTimeout')
        if isinstance(accept, int | float) and not isinstance(accept, bool) and accept > 0:
            # the client drops a server quiet for `accept` seconds: speak at least twice as often
            self.server_keepalive = min(SERVER_KEEPALIVE_SECONDS, accept / 2)
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
        self.channels[channel] = FeedChannel(channel, contract)
        self.send(
            {
                'type': 'CHANNEL_OPENED',
                'channel': channel,
                'service': 'FEED',
                'parameters': {'contract': contract, 'subFormat': 'LIST'},
            }
        )

    def _feed_setup(self, channel: int, message: dict[str, Any]) -> None:
        self.send(self.channels[channel].setup(message))

    def _subscription(self, channel: int, message: dict[str, Any]) -> None:
        feed = self.channels[channel]
        added = feed.subscribe(message)
        core, book = self.broker.core, self.broker.candles
        by_type: dict[str, list[dict[str, Any]]] = {}
        for kind, symbol in added:
            if kind in SUPPORTED:
                events = snapshot(core, book, kind, symbol, feed.from_times.get(symbol))
                by_type.setdefault(kind, []).extend(events)
        self._send_by_type(feed, by_type)

    # --- data ----------------------------------------------------------------------------------------------
    def quote_changed(self, symbol: str) -> None:
        """Send updates for every subscription to the symbol (candles of it included)."""
        if not self.authorized:
            return
        core, book = self.broker.core, self.broker.candles
        instrument = core.state.registry.get(symbol)
        if instrument is None:
            return
        book.observe(symbol)  # the book may hear of this change after us: the live candle must include it
        streamer = instrument.streamer_symbol
        for feed in self.channels.values():
            by_type: dict[str, list[dict[str, Any]]] = {}
            for kind, subscribed in sorted(feed.subscriptions):
                if kind == 'Candle':
                    if candle_base(subscribed) == streamer:
                        by_type.setdefault(kind, []).extend(candle_update(core, book, subscribed))
                elif subscribed == streamer and kind != 'Profile' and kind in SUPPORTED:
                    by_type.setdefault(kind, []).extend(ticker_events(core, kind, streamer))
            self._send_by_type(feed, by_type)

    def _send_by_type(self, feed: FeedChannel, by_type: dict[str, list[dict[str, Any]]]) -> None:
        for kind, events in by_type.items():
            for message in feed.messages(kind, events):
                self.send(message)

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
        elif (now - self.last_outbound).total_seconds() >= self.server_keepalive:
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
