"""The instrument registry: lookup by symbol or streamer symbol, and plausible instruments for new symbols."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from paperbroker.instruments import (
    FUTURE_OPTION_RE,
    FUTURE_PRODUCTS,
    FUTURE_RE,
    KNOWN_EQUITIES,
    MONTH_CODES,
    OCC_RE,
    OPTION_ROOT_ALIASES,
    Equity,
    EquityOption,
    Future,
    FutureOption,
    FutureProduct,
    Instrument,
    future_year,
    third_friday,
)

EQUITY_RE = re.compile(r'^[A-Z][A-Z0-9.]{0,9}$')
INSTRUMENT_TYPES = ('Equity', 'Equity Option', 'Future', 'Future Option')


class Registry:
    """Every instrument the broker knows, keyed by symbol and by streamer symbol."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.instruments: dict[str, Instrument] = {}
        self.by_streamer: dict[str, str] = {}
        self._next_id = 1000

    def get(self, symbol: str) -> Instrument | None:
        """The instrument for a symbol (OCC symbols may be given without padding)."""
        found = self.instruments.get(symbol)
        if found is None and (occ := normalize_occ(symbol)) is not None:
            found = self.instruments.get(occ)
        return found

    def by_type(self, instrument_type: str) -> list[Instrument]:
        """All instruments of one type, in symbol order."""
        return sorted(
            (i for i in self.instruments.values() if i.instrument_type == instrument_type), key=lambda i: i.symbol
        )

    def from_streamer(self, streamer_symbol: str) -> Instrument | None:
        """The instrument behind a DXLink symbol."""
        symbol = self.by_streamer.get(streamer_symbol)
        return self.instruments.get(symbol) if symbol else None

    def ensure(self, symbol: str, instrument_type: str | None = None) -> Instrument:
        """The instrument for ``symbol``, created from the symbol's structure when it is new.

        Raises ``ValueError`` when the symbol cannot be an instrument of the given type.
        """
        existing = self.get(symbol)
        if existing is not None:
            if instrument_type and existing.instrument_type != instrument_type:
                raise ValueError(f'{symbol} is a {existing.instrument_type}, not a {instrument_type}')
            return existing
        created = self._create(symbol, instrument_type)
        self._add(created)
        return created

    def add_equity(self, symbol: str, description: str | None = None, *, is_etf: bool = False) -> Equity:
        """Register (or return) an equity."""
        existing = self.instruments.get(symbol)
        if isinstance(existing, Equity):
            return existing
        equity = Equity(self._id(), symbol, description or f'{symbol} Common Stock', is_etf=is_etf)
        self._add(equity)
        return equity

    def _create(self, symbol: str, instrument_type: str | None) -> Instrument:
        kinds = [instrument_type] if instrument_type else list(INSTRUMENT_TYPES)
        for kind in kinds:
            made = self._make(symbol, kind)
            if made is not None:
                return made
        raise ValueError(f'{symbol!r} is not a valid {instrument_type or "instrument"} symbol')

    def _make(self, symbol: str, kind: str) -> Instrument | None:
        if kind == 'Equity' and EQUITY_RE.match(symbol):
            name, is_etf = KNOWN_EQUITIES.get(symbol, (f'{symbol} Common Stock', False))
            return Equity(self._id(), symbol, name, is_etf=is_etf)
        if kind == 'Equity Option' and (occ := normalize_occ(symbol)) is not None:
            match = OCC_RE.match(occ)
            assert match is not None
            root = match['root']
            underlying = self.ensure(OPTION_ROOT_ALIASES.get(root, root), 'Equity')
            assert isinstance(underlying, Equity)
            return EquityOption(
                self._id(),
                occ,
                root,
                underlying.symbol,
                _yymmdd(match['exp']),
                match['cp'],
                Decimal(match['strike']) / 1000,
                option_ticks=underlying.option_ticks,
            )
        if kind == 'Future' and (match := FUTURE_RE.match(symbol)) is not None:
            return self._future(match['code'], match['month'], match['year'])
        if kind == 'Future Option' and (match := FUTURE_OPTION_RE.match(symbol)) is not None:
            future = self.ensure(f'/{match["future"]}', 'Future')
            assert isinstance(future, Future)
            contract = f'{match["contract"]}{match["month"]}{match["year"]}'
            padded = f'./{match["future"]} {contract:<6}{match["exp"]}{match["cp"]}{match["strike"]}'
            return FutureOption(
                self._id(),
                padded,
                future,
                match['contract'],
                contract,
                _yymmdd(match['exp']),
                match['cp'],
                Decimal(match['strike']),
            )
        return None

    def _future(self, code: str, month: str, year_digits: str) -> Future:
        product = FUTURE_PRODUCTS.get(code) or FutureProduct(
            code,
            f'{code} Future',
            'CME',
            'XCME',
            Decimal('0.01'),
            Decimal(1),
            'Other',
            code,
            code,
            ((None, Decimal('0.01')),),
        )
        year = future_year(year_digits, self.today)
        expiration = third_friday(year, MONTH_CODES.index(month) + 1)
        return Future(self._id(), f'/{code}{month}{year % 10}', product, month, year, expiration)

    def _add(self, instrument: Instrument) -> None:
        self.instruments[instrument.symbol] = instrument
        self.by_streamer[instrument.streamer_symbol] = instrument.symbol

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id


def normalize_occ(symbol: str) -> str | None:
    """The padded OCC form of an option symbol, or None if it is not one."""
    compact = symbol.replace(' ', '')
    match = re.match(r'^([A-Z][A-Z0-9]{0,5})(\d{6}[CP]\d{8})$', compact)
    if match is None:
        return None
    return f'{match[1]:<6}{match[2]}'


def _yymmdd(text: str) -> date:
    return date(2000 + int(text[:2]), int(text[2:4]), int(text[4:]))
