"""The streamer's status item, ``GLOBAL / STREAMER#HEALTH`` (written by :mod:`tastyguard.streaming.health`).

``tastyguard status`` shows it; the dispatcher reads ``held`` and ``activity`` from it to leave quiet watched
accounts out of most ensure-stops sweeps (decision 60). It lives in the store so that a Lambda function reads
it without importing the streamer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from tastyguard.store.keys import GLOBAL_PK
from tastyguard.store.table import StateTable

STREAMER_HEALTH_SK = 'STREAMER#HEALTH'


class StreamerHealthRecord(BaseModel):
    """The status item: both sockets of every grant, and what the accounts socket holds."""

    model_config = ConfigDict(frozen=True)

    owner: str
    healthy: bool
    updated_at: datetime
    symbols: int = 0
    sockets: dict[str, dict[str, Any]] = {}
    detail: str = ''
    held: dict[str, datetime] = {}  # account → held by a healthy account socket, without a break, since
    activity: dict[str, datetime] = {}  # account → its last order, position or trading-status notification


def read_health(state: StateTable) -> StreamerHealthRecord | None:
    """The last status item the streamer wrote (None: no streamer has run)."""
    return state.get_record(GLOBAL_PK, STREAMER_HEALTH_SK, StreamerHealthRecord)
