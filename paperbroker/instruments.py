"""Reference data: equities with tick tables, OCC equity options, futures and futures options.

Symbols are parsed the way tastytrade writes them: OCC options ``AAPL  261218C00200000`` (root padded to 6,
yymmdd, C/P, strike x 1000 in 8 digits), futures ``/ESZ6``, futures options ``./ESZ6 ESZ6  261218P5800``.
Streamer (DXLink) symbols: ``AAPL``, ``.AAPL261218C200``, ``/ESZ26:XCME``, ``./ESZ26P5800:XCME``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

Tick = tuple[Decimal | None, Decimal]  # (threshold or None, tick value)

EQUITY_TICKS: list[Tick] = [(Decimal('1.0'), Decimal('0.0001')), (None, Decimal('0.01'))]
PENNY_PILOT: list[Tick] = [(Decimal('3.0'), Decimal('0.01')), (None, Decimal('0.05'))]
ALL_PENNY: list[Tick] = [(None, Decimal('0.01'))]
ALL_PENNY_ROOTS = frozenset({'SPY', 'QQQ', 'IWM'})
ES_OPTION_TICKS: list[Tick] = [
    (Decimal('5.0'), Decimal('0.05')),
    (Decimal('20.0'), Decimal('0.1')),
    (Decimal('100.0'), Decimal('0.25')),
    (None, Decimal('0.5')),
]
MONTH_CODES = 'FGHJKMNQUVXZ'
OPTION_ROOT_ALIASES = {'SPXW': 'SPX', 'NDXP': 'NDX', 'RUTW': 'RUT'}

OCC_RE = re.compile(r'^(?P<root>[A-Z][A-Z0-9]{0,5}) *(?P<exp>\d{6})(?P<cp>[CP])(?P<strike>\d{8})$')
FUTURE_RE = re.compile(r'^/(?P<code>[A-Z0-9]{1,4}?)(?P<month>[FGHJKMNQUVXZ])(?P<year>\d{1,2})$')
FUTURE_OPTION_RE = re.compile(
    r'^\./(?P<future>[A-Z0-9]+) (?P<contract>[A-Z0-9]+?)(?P<month>[FGHJKMNQUVXZ])(?P<year>\d) *'
    r'(?P<exp>\d{6})(?P<cp>[CP])(?P<strike>\d+(?:\.\d+)?)$'
)

KNOWN_EQUITIES: dict[str, tuple[str, bool]] = {
    'AAPL': ('Apple Inc. - Common Stock', False),
    'MSFT': ('Microsoft Corporation - Common Stock', False),
    'NVDA': ('NVIDIA Corporation - Common Stock', False),
    'TSLA': ('Tesla, Inc. - Common Stock', False),
    'AMD': ('Advanced Micro Devices, Inc. - Common Stock', False),
    'KO': ('Coca-Cola Company (The) Common Stock', False),
    'INTC': ('Intel Corporation - Common Stock', False),
    'F': ('Ford Motor Company Common Stock', False),
    'META': ('Meta Platforms, Inc. - Class A Common Stock', False),
    'SPY': ('SPDR S&P 500 ETF Trust', True),
    'QQQ': ('Invesco QQQ Trust, Series 1', True),
    'IWM': ('iShares Russell 2000 ETF', True),
    'VTI': ('Vanguard Total Stock Market ETF', True),
}


@dataclass(frozen=True)
class FutureProduct:
    """A futures product (``/ES``): exchange, tick, multiplier and descriptive fields."""

    code: str
    description: str
    exchange: str
    streamer_exchange: str
    tick_size: Decimal
    multiplier: Decimal
    sector: str
    underlying_description: str
    underlying_identifier: str
    option_ticks: tuple[Tick, ...]
    etf: tuple[str, int] | None = None


FUTURE_PRODUCTS: dict[str, FutureProduct] = {
    p.code: p
    for p in (
        FutureProduct(
            'ES',
            'E Mini S&P',
            'CME',
            'XCME',
            Decimal('0.25'),
            Decimal(50),
            'Equity Index',
            'S&P 500 Index',
            'SPX',
            tuple(ES_OPTION_TICKS),
            ('SPY', 500),
        ),
        FutureProduct(
            'MES',
            'Micro E-mini S&P 500',
            'CME',
            'XCME',
            Decimal('0.25'),
            Decimal(5),
            'Equity Index',
            'S&P 500 Index',
            'SPX',
            tuple(ES_OPTION_TICKS),
            ('SPY', 50),
        ),
        FutureProduct(
            'NQ',
            'E-mini Nasdaq-100',
            'CME',
            'XCME',
            Decimal('0.25'),
            Decimal(20),
            'Equity Index',
            'Nasdaq 100 Index',
            'NDX',
            tuple(ES_OPTION_TICKS),
            ('QQQ', 200),
        ),
        FutureProduct(
            'CL',
            'Crude Oil',
            'NYMEX',
            'XNYM',
            Decimal('0.01'),
            Decimal(1000),
            'Energy',
            'Crude Oil',
            'CL',
            ((None, Decimal('0.01')),),
        ),
        FutureProduct(
            'GC',
            'Gold',
            'COMEX',
            'XCEC',
            Decimal('0.1'),
            Decimal(100),
            'Metals',
            'Gold',
            'GC',
            ((None, Decimal('0.1')),),
        ),
    )
}


@dataclass
class Equity:
    """A stock, ETF or index."""

    id: int
    symbol: str
    description: str
    is_etf: bool = False
    is_index: bool = False
    instrument_type: str = 'Equity'
    multiplier: Decimal = Decimal(1)

    @property
    def underlying_symbol(self) -> str:
        return self.symbol

    @property
    def underlying_instrument_type(self) -> str:
        return 'Equity'

    @property
    def streamer_symbol(self) -> str:
        return self.symbol

    @property
    def ticks(self) -> list[Tick]:
        return EQUITY_TICKS

    @property
    def option_ticks(self) -> list[Tick]:
        return ALL_PENNY if self.symbol in ALL_PENNY_ROOTS else PENNY_PILOT


@dataclass
class EquityOption:
    """An equity or index option, by OCC symbol."""

    id: int
    symbol: str
    root: str
    underlying_symbol: str
    expiration: date
    option_type: str
    strike: Decimal
    option_ticks: list[Tick] = field(default_factory=lambda: PENNY_PILOT)
    instrument_type: str = 'Equity Option'
    multiplier: Decimal = Decimal(100)

    @property
    def underlying_instrument_type(self) -> str:
        return 'Equity'

    @property
    def streamer_symbol(self) -> str:
        return f'.{self.root}{self.expiration:%y%m%d}{self.option_type}{strike_text(self.strike)}'

    @property
    def ticks(self) -> list[Tick]:
        return self.option_ticks

    @property
    def description(self) -> str:
        kind = 'Call' if self.option_type == 'C' else 'Put'
        return f'{self.root} {self.expiration:%m/%d/%y} {kind} {self.strike:.2f}'


@dataclass
class Future:
    """An outright future such as ``/ESZ6``."""

    id: int
    symbol: str
    product: FutureProduct
    month: str
    year: int
    expiration: date
    instrument_type: str = 'Future'

    @property
    def underlying_symbol(self) -> str:
        return self.symbol

    @property
    def underlying_instrument_type(self) -> str:
        return 'Future'

    @property
    def multiplier(self) -> Decimal:
        return self.product.multiplier

    @property
    def exchange_symbol(self) -> str:
        return self.symbol[1:]

    @property
    def streamer_symbol(self) -> str:
        return f'/{self.product.code}{self.month}{self.year % 100:02d}:{self.product.streamer_exchange}'

    @property
    def ticks(self) -> list[Tick]:
        return [(None, self.product.tick_size)]

    @property
    def description(self) -> str:
        return f'{self.product.description} {self.month}{self.year}'


@dataclass
class FutureOption:
    """An option on a future such as ``./ESZ6 ESZ6  261218P5800``."""

    id: int
    symbol: str
    future: Future
    option_root: str
    contract: str
    expiration: date
    option_type: str
    strike: Decimal
    instrument_type: str = 'Future Option'

    @property
    def underlying_symbol(self) -> str:
        return self.future.symbol

    @property
    def underlying_instrument_type(self) -> str:
        return 'Future'

    @property
    def multiplier(self) -> Decimal:
        return self.future.multiplier

    @property
    def streamer_symbol(self) -> str:
        month, year = self.contract[-2], int(self.contract[-1])
        yy = (self.future.year // 10 * 10 + year) % 100
        exchange = self.future.product.streamer_exchange
        return f'./{self.option_root}{month}{yy:02d}{self.option_type}{strike_text(self.strike)}:{exchange}'

    @property
    def ticks(self) -> list[Tick]:
        return list(self.future.product.option_ticks)

    @property
    def description(self) -> str:
        kind = 'Call' if self.option_type == 'C' else 'Put'
        return f'{self.future.symbol} {self.expiration:%m/%d/%y} {kind} {strike_text(self.strike)}'


Instrument = Equity | EquityOption | Future | FutureOption


def strike_text(strike: Decimal) -> str:
    """Strike as streamer symbols write it: ``200``, ``262.5``."""
    return str(int(strike)) if strike == strike.to_integral_value() else format(strike.normalize(), 'f')


def tick_for(price: Decimal, ticks: list[Tick]) -> Decimal:
    """The tick that applies at ``price``: a threshold entry applies below its threshold."""
    for threshold, value in ticks:
        if threshold is None or abs(price) < threshold:
            return value
    return ticks[-1][1]


def on_tick(price: Decimal, ticks: list[Tick]) -> bool:
    """Whether ``price`` is a whole number of ticks."""
    return price % tick_for(price, ticks) == 0


def third_friday(year: int, month: int) -> date:
    """The third Friday of a month (monthly expirations)."""
    day = date(year, month, 15)
    while day.weekday() != 4:
        day += timedelta(days=1)
    return day


def occ_symbol(root: str, expiration: date, option_type: str, strike: Decimal) -> str:
    """Build an OCC symbol."""
    return f'{root:<6}{expiration:%y%m%d}{option_type}{int(strike * 1000):08d}'


def future_year(digits: str, today: date) -> int:
    """The year a 1- or 2-digit futures year code means, seen from ``today``."""
    if len(digits) == 2:
        return 2000 + int(digits)
    year = today.year // 10 * 10 + int(digits)
    return year + 10 if year < today.year - 1 else year
