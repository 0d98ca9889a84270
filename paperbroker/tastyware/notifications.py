"""The paper API's notification websocket (``PAPER_STREAMER_URL``): the account-streamer protocol, orders only.

The SDK's ``AlertStreamer`` opens it with the paper session's headers, so the ``X-Api-Key`` of the upgrade request
authenticates the connection (the gateway checks it); the ``auth-token`` inside messages is ignored (a
``PaperSession`` sends a placeholder). ``connect`` takes the key's own accounts; only ``Order`` notifications
are delivered, as on the real service.
"""

from __future__ import annotations

from typing import Any

from starlette.websockets import WebSocket

from paperbroker.account_streamer import USER_SUBSCRIPTIONS, StreamerConnection
from paperbroker.responses import PREAUTHENTICATED_USER, broker_of

DELIVERED_TYPES = frozenset({'Order'})


class PaperNotificationConnection(StreamerConnection):
    """One paper-API streamer client, bound to the user of its API key."""

    def __init__(self, websocket: WebSocket, broker: Any, user_id: str) -> None:
        super().__init__(websocket, broker)
        self.user_id = user_id

    def deliver(self, message: dict[str, Any]) -> None:
        """Queue an order notification (the paper API streams nothing else)."""
        if message.get('type') in DELIVERED_TYPES:
            self.send(message)

    async def handle(self, message: Any) -> None:
        """Answer one client message."""
        if not isinstance(message, dict):
            self._reply(None, None, error='invalid-message')
            return
        action, request_id = message.get('action'), message.get('request-id')
        if action == 'connect':
            self._connect(self.user_id, message.get('value'), request_id)
        elif action == 'heartbeat':
            self._reply(action, request_id, error=None if self.connected else 'not-implemented')
        elif action in USER_SUBSCRIPTIONS:
            self._reply(action, request_id, error=None if self.connected else 'connect-not-completed')
        else:
            self._reply(action, request_id, error='not-implemented')


async def notifications(websocket: WebSocket) -> None:
    """The websocket endpoint (behind the gateway, so the key is already checked)."""
    broker = broker_of(websocket)
    await websocket.accept()
    connection = PaperNotificationConnection(websocket, broker, websocket.scope[PREAUTHENTICATED_USER])
    broker.connections.add(connection)
    broker.faults.targets.add(connection)
    broker.core.hub.account_listeners.add(connection)
    try:
        await connection.run()
    finally:
        broker.connections.discard(connection)
        broker.faults.targets.discard(connection)
        broker.core.hub.account_listeners.discard(connection)
