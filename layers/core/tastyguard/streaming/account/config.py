"""Timers and limits of the account stream (defaults from ``streamer-anchors.md`` §10)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AccountStreamConfig:
    """How the account stream talks to tastytrade's account streamer."""

    heartbeat_interval: float = 15.0  # the docs allow 2 s - 60 s; each heartbeat carries a fresh Bearer token
    silence_timeout: float = 45.0  # no inbound frame (ack or notification) for this long: a dead socket
    action_timeout: float = 10.0  # the connect acknowledgement must come within this
    ping_interval: float | None = 20.0  # websocket pings: a second layer under the heartbeat acks
    ping_timeout: float | None = 20.0
    close_timeout: float = 2.0
    backoff_base: float = 1.0
    backoff_cap: float = 30.0
    healthy_after: float = 60.0
    max_inbound_bytes: int = 8 * 1024 * 1024
    rejected_heartbeats: int = 2  # heartbeats refused in a row (a dead token even after replacing it): reconnect

    def __post_init__(self) -> None:
        if self.heartbeat_interval <= 0 or self.silence_timeout <= self.heartbeat_interval:
            raise ValueError('the silence timeout must be longer than the heartbeat interval')
