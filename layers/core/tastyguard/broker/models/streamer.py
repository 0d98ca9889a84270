"""Account-streamer messages: notifications (``{"type", "data", "timestamp"}``) and acknowledgements.

:func:`parse_notification` never fails on an unknown ``type``: it returns an :class:`UnknownNotification`
holding the raw data, so a new notification kind can be logged and skipped.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Tag, TypeAdapter

from tastyguard.broker.models.accounts import TradingStatus
from tastyguard.broker.models.balances import AccountBalance
from tastyguard.broker.models.common import BrokerModel, EpochMillis
from tastyguard.broker.models.complex_orders import ComplexOrder
from tastyguard.broker.models.orders import Order
from tastyguard.broker.models.positions import Position


class _Notification(BrokerModel):
    timestamp: EpochMillis = None


class OrderNotification(_Notification):
    """``type: Order``: the full order object after a change (never a diff)."""

    type: Literal['Order']
    data: Order


class ComplexOrderNotification(_Notification):
    """``type: ComplexOrder``."""

    type: Literal['ComplexOrder']
    data: ComplexOrder


class PositionNotification(_Notification):
    """``type: CurrentPosition``."""

    type: Literal['CurrentPosition']
    data: Position


class BalanceNotification(_Notification):
    """``type: AccountBalance``."""

    type: Literal['AccountBalance']
    data: AccountBalance


class TradingStatusNotification(_Notification):
    """``type: TradingStatus``."""

    type: Literal['TradingStatus']
    data: TradingStatus


class UnknownNotification(_Notification):
    """Any other ``type`` (``ExternalTransaction``, ``QuoteAlert``, a future one...), kept raw."""

    type: str
    data: Any = None


_KNOWN = frozenset({'Order', 'ComplexOrder', 'CurrentPosition', 'AccountBalance', 'TradingStatus'})


def _tag(value: Any) -> str:
    kind = value.get('type') if isinstance(value, dict) else getattr(value, 'type', None)
    return kind if kind in _KNOWN else 'unknown'


Notification = Annotated[
    Annotated[OrderNotification, Tag('Order')]
    | Annotated[ComplexOrderNotification, Tag('ComplexOrder')]
    | Annotated[PositionNotification, Tag('CurrentPosition')]
    | Annotated[BalanceNotification, Tag('AccountBalance')]
    | Annotated[TradingStatusNotification, Tag('TradingStatus')]
    | Annotated[UnknownNotification, Tag('unknown')],
    Discriminator(_tag),
]
"""One account-streamer notification, discriminated on ``type``."""


@functools.cache
def _adapter() -> TypeAdapter[Notification]:
    return TypeAdapter(Notification)  # built on first use: keeps the import light


def parse_notification(raw: str | bytes | dict[str, Any]) -> Notification:
    """Parse one notification message (JSON text or an already-decoded dict).

    Raises
    ------
    pydantic.ValidationError
        When a known ``type`` carries data that does not fit its model.
    """
    if isinstance(raw, dict):
        return _adapter().validate_python(raw)
    return _adapter().validate_json(raw)


class StreamerAck(BrokerModel):
    """A reply to an action: ``{"status": "ok"|"error", "action", "web-socket-session-id", ...}``."""

    status: str
    action: str | None = None
    request_id: int | None = None
    web_socket_session_id: str | None = None
    message: str | None = None
    value: Any = None

    @property
    def ok(self) -> bool:
        """True for ``status: ok``."""
        return self.status == 'ok'
