"""Subscription sets and the ``FEED_SUBSCRIPTION`` messages that move a channel from one set to another.

A set maps each subscribed symbol to its ``fromTime`` (candles) or ``None``. :func:`changes` is the diff
between what the server has and what is wanted (a candle whose ``fromTime`` changed is re-added, which makes the
server resend its history); :func:`chunked` splits it into messages no longer than ``max_bytes`` of JSON and
``max_items`` subscription objects each, because one over-large message makes dxFeed close the socket (1009).
The size is measured on the real serialization, not estimated.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tastyguard.streaming.dxlink.events import EventType
from tastyguard.streaming.dxlink.messages import MessageType

SymbolSet = Mapping[str, int | None]  # symbol -> fromTime (epoch ms) for time series, else None
_COMPACT = (',', ':')


@dataclass(frozen=True)
class Changes:
    """Subscription objects to add and to remove on one channel."""

    add: tuple[dict[str, Any], ...] = ()
    remove: tuple[dict[str, Any], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.add or self.remove)


def _item(kind: EventType, symbol: str, from_time: int | None) -> dict[str, Any]:
    item: dict[str, Any] = {'type': kind.value, 'symbol': symbol}
    if from_time is not None:
        item['fromTime'] = from_time
    return item


def changes(kind: EventType, have: SymbolSet, want: SymbolSet) -> Changes:
    """What to send so the server holds ``want`` instead of ``have``."""
    remove = [_item(kind, s, have[s]) for s in sorted(have) if s not in want]
    add = [_item(kind, s, want[s]) for s in sorted(want) if s not in have or have[s] != want[s]]
    return Changes(tuple(add), tuple(remove))


def chunked(channel: int, delta: Changes, *, reset: bool, max_bytes: int, max_items: int) -> list[dict[str, Any]]:
    """``FEED_SUBSCRIPTION`` messages for ``delta`` (``reset`` goes into the first one)."""
    envelope: dict[str, Any] = {'type': MessageType.FEED_SUBSCRIPTION.value, 'channel': channel}
    base = len(json.dumps(envelope, separators=_COMPACT))
    messages: list[dict[str, Any]] = []
    current: dict[str, Any] = dict(envelope, reset=True) if reset else dict(envelope)
    size = len(json.dumps(current, separators=_COMPACT))
    items = 0
    for key, group in (('remove', delta.remove), ('add', delta.add)):
        for item in group:
            encoded = len(json.dumps(item, separators=_COMPACT)) + 1  # the comma (or the bracket)
            opening = 0 if key in current else len(f',"{key}":[]')
            if items and (size + opening + encoded > max_bytes or items >= max_items):
                messages.append(current)
                current, size, items = dict(envelope), base, 0
                opening = len(f',"{key}":[]')
            if size + opening + encoded > max_bytes:
                raise ValueError(f'one subscription object is longer than {max_bytes} bytes: {item["symbol"]!r}')
            current.setdefault(key, []).append(item)
            size += opening + encoded
            items += 1
    if items or reset:
        messages.append(current)
    return messages


def encoded_size(message: Mapping[str, Any]) -> int:
    """The size of a message as this client sends it."""
    return len(json.dumps(message, separators=_COMPACT))
