"""Option chains (``/option-chains/{symbol}[/nested|/compact]``, ``/futures-option-chains/{code}[/nested]``)."""

from __future__ import annotations

from datetime import date, datetime

from tastyguard.broker.models.common import BrokerModel, OptDecimal
from tastyguard.broker.models.instruments import TickSize


class Deliverable(BrokerModel):
    """What one contract delivers."""

    id: int | None = None
    amount: OptDecimal = None
    deliverable_type: str | None = None
    description: str | None = None
    instrument_type: str | None = None
    percent: OptDecimal = None
    root_symbol: str | None = None
    symbol: str | None = None


class Strike(BrokerModel):
    """A strike of a nested chain: the call and put symbols."""

    strike_price: OptDecimal = None
    call: str | None = None
    call_streamer_symbol: str | None = None
    put: str | None = None
    put_streamer_symbol: str | None = None


class NestedExpiration(BrokerModel):
    """An expiration of a nested (equity or futures) option chain."""

    expiration_date: date | None = None
    expiration_type: str | None = None
    days_to_expiration: int | None = None
    settlement_type: str | None = None
    underlying_symbol: str | None = None
    root_symbol: str | None = None
    option_root_symbol: str | None = None
    option_contract_symbol: str | None = None
    asset: str | None = None
    notional_value: OptDecimal = None
    display_factor: OptDecimal = None
    strike_factor: OptDecimal = None
    stops_trading_at: datetime | None = None
    expires_at: datetime | None = None
    tick_sizes: tuple[TickSize, ...] = ()
    strikes: tuple[Strike, ...] = ()


class NestedOptionChain(BrokerModel):
    """An item of ``/option-chains/{symbol}/nested``."""

    underlying_symbol: str
    root_symbol: str | None = None
    option_chain_type: str | None = None
    shares_per_contract: OptDecimal = None
    tick_sizes: tuple[TickSize, ...] = ()
    deliverables: tuple[Deliverable, ...] = ()
    expirations: tuple[NestedExpiration, ...] = ()


class CompactOptionChain(BrokerModel):
    """An item of ``/option-chains/{symbol}/compact``."""

    underlying_symbol: str
    root_symbol: str | None = None
    option_chain_type: str | None = None
    settlement_type: str | None = None
    expiration_type: str | None = None
    shares_per_contract: OptDecimal = None
    deliverables: tuple[Deliverable, ...] = ()
    symbols: tuple[str, ...] = ()
    streamer_symbols: tuple[str, ...] = ()


class FutureSummary(BrokerModel):
    """A future listed in ``futures-option-chains/{code}/nested``."""

    symbol: str
    root_symbol: str | None = None
    streamer_symbol: str | None = None
    expiration_date: date | None = None
    days_to_expiration: int | None = None
    active_month: bool | None = None
    next_active_month: bool | None = None
    stops_trading_at: datetime | None = None
    expires_at: datetime | None = None


class FutureOptionChain(BrokerModel):
    """One option chain of ``futures-option-chains/{code}/nested``."""

    underlying_symbol: str | None = None
    root_symbol: str | None = None
    exercise_style: str | None = None
    expirations: tuple[NestedExpiration, ...] = ()


class NestedFuturesOptionChains(BrokerModel):
    """``data`` of ``GET /futures-option-chains/{code}/nested``."""

    futures: tuple[FutureSummary, ...] = ()
    option_chains: tuple[FutureOptionChain, ...] = ()
