"""Reading one account from the broker: positions, working orders, quotes, tick schedules.

Positions and orders are essential: if either read fails the caller skips the account's cycle (missing
data is never read as "flat"). Quotes and instruments are not: without a quote the planner places nothing
for that position and raises an alert; without an instrument the coarsest valid tick schedule is used
(every price on it is also valid on the finer ones), or the position is left to the planner's alert.

A futures option's prices follow its future's ``option-tick-sizes`` (ES options: 0.05 below 5.00, 0.10 below
20.00, 0.25 below 100.00, 0.50 above). No coarsest schedule is safe across futures products, so without that
table a futures option has no tick schedule and nothing is priced for it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from tastyguard.broker import models as wire
from tastyguard.broker.errors import BrokerError
from tastyguard.engine.types import EQUITY_TICKS, Holding, InstrumentType, InstrumentView, QuoteView, WorkingOrder
from tastyguard.jobs import mapping
from tastyguard.jobs.ports import Broker
from tastyguard.store.instruments import InstrumentCache
from tastyguard.ticks import Tick

logger = logging.getLogger('tastyguard.jobs')

COARSE_OPTION_TICKS = (Tick(Decimal('0.05'), Decimal(3)), Tick(Decimal('0.10')))
"""The non-penny option schedule: valid at every venue, so the safe fallback when instrument data is missing."""

_QUOTE_TYPES = {
    InstrumentType.EQUITY: wire.InstrumentType.EQUITY,
    InstrumentType.EQUITY_OPTION: wire.InstrumentType.EQUITY_OPTION,
    InstrumentType.FUTURE: wire.InstrumentType.FUTURE,
    InstrumentType.FUTURE_OPTION: wire.InstrumentType.FUTURE_OPTION,
}


_FETCHED = frozenset(
    {InstrumentType.EQUITY, InstrumentType.EQUITY_OPTION, InstrumentType.FUTURE, InstrumentType.FUTURE_OPTION}
)
"""The instrument types whose tick schedule is read from the broker."""


@dataclass(frozen=True)
class AccountRead:
    """One consistent look at an account."""

    positions: list[wire.Position]
    orders: list[wire.Order]
    holdings: list[Holding]
    working: list[WorkingOrder]
    quotes: dict[str, QuoteView]
    instruments: dict[str, InstrumentView]
    notes: tuple[str, ...] = ()


def read_positions(broker: Broker, account: str) -> tuple[list[wire.Position], list[Holding]]:
    """Positions (raises on failure: the caller must skip the cycle)."""
    positions = [position for position in broker.positions(account) if position.signed_quantity != 0]
    return positions, [mapping.holding(position) for position in positions]


def read_quotes(broker: Broker, holdings: Iterable[Holding]) -> tuple[dict[str, QuoteView], list[str]]:
    """Quotes for every position, in batches of 100 (a failure leaves them out and says so)."""
    return quotes_for(broker, ((holding.symbol, holding.instrument_type) for holding in holdings))


def quotes_for(broker: Broker, symbols: Iterable[tuple[str, InstrumentType]]) -> tuple[dict[str, QuoteView], list[str]]:
    """Quotes for ``(symbol, instrument type)`` pairs, in batches of 100 (a failure leaves them out)."""
    by_type: dict[wire.InstrumentType | str, list[str]] = defaultdict(list)
    for symbol, instrument_type in symbols:
        kind = _QUOTE_TYPES.get(instrument_type)
        if kind is not None:
            by_type[kind].append(symbol)
    if not by_type:
        return {}, []
    try:
        quotes = broker.quotes(by_type)
    except BrokerError as error:
        logger.warning('quotes unavailable: %s', error)
        return {}, [f'quotes unavailable ({error}); no stop is placed without a current price']
    return {quote.symbol: mapping.quote_view(quote) for quote in quotes}, []


def _schedule(
    holding: Holding, equities: Mapping[str, wire.Equity], futures: Mapping[str, wire.Future]
) -> tuple[tuple[Tick, ...], bool] | None:
    """The tick schedule of ``holding``'s prices from the fetched instruments (None: not available)."""
    kind = holding.instrument_type
    if kind is InstrumentType.EQUITY and (equity := equities.get(holding.symbol)) is not None:
        schedule = mapping.ticks(equity.price_ticks()) if equity.tick_sizes else EQUITY_TICKS
        return schedule, bool(equity.is_closing_only)
    if kind is InstrumentType.EQUITY_OPTION and (underlying := equities.get(holding.underlying_symbol)) is not None:
        if not underlying.option_tick_sizes:
            return COARSE_OPTION_TICKS, bool(underlying.is_options_closing_only)
        return mapping.ticks(underlying.option_price_ticks()), bool(underlying.is_options_closing_only)
    if kind is InstrumentType.FUTURE and (future := futures.get(holding.symbol)) is not None:
        if not (future.tick_sizes or future.tick_size):
            return None
        return mapping.ticks(future.price_ticks()), bool(future.is_closing_only)
    if kind is InstrumentType.FUTURE_OPTION and (future := futures.get(option_future(holding))) is not None:
        if not future.option_tick_sizes:
            return None  # never the penny default: an off-tick price dies at the venue
        return mapping.ticks(future.option_price_ticks()), False
    return None


def option_future(holding: Holding) -> str:
    """The future a futures option is on: the position's underlying (``/ESZ6``), else its symbol's first word
    (``./ESZ6 ESZ6  261218P5800`` → ``/ESZ6``)."""
    underlying = holding.underlying_symbol.strip()
    if underlying.startswith('/'):
        return underlying
    return holding.symbol.strip().split(' ', 1)[0].removeprefix('.')


def _fallback(holding: Holding) -> tuple[Tick, ...] | None:
    if holding.instrument_type is InstrumentType.EQUITY:
        return EQUITY_TICKS
    if holding.instrument_type is InstrumentType.EQUITY_OPTION:
        return COARSE_OPTION_TICKS
    return None


def _fetch(
    broker: Broker, missing: Sequence[Holding]
) -> tuple[dict[str, wire.Equity], dict[str, wire.Future], list[str]]:
    """The equities (positions and option underlyings) and futures (positions and the futures options' underlying
    futures) of ``missing``, in batched requests."""
    wanted_equities = {h.symbol for h in missing if h.instrument_type is InstrumentType.EQUITY}
    wanted_equities |= {h.underlying_symbol for h in missing if h.instrument_type is InstrumentType.EQUITY_OPTION}
    wanted_futures = {h.symbol for h in missing if h.instrument_type is InstrumentType.FUTURE}
    wanted_futures |= {option_future(h) for h in missing if h.instrument_type is InstrumentType.FUTURE_OPTION}
    notes: list[str] = []
    equities: dict[str, wire.Equity] = {}
    futures: dict[str, wire.Future] = {}
    try:
        equities = broker.equities(sorted(wanted_equities)) if wanted_equities else {}
    except BrokerError as error:
        logger.warning('equity instruments unavailable: %s', error)
        notes.append(f'equity instrument data unavailable ({error})')
    try:
        futures = broker.futures(sorted(wanted_futures)) if wanted_futures else {}
    except BrokerError as error:
        logger.warning('futures instruments unavailable: %s', error)
        notes.append(f'futures instrument data unavailable ({error})')
    return equities, futures, notes


def read_instruments(
    broker: Broker, cache: InstrumentCache, holdings: Iterable[Holding]
) -> tuple[dict[str, InstrumentView], list[str]]:
    """Tick schedules of every position: cached for a week across processes, else fetched in batches."""
    views: dict[str, InstrumentView] = {}
    missing: list[Holding] = []
    for holding in holdings:
        cached = cache.get(holding.instrument_type.value, holding.symbol)
        if cached is not None:
            views[holding.symbol] = InstrumentView(holding.symbol, cached.schedule(), closing_only=cached.closing_only)
        elif holding.instrument_type in _FETCHED:
            missing.append(holding)
    if not missing:
        return views, []
    equities, futures, notes = _fetch(broker, missing)
    for holding in missing:
        found = _schedule(holding, equities, futures)
        if found is not None:
            schedule, closing_only = found
            cache.put(holding.instrument_type.value, holding.symbol, schedule, closing_only=closing_only)
            views[holding.symbol] = InstrumentView(holding.symbol, schedule, closing_only=closing_only)
            continue
        fallback = _fallback(holding)
        if fallback is not None:
            views[holding.symbol] = InstrumentView(holding.symbol, fallback)
            notes.append(f'{holding.symbol}: instrument data unavailable; using the coarsest valid tick schedule')
    return views, notes


def read_account(
    broker: Broker,
    cache: InstrumentCache,
    account: str,
    *,
    only: Callable[[Sequence[Holding]], Sequence[Holding]] | None = None,
    quote_source: Callable[[Sequence[Holding]], Mapping[str, QuoteView]] | None = None,
) -> AccountRead:
    """Positions and live orders (essential), then quotes and instruments (best effort).

    ``only`` picks, from all positions, the ones a symbol-scoped run plans: quotes and instruments are fetched
    for those only. ``quote_source`` gives fresh streamed quotes for some positions (the streamer's
    latest-quote items): those need no REST call.
    """
    positions, holdings = read_positions(broker, account)
    orders = broker.live_orders(account)
    wanted = list(only(holdings)) if only is not None else holdings
    streamed = dict(quote_source(wanted)) if quote_source is not None and wanted else {}
    quotes, quote_notes = read_quotes(broker, [h for h in wanted if h.symbol not in streamed])
    quotes.update(streamed)
    instruments, instrument_notes = read_instruments(broker, cache, wanted)
    return AccountRead(
        positions=positions,
        orders=orders,
        holdings=holdings,
        working=mapping.working_orders(orders),
        quotes=quotes,
        instruments=instruments,
        notes=(*quote_notes, *instrument_notes),
    )
