"""What the streamer tells the fast path: a fill, a position change or an ended order on one symbol of one account.

Published to the event bus as ``source = tastyguard.streamer``, ``detail-type`` ``OrderFilled``,
``PositionChanged``, ``OrderEnded`` (a closing order, or one of tastyguard's, ended without a fill) or
``StopRatchet`` (a trailing stop's mark moved: :mod:`~tastyguard.streaming.follow`),
``detail = {"account", "symbol", ...}``; the bus rule turns it into a symbol-scoped
``ensure_stops`` run. ``event_id`` is deterministic (the same fill seen twice, or by two streamers, is the same
event), so the run's Powertools idempotency and the account lease make duplicates harmless.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


class DetailType(enum.StrEnum):
    """The bus detail types (``infra/constants.py`` ``STREAMER_DETAIL_TYPES``)."""

    ORDER_FILLED = 'OrderFilled'
    POSITION_CHANGED = 'PositionChanged'
    STOP_RATCHET = 'StopRatchet'  # a trailing stop's mark moved enough: move the stop (price only)
    ORDER_ENDED = 'OrderEnded'  # a closing order (or one of ours) was cancelled, rejected or expired unfilled


SOURCE = 'tastyguard.streamer'


@dataclass(frozen=True)
class StreamEvent:
    """One fast-path event."""

    detail_type: DetailType
    account: str
    symbol: str
    event_id: str
    seen_at: datetime
    order_id: int | None = None
    quantity: Decimal | None = None  # the position's new signed quantity, or the quantity just filled
    fence: int | None = None  # the streamer lease's version: who published it
    extra: dict[str, Any] = field(default_factory=dict)

    def detail(self) -> dict[str, Any]:
        """The bus event's ``detail``."""
        body: dict[str, Any] = {'account': self.account, 'symbol': self.symbol, 'event_id': self.event_id}
        if self.order_id is not None:
            body['order_id'] = self.order_id
        if self.quantity is not None:
            body['quantity'] = str(self.quantity)
        if self.fence is not None:
            body['fence'] = self.fence
        body['seen_at'] = self.seen_at.isoformat()
        return {**body, **self.extra}


def event_id(*parts: object) -> str:
    """A short deterministic id of ``parts`` (EventBridge ids are ours to choose in the detail)."""
    digest = hashlib.sha256('|'.join(str(p) for p in parts).encode()).hexdigest()
    return f'str-{digest[:32]}'
