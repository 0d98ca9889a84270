"""What a streaming connection (:class:`~tastyguard.streaming.dxlink.feed.DXLinkFeed`, the account stream) reports.

Every change goes to the ``on_state`` callback as a :class:`FeedState`:

* ``CONNECTING`` (attempt n) → ``CONNECTED`` once authorized, channels open and subscriptions sent
  (``reconnected`` is True from the second time on: the moment to run a catch-up reconcile);
* ``DISCONNECTED`` with the :class:`DisconnectReason`, the websocket close code when there was one, a
  secret-free ``detail`` and ``retry_in`` (the backoff delay before the next attempt);
* ``STOPPED`` at the end: after :meth:`~DXLinkFeed.stop` (reason ``STOPPED``) or because the broker grant needs
  a human (reason ``REAUTHORIZATION_REQUIRED``; ``run()`` raises the broker's
  :class:`~tastyguard.broker.errors.ReauthorizationRequired` and never retries).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FeedStatus(StrEnum):
    CONNECTING = 'connecting'
    CONNECTED = 'connected'
    DISCONNECTED = 'disconnected'
    STOPPED = 'stopped'


class DisconnectReason(StrEnum):
    """Why a connection ended."""

    CLOSED = 'closed'  # the server closed with a close frame (1000, 1001, 1012 "Reconnection is required"...)
    CONNECTION_LOST = 'connection_lost'  # no close frame: the TCP connection broke (1006)
    SILENCE = 'silence'  # nothing arrived for the silence timeout: a half-open socket
    CONNECT_FAILED = 'connect_failed'  # TCP, TLS or the websocket upgrade failed (e.g. HTTP 502)
    HANDSHAKE_TIMEOUT = 'handshake_timeout'  # a setup step got no answer in time
    AUTH_REJECTED = 'auth_rejected'  # the quote token was refused (expired or revoked): a new one is fetched
    PROTOCOL_ERROR = 'protocol_error'  # the server sent ERROR or something unreadable
    MESSAGE_TOO_BIG = 'message_too_big'  # close 1009: subscription chunks are halved for the next attempt
    TOKEN_UNAVAILABLE = 'token_unavailable'  # noqa: S105 - the quote token could not be fetched (transient)
    TOKEN_RENEWAL = 'token_renewal'  # noqa: S105 - planned: the token is near its expiry, reconnect with a new one
    REAUTHORIZATION_REQUIRED = 'reauthorization_required'  # the broker grant is dead: stopped for good
    STOPPED = 'stopped'  # stop() was called


@dataclass(frozen=True)
class FeedState:
    """One state change of the feed."""

    status: FeedStatus
    attempt: int = 0
    reason: DisconnectReason | None = None
    close_code: int | None = None
    detail: str = ''
    retry_in: float | None = None
    reconnected: bool = False
    connected_for: float | None = None  # seconds the connection that just ended had been CONNECTED
