"""Market metrics and margin requirements (read for reports, never for order decisions)."""

from __future__ import annotations

from datetime import date, datetime

from tastyguard.broker.models.common import BrokerModel, OptDecimal


class ExpirationVolatility(BrokerModel):
    """Implied volatility of one expiration."""

    expiration_date: date | None = None
    option_chain_type: str | None = None
    settlement_type: str | None = None
    implied_volatility: OptDecimal = None


class MarketMetric(BrokerModel):
    """An item of ``GET /market-metrics?symbols=...``."""

    symbol: str
    implied_volatility_index: OptDecimal = None
    implied_volatility_index_rank: OptDecimal = None
    implied_volatility_percentile: OptDecimal = None
    liquidity_rating: int | None = None
    beta: OptDecimal = None
    market_cap: OptDecimal = None
    historical_volatility_30_day: OptDecimal = None
    implied_volatility_30_day: OptDecimal = None
    updated_at: datetime | None = None
    option_expiration_implied_volatilities: tuple[ExpirationVolatility, ...] = ()


class MarginRequirement(BrokerModel):
    """``GET /margin-requirements-public-configuration`` / per-underlying margin requirements."""

    underlying_symbol: str | None = None
    long_equity_initial: OptDecimal = None
    long_equity_maintenance: OptDecimal = None
    short_equity_initial: OptDecimal = None
    short_equity_maintenance: OptDecimal = None
    naked_option_standard: OptDecimal = None
    naked_option_minimum: OptDecimal = None
    naked_option_floor: OptDecimal = None
