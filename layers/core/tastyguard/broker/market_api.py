"""Instruments (cached, with tick tables), REST quotes and the DXLink quote token."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TypeVar

from tastyguard.broker.core import ClientCore
from tastyguard.broker.models.common import BrokerModel, InstrumentType
from tastyguard.broker.models.instruments import Equity, EquityOption, Future, FutureOption
from tastyguard.broker.models.quotes import Quote, QuoteToken
from tastyguard.ticks import TickLike

InstrumentT = TypeVar('InstrumentT', bound=BrokerModel)

QUOTE_BATCH = 100
"""``/market-data/by-type`` takes at most 100 symbols per call, all types together."""

INSTRUMENT_BATCH = 50
"""Symbols per batched instrument request (keeps the URL short; every page is read)."""

QUOTE_PARAMS: Mapping[InstrumentType, str] = {
    InstrumentType.EQUITY: 'equity',
    InstrumentType.EQUITY_OPTION: 'equity-option',
    InstrumentType.INDEX: 'index',
    InstrumentType.FUTURE: 'future',
    InstrumentType.FUTURE_OPTION: 'future-option',
    InstrumentType.CRYPTOCURRENCY: 'cryptocurrency',
}


class MarketApi(ClientCore):
    """Instrument look-ups with an in-memory TTL cache, quotes and the quote token."""

    def _cached(self, kind: str, symbol: str, model: type[InstrumentT], path: str) -> InstrumentT:
        key = (kind, symbol)
        now = self._clock()
        with self._instrument_lock:
            hit = self._instrument_cache.get(key)
        if hit is not None and hit[0] > now and isinstance(hit[1], model):
            return hit[1]
        instrument = self._get_data(model, path)
        with self._instrument_lock:
            self._instrument_cache[key] = (now + self.instrument_cache_ttl, instrument)
        return instrument

    def _batch(self, kind: str, symbols: Iterable[str], model: type[InstrumentT], path: str) -> dict[str, InstrumentT]:
        """Many instruments in few requests (``?symbol[]=A&symbol[]=B``); cached like the single look-ups."""
        now = self._clock()
        found: dict[str, InstrumentT] = {}
        wanted: list[str] = []
        for symbol in dict.fromkeys(symbols):
            with self._instrument_lock:
                hit = self._instrument_cache.get((kind, symbol))
            if hit is not None and hit[0] > now and isinstance(hit[1], model):
                found[symbol] = hit[1]
            else:
                wanted.append(symbol)
        for start in range(0, len(wanted), INSTRUMENT_BATCH):
            chunk = wanted[start : start + INSTRUMENT_BATCH]
            items = self._get_pages(
                model, path, {'symbol[]': chunk}, per_page=INSTRUMENT_BATCH, max_pages=10, what=f'{kind} look-up'
            )
            with self._instrument_lock:
                for item in items:
                    symbol = str(getattr(item, 'symbol', ''))
                    self._instrument_cache[(kind, symbol)] = (now + self.instrument_cache_ttl, item)
                    found[symbol] = item
        return found

    def equities(self, symbols: Iterable[str]) -> dict[str, Equity]:
        """``GET /instruments/equities?symbol[]=...``: many equities by symbol (unknown symbols are absent)."""
        return self._batch('equity', symbols, Equity, '/instruments/equities')

    def futures(self, symbols: Iterable[str]) -> dict[str, Future]:
        """``GET /instruments/futures?symbol[]=...``: many futures by symbol (unknown symbols are absent)."""
        return self._batch('future', symbols, Future, '/instruments/futures')

    def clear_instrument_cache(self) -> None:
        """Forget every cached instrument."""
        with self._instrument_lock:
            self._instrument_cache.clear()

    def equity(self, symbol: str) -> Equity:
        """``GET /instruments/equities/{symbol}`` (cached)."""
        return self._cached('equity', symbol, Equity, f'/instruments/equities/{self._segment(symbol)}')

    def equity_option(self, symbol: str) -> EquityOption:
        """``GET /instruments/equity-options/{occ symbol}`` (cached)."""
        return self._cached(
            'equity-option', symbol, EquityOption, f'/instruments/equity-options/{self._segment(symbol)}'
        )

    def future(self, symbol: str) -> Future:
        """``GET /instruments/futures/{symbol}`` (``/ESZ6`` is sent without its slash; cached)."""
        return self._cached('future', symbol, Future, f'/instruments/futures/{self._segment(symbol.lstrip("/"))}')

    def future_option(self, symbol: str) -> FutureOption:
        """``GET /instruments/future-options/{symbol}`` (cached)."""
        return self._cached(
            'future-option', symbol, FutureOption, f'/instruments/future-options/{self._segment(symbol)}'
        )

    def tick_schedule(self, instrument_type: InstrumentType | str, symbol: str) -> Sequence[TickLike]:
        """The price tick schedule for an order on ``symbol``.

        Equity options use the underlying equity's ``option-tick-sizes``, futures options the underlying
        future's; equities and futures their own ``tick-sizes``.
        """
        kind = InstrumentType(instrument_type)
        if kind is InstrumentType.EQUITY:
            return self.equity(symbol).price_ticks()
        if kind is InstrumentType.EQUITY_OPTION:
            option = self.equity_option(symbol)
            underlying = option.underlying_symbol or symbol[:6].strip()
            return self.equity(underlying).option_price_ticks()
        if kind is InstrumentType.FUTURE:
            return self.future(symbol).price_ticks()
        if kind is InstrumentType.FUTURE_OPTION:
            fo = self.future_option(symbol)
            if fo.tick_sizes or not fo.underlying_symbol:
                return fo.price_ticks()
            return self.future(fo.underlying_symbol).option_price_ticks()
        raise ValueError(f'no tick schedule lookup for instrument type {kind}')

    def quotes(self, symbols: Mapping[InstrumentType | str, Iterable[str]]) -> list[Quote]:
        """Snapshot quotes for symbols grouped by instrument type, ≤100 symbols per request.

        Example: ``client.quotes({InstrumentType.EQUITY: ['AAPL', 'SPY'], InstrumentType.FUTURE: ['/ESZ6']})``.
        """
        pairs: list[tuple[str, str]] = []
        seen: set[tuple[str, str]] = set()
        for instrument_type, names in symbols.items():
            kind = InstrumentType(instrument_type)
            if kind not in QUOTE_PARAMS:
                raise ValueError(f'no REST quotes for instrument type {kind}')
            for name in names:
                pair = (QUOTE_PARAMS[kind], name)
                if name and pair not in seen:
                    seen.add(pair)
                    pairs.append(pair)
        quotes: list[Quote] = []
        for start in range(0, len(pairs), QUOTE_BATCH):
            params: dict[str, list[str]] = {}
            for param, name in pairs[start : start + QUOTE_BATCH]:
                params.setdefault(param, []).append(name)
            quotes.extend(self._get_items(Quote, '/market-data/by-type', params))
        return quotes

    def quote_token(self) -> QuoteToken:
        """A DXLink token (24 h) and the ``dxlink-url`` to connect to (``GET /api-quote-tokens``)."""
        token = self._get_data(QuoteToken, '/api-quote-tokens')
        self._redact.add(token.token)
        return token
