"""The account streamer websocket: ``connect``, ``heartbeat``, and full-object notifications.

Every message must carry ``auth-token: "Bearer <access token>"``. ``connect`` (value: a list of account numbers
or one string) must come first: a ``heartbeat`` before it is answered with ``not-implemented`` and other
subscriptions with ``connect-not-completed``. Notifications are ``{"type", "data", "timestamp"}`` for the
connected accounts only.
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.websockets import WebSocket

from paperbroker.errors import ApiError
from paperbroker.responses import broker_of
from paperbroker.ws_connection import WsConnection

USER_SUBSCRIPTIONS = frozenset({'public-watchlists-subscribe', 'quote-alerts-subscribe', 'user-message-subscribe'})


class StreamerConnection(WsConnection):
    """One account-streamer client."""

    kind = 'account_streamer'

    def __init__(self, websocket: WebSocket, broker: Any) -> None:
        super().__init__(websocket, broker)
        self.session_id = secrets.token_hex(4)
        self.accounts: set[str] = set()
        self.connected = False

    def deliver(self, message: dict[str, Any]) -> None:
        """Queue a notification for this client."""
        self.send(message)

    async def handle(self, message: Any) -> None:
        """Answer one client message."""
        if not isinstance(message, dict):
            self._reply(None, None, error='invalid-message')
            return
        action, request_id = message.get('action'), message.get('request-id')
        token = message.get('auth-token')
        scheme, _, bare = str(token or '').partition(' ')
        try:
            if scheme != 'Bearer' or not bare:
                raise ApiError(401, 'unauthorized', 'missing token')
            user_id = self.broker.auth.check_access_token(bare)
        except ApiError:
            self._reply(action, request_id, error='invalid-auth-token')
            return
        if action == 'connect':
            self._connect(user_id, message.get('value'), request_id)
        elif action == 'heartbeat':
            self._reply(action, request_id, error=None if self.connected else 'not-implemented')
        elif action in USER_SUBSCRIPTIONS:
            self._reply(action, request_id, error=None if self.connected else 'connect-not-completed')
        else:
            self._reply(action, request_id, error='not-implemented')

    def _connect(self, user_id: str, value: Any, request_id: Any) -> None:
        numbers = [value] if isinstance(value, str) else value
        if not isinstance(numbers, list) or not numbers or not all(isinstance(n, str) for n in numbers):
            self._reply('connect', request_id, error='invalid-value')
            return
        state = self.broker.core.state
        if any(n not in state.accounts or state.accounts[n].owner_id != user_id for n in numbers):
            self._reply('connect', request_id, error='not-permitted')
            return
        self.accounts = set(numbers)
        self.connected = True
        self._reply('connect', request_id, value=numbers)
        self.established = True
        self.broker.faults.on_established(self)

    def _reply(self, action: Any, request_id: Any, *, error: str | None = None, value: Any = None) -> None:
        reply: dict[str, Any] = {
            'status': 'error' if error else 'ok',
            'action': action,
            'web-socket-session-id': self.session_id,
        }
        if value is not None:
            reply['value'] = value
        if error:
            reply['message'] = error
        reply['request-id'] = request_id
        self.send(reply)


async def account_streamer(websocket: WebSocket) -> None:
    """The websocket endpoint."""
    broker = broker_of(websocket)
    await websocket.accept()
    connection = StreamerConnection(websocket, broker)
    broker.connections.add(connection)
    broker.faults.targets.add(connection)
    broker.core.hub.account_listeners.add(connection)
    try:
        await connection.run()
    finally:
        broker.connections.discard(connection)
        broker.faults.targets.discard(connection)
        broker.core.hub.account_listeners.discard(connection)
