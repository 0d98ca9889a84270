"""Instruments (equities, equity options, futures, futures options), option chains and REST quotes."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from paperbroker.errors import not_found, validation_error
from paperbroker.instrument_wire import (
    equity_json,
    future_json,
    future_option_json,
    future_product_json,
    market_data_json,
    nested_chain_json,
    option_json,
)
from paperbroker.instruments import FUTURE_PRODUCTS, Equity, EquityOption, Future, FutureOption, Instrument, occ_symbol
from paperbroker.responses import broker_of, current_user, list_param, ok, ok_items, paginate

MAX_QUOTE_SYMBOLS = 100
QUOTE_PARAMS = {
    'equity': 'Equity',
    'equity-option': 'Equity Option',
    'future': 'Future',
    'future-option': 'Future Option',
    'index': 'Equity',
    'cryptocurrency': 'Cryptocurrency',
}


def _lookup(request: Request, symbol: str, kind: type) -> Instrument:
    current_user(request)
    instrument = broker_of(request).core.state.registry.get(symbol)
    if instrument is None or not isinstance(instrument, kind):
        raise not_found(f'{kind.__name__} with symbol {symbol}')
    return instrument


def _future_symbol(symbol: str) -> str:
    return symbol if symbol.startswith('/') else f'/{symbol}'


async def equity(request: Request) -> JSONResponse:
    found = _lookup(request, request.path_params['symbol'], Equity)
    assert isinstance(found, Equity)
    return ok(request, equity_json(found))


async def equities(request: Request) -> JSONResponse:
    current_user(request)
    registry = broker_of(request).core.state.registry
    wanted = list_param(request, 'symbol')
    found = [registry.get(s) for s in wanted] if wanted else registry.by_type('Equity')
    items = [equity_json(e) for e in found if isinstance(e, Equity)]
    page, pagination = paginate(request, items, default_per_page=250)
    return ok_items(request, page, pagination)


async def equity_option(request: Request) -> JSONResponse:
    found = _lookup(request, request.path_params['symbol'], EquityOption)
    assert isinstance(found, EquityOption)
    core = broker_of(request).core
    return ok(request, option_json(found, core.clock.today(), core.settings))


async def equity_options(request: Request) -> JSONResponse:
    current_user(request)
    core = broker_of(request).core
    found = [core.state.registry.get(s) for s in list_param(request, 'symbol')]
    return ok_items(
        request, [option_json(o, core.clock.today(), core.settings) for o in found if isinstance(o, EquityOption)]
    )


async def future(request: Request) -> JSONResponse:
    found = _lookup(request, _future_symbol(request.path_params['symbol']), Future)
    assert isinstance(found, Future)
    return ok(request, future_json(found, broker_of(request).core.clock.today()))


async def futures(request: Request) -> JSONResponse:
    current_user(request)
    core = broker_of(request).core
    registry = core.state.registry
    wanted = list_param(request, 'symbol')
    codes = list_param(request, 'product-code')
    if wanted:
        found = [registry.get(_future_symbol(s)) for s in wanted]
    else:
        found = [
            f for f in registry.by_type('Future') if not codes or (isinstance(f, Future) and f.product.code in codes)
        ]
    items = [future_json(f, core.clock.today()) for f in found if isinstance(f, Future)]
    page, pagination = paginate(request, items, default_per_page=250)
    return ok_items(request, page, pagination)


async def future_products(request: Request) -> JSONResponse:
    current_user(request)
    return ok_items(request, [future_product_json(p, with_options=True) for p in FUTURE_PRODUCTS.values()])


async def future_product(request: Request) -> JSONResponse:
    current_user(request)
    product = FUTURE_PRODUCTS.get(request.path_params['code'].lstrip('/'))
    if product is None or product.exchange != request.path_params['exchange']:
        raise not_found(f'future product {request.path_params["code"]}')
    return ok(request, future_product_json(product, with_options=True))


async def future_option(request: Request) -> JSONResponse:
    found = _lookup(request, request.path_params['symbol'], FutureOption)
    assert isinstance(found, FutureOption)
    return ok(request, future_option_json(found, broker_of(request).core.clock.today()))


async def future_options(request: Request) -> JSONResponse:
    current_user(request)
    core = broker_of(request).core
    found = [core.state.registry.get(s) for s in list_param(request, 'symbol')]
    return ok_items(request, [future_option_json(o, core.clock.today()) for o in found if isinstance(o, FutureOption)])


def _chain(request: Request) -> tuple[Equity, list[EquityOption]]:
    """The known options of an underlying, with each strike's call and put (created if missing)."""
    underlying = _lookup(request, request.path_params['symbol'], Equity)
    assert isinstance(underlying, Equity)
    registry = broker_of(request).core.state.registry
    known = [
        o
        for o in registry.by_type('Equity Option')
        if isinstance(o, EquityOption) and o.underlying_symbol == underlying.symbol
    ]
    for option in known:
        for kind in 'CP':
            registry.ensure(occ_symbol(option.root, option.expiration, kind, option.strike), 'Equity Option')
    options = [
        o
        for o in registry.by_type('Equity Option')
        if isinstance(o, EquityOption) and o.underlying_symbol == underlying.symbol
    ]
    return underlying, sorted(options, key=lambda o: (o.expiration, o.strike, o.option_type))


async def option_chain(request: Request) -> JSONResponse:
    _, options = _chain(request)
    core = broker_of(request).core
    today = core.clock.today()
    return ok_items(request, [option_json(o, today, core.settings) for o in options])


async def nested_option_chain(request: Request) -> JSONResponse:
    underlying, options = _chain(request)
    core = broker_of(request).core
    return ok_items(request, [nested_chain_json(underlying, options, core.clock.today(), core.settings)])


async def market_data_by_type(request: Request) -> JSONResponse:
    """``GET /market-data/by-type?equity=AAPL&equity-option=...`` (``[]`` suffixes accepted), at most 100."""
    current_user(request)
    core = broker_of(request).core
    wanted = [(symbol, kind) for param, kind in QUOTE_PARAMS.items() for symbol in list_param(request, param)]
    if len(wanted) > MAX_QUOTE_SYMBOLS:
        raise validation_error([{'domain': 'symbols', 'reason': f'must not contain more than {MAX_QUOTE_SYMBOLS}'}])
    items = []
    for symbol, kind in wanted:
        instrument = core.state.registry.get(_future_symbol(symbol) if kind == 'Future' else symbol)
        quote = core.state.quotes.get(instrument.symbol) if instrument is not None else None
        if instrument is not None and quote is not None and instrument.instrument_type == kind:
            items.append(market_data_json(instrument, quote, core.now(), core.clock.today()))
    return ok_items(request, items)


async def market_data_one(request: Request) -> JSONResponse:
    """``GET /market-data/{instrument-type}/{symbol}``."""
    current_user(request)
    core = broker_of(request).core
    instrument = core.state.registry.get(request.path_params['symbol'])
    quote = core.state.quotes.get(instrument.symbol) if instrument is not None else None
    if instrument is None or quote is None:
        raise not_found(f'market data for {request.path_params["symbol"]}')
    return ok(request, market_data_json(instrument, quote, core.now(), core.clock.today()))


ROUTES = [
    Route('/instruments/equities', equities),
    Route('/instruments/equities/active', equities),
    Route('/instruments/equities/{symbol:path}', equity),
    Route('/instruments/equity-options', equity_options),
    Route('/instruments/equity-options/{symbol:path}', equity_option),
    Route('/instruments/futures', futures),
    Route('/instruments/futures/{symbol:path}', future),
    Route('/instruments/future-products', future_products),
    Route('/instruments/future-products/{exchange}/{code}', future_product),
    Route('/instruments/future-options', future_options),
    Route('/instruments/future-options/{symbol:path}', future_option),
    Route('/option-chains/{symbol}', option_chain),
    Route('/option-chains/{symbol}/nested', nested_option_chain),
    Route('/market-data/by-type', market_data_by_type),
    Route('/market-data/{instrument_type}/{symbol:path}', market_data_one),
]
