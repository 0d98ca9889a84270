"""Settings of a :class:`~tastyguard.streaming.dxlink.feed.DXLinkFeed` (defaults follow the field notes)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tastyguard.streaming.dxlink.events import EventType


class FeedConfig(BaseModel):
    """Timers, limits and what to ask the server for. Every duration is in seconds unless typed otherwise."""

    model_config = ConfigDict(frozen=True, extra='forbid')

    keepalive_interval: float = Field(30.0, gt=0, description='KEEPALIVE period (the server drops us after 60 s)')
    silence_timeout: float = Field(60.0, gt=0, description='no inbound message this long = a dead socket')
    action_timeout: float = Field(10.0, gt=0, description='how long each setup step may take')
    aggregation_period: float = Field(0.1, ge=0, description='acceptAggregationPeriod in FEED_SETUP')
    max_message_bytes: int = Field(8192, ge=512, description='largest FEED_SUBSCRIPTION we send (JSON bytes)')
    max_symbols_per_message: int = Field(250, ge=1, description='most subscription objects per message')
    max_inbound_bytes: int = Field(8 * 2**20, ge=2**16, description='largest message we accept')
    close_timeout: float = Field(2.0, gt=0, description='how long a clean close may take')
    token_renew_before: timedelta = Field(timedelta(hours=1), description='renew the quote token this early')
    backoff_base: float = Field(1.0, gt=0)
    backoff_cap: float = Field(30.0, gt=0)
    healthy_after: float = Field(60.0, ge=0, description='a connection up this long resets the backoff')
    accept_event_fields: dict[EventType, tuple[str, ...]] | None = Field(
        None,
        description="fields to request per type: None = this client's defaults, {} = ask for none (server defaults)",
    )

    @model_validator(mode='after')
    def _coherent(self) -> FeedConfig:
        if self.backoff_cap < self.backoff_base:
            raise ValueError('backoff_cap must be at least backoff_base')
        return self
