"""Instruments with their tick tables (equities, equity options, futures, future options)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from tastyguard.broker.models.common import BrokerModel, InstrumentType, OptDecimal, OptionType
from tastyguard.ticks import PENNY, Rounding, Tick, TickLike, round_to_tick


class TickSize(BrokerModel):
    """A tick-schedule entry; satisfies :class:`tastyguard.ticks.TickLike`.

    ``value`` applies to prices strictly below ``threshold``; the entry without a threshold applies at or
    above the highest threshold. ``symbol`` appears on futures ``spread-tick-sizes``.
    """

    value: Decimal
    threshold: Decimal | None = None
    symbol: str | None = None


def _schedule(*candidates: Sequence[TickLike]) -> Sequence[TickLike]:
    """The first non-empty schedule, else a flat penny."""
    for candidate in candidates:
        if candidate:
            return candidate
    return PENNY


class _Instrument(BrokerModel):
    """Fields common to every instrument."""

    symbol: str
    instrument_type: InstrumentType | None = None
    streamer_symbol: str | None = None
    active: bool | None = None
    is_closing_only: bool | None = None
    stops_trading_at: datetime | None = None
    expires_at: datetime | None = None

    def price_ticks(self) -> Sequence[TickLike]:
        """The tick schedule for an order price on this instrument (a penny if none is published)."""
        return PENNY

    def round_price(self, price: Decimal, direction: Rounding) -> Decimal:
        """Round ``price`` onto :meth:`price_ticks` in ``direction`` (see :func:`tastyguard.ticks.round_to_tick`)."""
        return round_to_tick(price, self.price_ticks(), direction)


class Equity(_Instrument):
    """``GET /instruments/equities/{symbol}``. ``option-tick-sizes`` apply to the options on it."""

    id: int | None = None
    description: str | None = None
    short_description: str | None = None
    cusip: str | None = None
    listed_market: str | None = None
    lendability: str | None = None
    borrow_rate: OptDecimal = None
    market_time_instrument_collection: str | None = None
    is_index: bool | None = None
    is_etf: bool | None = None
    is_options_closing_only: bool | None = None
    is_illiquid: bool | None = None
    is_fractional_quantity_eligible: bool | None = None
    overnight_trading_permitted: bool | None = None
    halted_at: datetime | None = None
    tick_sizes: tuple[TickSize, ...] = ()
    option_tick_sizes: tuple[TickSize, ...] = ()

    def price_ticks(self) -> Sequence[TickLike]:
        """``tick-sizes`` (e.g. 0.0001 below $1, 0.01 above)."""
        return _schedule(self.tick_sizes)

    def option_price_ticks(self) -> Sequence[TickLike]:
        """``option-tick-sizes``: the schedule for options on this equity."""
        return _schedule(self.option_tick_sizes)


class EquityOption(_Instrument):
    """``GET /instruments/equity-options/{occ}`` (also an item of the full option chain).

    The price schedule of an equity option is the *underlying equity's* ``option-tick-sizes``; this
    model has no tick table of its own, so :meth:`price_ticks` is a penny unless one is passed in.
    """

    underlying_symbol: str | None = None
    root_symbol: str | None = None
    option_type: OptionType | None = None
    strike_price: OptDecimal = None
    expiration_date: date | None = None
    expiration_type: str | None = None
    exercise_style: str | None = None
    settlement_type: str | None = None
    option_chain_type: str | None = None
    shares_per_contract: OptDecimal = None
    days_to_expiration: int | None = None
    market_time_instrument_collection: str | None = None


class FutureProduct(BrokerModel):
    """A futures product (``future-product`` inside a future, or ``/instruments/future-products/...``)."""

    code: str | None = None
    root_symbol: str | None = None
    description: str | None = None
    exchange: str | None = None
    product_type: str | None = None
    market_sector: str | None = None
    tick_size: OptDecimal = None
    display_factor: OptDecimal = None
    notional_multiplier: OptDecimal = None
    cash_settled: bool | None = None
    supported: bool | None = None
    active_months: tuple[str, ...] = ()
    listed_months: tuple[str, ...] = ()
    streamer_exchange_code: str | None = None


class FutureEtfEquivalent(BrokerModel):
    """The ETF a future is comparable to (``/ESZ6`` ~ 500 SPY)."""

    symbol: str | None = None
    share_quantity: OptDecimal = None


class Future(_Instrument):
    """``GET /instruments/futures/{symbol}``."""

    product_code: str | None = None
    exchange: str | None = None
    exchange_symbol: str | None = None
    product_group: str | None = None
    expiration_date: date | None = None
    last_trade_date: date | None = None
    closing_only_date: date | None = None
    contract_size: OptDecimal = None
    notional_multiplier: OptDecimal = None
    display_factor: OptDecimal = None
    tick_size: OptDecimal = None
    is_tradeable: bool | None = None
    active_month: bool | None = None
    next_active_month: bool | None = None
    streamer_exchange_code: str | None = None
    tick_sizes: tuple[TickSize, ...] = ()
    option_tick_sizes: tuple[TickSize, ...] = ()
    spread_tick_sizes: tuple[TickSize, ...] = ()
    future_product: FutureProduct | None = None
    future_etf_equivalent: FutureEtfEquivalent | None = None

    def price_ticks(self) -> Sequence[TickLike]:
        """``tick-sizes``, else the flat ``tick-size``, else a penny."""
        flat = (Tick(self.tick_size),) if self.tick_size else ()
        return _schedule(self.tick_sizes, flat)

    def option_price_ticks(self) -> Sequence[TickLike]:
        """``option-tick-sizes``: the schedule for options on this future."""
        return _schedule(self.option_tick_sizes)


class FutureOptionProduct(BrokerModel):
    """``future-option-product`` inside a future option."""

    root_symbol: str | None = None
    code: str | None = None
    exchange: str | None = None
    expiration_type: str | None = None
    product_type: str | None = None
    market_sector: str | None = None
    display_factor: OptDecimal = None
    clearing_price_multiplier: OptDecimal = None
    cash_settled: bool | None = None
    is_am_settled: bool | None = None
    supported: bool | None = None


class FutureOption(_Instrument):
    """``GET /instruments/future-options/{symbol}`` (also an item of the full futures option chain).

    The broker accepts no stops on futures options; the streamer protects them in software.
    """

    underlying_symbol: str | None = None
    product_code: str | None = None
    root_symbol: str | None = None
    option_root_symbol: str | None = None
    exchange: str | None = None
    exchange_symbol: str | None = None
    option_type: OptionType | None = None
    strike_price: OptDecimal = None
    expiration_date: date | None = None
    maturity_date: date | None = None
    days_to_expiration: int | None = None
    exercise_style: str | None = None
    settlement_type: str | None = None
    multiplier: OptDecimal = None
    notional_value: OptDecimal = None
    display_factor: OptDecimal = None
    strike_factor: OptDecimal = None
    underlying_count: OptDecimal = None
    is_vanilla: bool | None = None
    is_exercisable_weekly: bool | None = None
    tick_sizes: tuple[TickSize, ...] = ()
    future_option_product: FutureOptionProduct | None = None

    def price_ticks(self) -> Sequence[TickLike]:
        """``tick-sizes`` when the instrument carries them, else a penny."""
        return _schedule(self.tick_sizes)
