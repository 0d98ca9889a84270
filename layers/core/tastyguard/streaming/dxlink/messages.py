"""DXLink protocol messages: their type names and the messages this client sends.

The order a connection must follow (tastytrade's docs; dxFeed's servers reject out-of-order setups since
mid-2026): ``SETUP`` → server ``SETUP`` + ``AUTH_STATE UNAUTHORIZED`` → ``AUTH`` → ``AUTH_STATE AUTHORIZED`` →
``CHANNEL_REQUEST`` → ``CHANNEL_OPENED`` → ``FEED_SETUP`` → ``FEED_CONFIG`` → ``FEED_SUBSCRIPTION``, then
``KEEPALIVE`` on channel 0 at least every 30 s (websocket pings do not count).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from tastyguard import __version__
from tastyguard.streaming.dxlink.events import EventType

PROTOCOL_VERSION = f'0.1-tastyguard/{__version__}'
MAIN_CHANNEL = 0


class MessageType(StrEnum):
    """DXLink message types."""

    SETUP = 'SETUP'
    AUTH = 'AUTH'
    AUTH_STATE = 'AUTH_STATE'
    KEEPALIVE = 'KEEPALIVE'
    ERROR = 'ERROR'
    CHANNEL_REQUEST = 'CHANNEL_REQUEST'
    CHANNEL_OPENED = 'CHANNEL_OPENED'
    CHANNEL_CANCEL = 'CHANNEL_CANCEL'
    CHANNEL_CLOSED = 'CHANNEL_CLOSED'
    FEED_SETUP = 'FEED_SETUP'
    FEED_CONFIG = 'FEED_CONFIG'
    FEED_SUBSCRIPTION = 'FEED_SUBSCRIPTION'
    FEED_DATA = 'FEED_DATA'


class AuthState(StrEnum):
    AUTHORIZED = 'AUTHORIZED'
    UNAUTHORIZED = 'UNAUTHORIZED'


# One FEED channel per event type (odd numbers, as the spec asks of clients).
CHANNELS: Mapping[EventType, int] = {kind: 2 * i + 1 for i, kind in enumerate(EventType)}
CHANNEL_TYPES: Mapping[int, EventType] = {number: kind for kind, number in CHANNELS.items()}


def setup(keepalive_timeout: float) -> dict[str, Any]:
    """The first message: our version and how long we wait for the server (and accept it to wait for us)."""
    seconds = max(1, round(keepalive_timeout))
    return {
        'type': MessageType.SETUP,
        'channel': MAIN_CHANNEL,
        'version': PROTOCOL_VERSION,
        'keepaliveTimeout': seconds,
        'acceptKeepaliveTimeout': seconds,
    }


def auth(token: str) -> dict[str, Any]:
    """``AUTH`` with the quote token (never log this message)."""
    return {'type': MessageType.AUTH, 'channel': MAIN_CHANNEL, 'token': token}


def keepalive() -> dict[str, Any]:
    return {'type': MessageType.KEEPALIVE, 'channel': MAIN_CHANNEL}


def channel_request(channel: int) -> dict[str, Any]:
    return {
        'type': MessageType.CHANNEL_REQUEST,
        'channel': channel,
        'service': 'FEED',
        'parameters': {'contract': 'AUTO'},
    }


def feed_setup(channel: int, aggregation: float, fields: Mapping[str, Sequence[str]] | None) -> dict[str, Any]:
    """COMPACT data, the aggregation period, and the fields we would like (the server decides)."""
    message: dict[str, Any] = {
        'type': MessageType.FEED_SETUP,
        'channel': channel,
        'acceptAggregationPeriod': aggregation,
        'acceptDataFormat': 'COMPACT',
    }
    if fields:
        message['acceptEventFields'] = {kind: list(names) for kind, names in fields.items()}
    return message
