"""The admin API under ``/_paper/`` (part 1): read the whole state, move markets, seed accounts and orders.

Request keys may be kebab-case or snake_case; responses are kebab-case, in the API's own shapes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from paperbroker.accounting import value_account
from paperbroker.amounts import fmt, to_decimal
from paperbroker.clock import iso_ms, parse_datetime
from paperbroker.errors import ApiError
from paperbroker.model import Quote
from paperbroker.responses import broker_of, json_body
from paperbroker.seeding import add_account, add_order, add_position, add_user, deposit, set_quote
from paperbroker.tastyware import urls as tastyware_urls
from paperbroker.wire import balance_json, complex_order_json, order_json, position_json
from paperbroker.wire_accounts import account_json


def bad_request(message: str) -> ApiError:
    """A 400 with the API error envelope."""
    return ApiError(400, 'bad_request', message)


async def admin_body(request: Request) -> dict[str, Any]:
    """The JSON object body with snake_case keys turned into kebab-case."""
    body = await json_body(request)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise bad_request('the body must be a JSON object')
    return {key.replace('_', '-'): value for key, value in body.items()}


def admin_decimal(body: dict[str, Any], key: str, default: Decimal | None = None) -> Decimal:
    """A required (or defaulted) decimal field, else a 400."""
    value = to_decimal(body.get(key)) if body.get(key) is not None else default
    if value is None:
        raise bad_request(f'"{key}" must be a number')
    return value


def admin_account(request: Request, body: dict[str, Any]) -> str:
    """The account a request names (or the only one), else a 404."""
    number = body.get('account-number')
    broker = broker_of(request)
    if number is None and len(broker.accounts) == 1:
        number = broker.accounts[0]
    if not isinstance(number, str) or number not in broker.core.state.accounts:
        raise ApiError(404, 'record_not_found', f'unknown account {number!r}')
    return number


def quote_json(instrument_type: str, streamer_symbol: str, quote: Quote) -> dict[str, Any]:
    """A quote as the admin API shows it."""
    mark = quote.mark
    return {
        'symbol': quote.symbol,
        'instrument-type': instrument_type,
        'streamer-symbol': streamer_symbol,
        'bid': fmt(quote.bid) if quote.bid is not None else None,
        'ask': fmt(quote.ask) if quote.ask is not None else None,
        'last': fmt(quote.last) if quote.last is not None else None,
        'mark': fmt(mark) if mark is not None else None,
        'updated-at': iso_ms(quote.updated_at) if quote.updated_at else None,
    }


async def state(request: Request) -> JSONResponse:
    """``GET /_paper/state``: every account with positions, orders, complex orders and balances."""
    broker = broker_of(request)
    core = broker.core
    today, now = core.clock.today(), core.now()
    accounts = []
    for account in sorted(core.state.accounts.values(), key=lambda a: a.number):
        accounts.append(
            {
                'account': account_json(account),
                'owner': account.owner_id,
                'positions': [
                    position_json(core.state, p, today, core.settings, marks=True)
                    for p in core.state.account_positions(account.number)
                ],
                'orders': [order_json(o) for o in core.state.account_orders(account.number)],
                'complex-orders': [
                    complex_order_json(core.state, g)
                    for g in core.state.complex_orders.values()
                    if g.account_number == account.number
                ],
                'balances': balance_json(account, value_account(core.state, account), now, today),
            }
        )
    quotes = []
    for symbol, quote in sorted(core.state.quotes.items()):
        instrument = core.state.registry.get(symbol)
        if instrument is not None:
            quotes.append(quote_json(instrument.instrument_type, instrument.streamer_symbol, quote))
    return JSONResponse(
        {
            'now': iso_ms(now),
            'scenario': broker.scenario,
            'user-id': core.user_id,
            'accounts': accounts,
            'quotes': quotes,
            'settings': core.settings.as_json(),
            'faults': broker.faults.listing(),
        }
    )


async def info(request: Request) -> JSONResponse:
    """``GET /_paper/info``: the ``serve`` ready line (URLs from the Host header, credentials, accounts)."""
    broker = broker_of(request)
    host = request.headers.get('host', f'{request.url.hostname}:{request.url.port}')
    return JSONResponse(
        {
            'api_url': f'http://{host}',
            'account_streamer_url': f'ws://{host}/account-streamer',
            'dxlink_url': f'ws://{host}/dxlink',
            'client_secret': broker.auth.client_secret,
            'refresh_token': broker.auth.refresh_token,
            'accounts': broker.accounts,
            **tastyware_urls(host),
            'tastyware_api_key': broker.tastyware.api_key,
        }
    )


async def quotes(request: Request) -> JSONResponse:
    """``POST /_paper/quotes`` ``{"quotes": [{"symbol", "bid", "ask", "last"}]}``: move, trigger, stream."""
    broker = broker_of(request)
    body = await admin_body(request)
    items = body.get('quotes')
    if not isinstance(items, list) or not items:
        raise bad_request('"quotes" must be a non-empty list')
    changed: list[Quote] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get('symbol'), str):
            raise bad_request('every quote needs a "symbol"')
        fields = {k.replace('_', '-'): v for k, v in item.items()}
        try:
            changed.append(
                set_quote(
                    broker.core,
                    fields.pop('symbol'),
                    bid=fields.pop('bid', None),
                    ask=fields.pop('ask', None),
                    last=fields.pop('last', None),
                    instrument_type=fields.pop('instrument-type', None),
                    **fields,
                )
            )
        except ValueError as exc:
            raise bad_request(str(exc)) from exc
    broker.engine.quotes_changed(changed)
    registry = broker.core.state.registry
    out = []
    for q in changed:
        instrument = registry.get(q.symbol)
        assert instrument is not None
        out.append(quote_json(instrument.instrument_type, instrument.streamer_symbol, q))
    return JSONResponse({'quotes': out})


async def accounts(request: Request) -> JSONResponse:
    """``POST /_paper/accounts``: open an account for the seeded user (or ``"owner": "other"``)."""
    broker = broker_of(request)
    core = broker.core
    body = await admin_body(request)
    owner = body.get('owner', 'me')
    owner_id = core.user_id
    if owner not in {'me', core.user_id}:
        owner_id = 'U0000099999' if owner == 'other' else str(owner)
        if owner_id not in core.state.users:
            add_user(core, owner_id, 'someone-else', 'Someone', 'Else')
    number = body.get('account-number') or _next_number(request)
    try:
        account = add_account(
            core,
            str(number),
            owner_id,
            nickname=str(body.get('nickname', 'Individual')),
            type_name=str(body.get('account-type-name', 'Individual')),
            margin_or_cash=str(body.get('margin-or-cash', 'Margin')),
            cash=admin_decimal(body, 'cash', Decimal(100000)),
        )
    except ValueError as exc:
        raise bad_request(str(exc)) from exc
    if owner_id == core.user_id:
        broker.accounts.append(account.number)
    return JSONResponse({'account': account_json(account), 'owner': owner_id}, status_code=201)


def _next_number(request: Request) -> str:
    existing = broker_of(request).core.state.accounts
    index = len(existing) + 1
    while f'5WT{index:05d}' in existing:
        index += 1
    return f'5WT{index:05d}'


async def positions(request: Request) -> JSONResponse:
    """``POST /_paper/positions``: seed a position (no cash moves); ``DELETE`` removes one."""
    broker = broker_of(request)
    core = broker.core
    body = await admin_body(request)
    number = admin_account(request, body)
    symbol = body.get('symbol')
    if not isinstance(symbol, str):
        raise bad_request('"symbol" is required')
    if request.method == 'DELETE':
        position = core.state.positions.get((number, symbol))
        if position is None or position.quantity == 0:
            raise ApiError(404, 'record_not_found', f'no open {symbol} position in {number}')
        position.quantity, position.updated_at = Decimal(0), core.now()
    else:
        quantity = admin_decimal(body, 'quantity')
        if body.get('quantity-direction') == 'Short':
            quantity = -abs(quantity)
        if any(k in body for k in ('bid', 'ask', 'last')):
            set_quote(
                core,
                symbol,
                bid=body.get('bid'),
                ask=body.get('ask'),
                last=body.get('last'),
                instrument_type=body.get('instrument-type'),
            )
        try:
            position = add_position(
                core,
                number,
                symbol,
                quantity,
                admin_decimal(body, 'average-open-price'),
                instrument_type=body.get('instrument-type'),
            )
        except ValueError as exc:
            raise bad_request(str(exc)) from exc
        if position.symbol not in core.state.quotes:
            set_quote(core, position.symbol, last=position.average_open_price)
    core.emit_position(position)
    core.emit_balance(number)
    return JSONResponse(
        position_json(core.state, position, core.clock.today(), core.settings, marks=True), status_code=201
    )


async def orders(request: Request) -> JSONResponse:
    """``POST /_paper/orders``: seed a working order (``kind``: ``human`` or ``tastyguard``)."""
    broker = broker_of(request)
    body = await admin_body(request)
    number = admin_account(request, body)
    order_body = body.get('order')
    if not isinstance(order_body, dict):
        raise bad_request('"order" must be an order body as the API takes it')
    received = body.get('received-at')
    try:
        order = add_order(
            broker.core,
            broker.engine,
            number,
            order_body,
            kind=str(body.get('kind', 'human')),
            received_at=parse_datetime(received) if isinstance(received, str) else None,
        )
    except ValueError as exc:
        raise bad_request(str(exc)) from exc
    return JSONResponse(order_json(order), status_code=201)


async def cash(request: Request) -> JSONResponse:
    """``POST /_paper/deposit`` ``{"account-number", "amount"}`` (negative withdraws)."""
    broker = broker_of(request)
    body = await admin_body(request)
    number = admin_account(request, body)
    deposit(broker.core, number, admin_decimal(body, 'amount'))
    broker.core.emit_balance(number)
    account = broker.core.state.accounts[number]
    return JSONResponse({'account-number': number, 'cash-balance': fmt(account.cash)})


ROUTES = [
    Route('/_paper/state', state),
    Route('/_paper/info', info),
    Route('/_paper/quotes', quotes, methods=['POST']),
    Route('/_paper/accounts', accounts, methods=['POST']),
    Route('/_paper/positions', positions, methods=['POST', 'DELETE']),
    Route('/_paper/orders', orders, methods=['POST']),
    Route('/_paper/deposit', cash, methods=['POST']),
]
