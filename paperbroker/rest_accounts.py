"""Auth, customer, accounts, positions, balances, transactions and the quote token."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from paperbroker.accounting import value_account
from paperbroker.clock import iso_s, ny_date, parse_datetime
from paperbroker.errors import ApiError, OAuthError, not_found
from paperbroker.responses import (
    bool_param,
    broker_of,
    current_user,
    list_param,
    ok,
    ok_items,
    paginate,
    user_account,
)
from paperbroker.wire import balance_json, position_json
from paperbroker.wire_accounts import account_json, customer_json, trading_status_json, transaction_json


async def oauth_token(request: Request) -> JSONResponse:
    """``POST /oauth/token``: JSON (or form) refresh-token grant; OAuth-style errors at the top level."""
    raw = await request.body()
    content_type = request.headers.get('content-type', '')
    body: object
    if 'application/x-www-form-urlencoded' in content_type:
        body = dict(parse_qsl(raw.decode('utf-8', 'replace')))
    else:
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            raise OAuthError(400, 'invalid_request', 'The request body is not valid JSON') from None
    return JSONResponse(broker_of(request).auth.exchange(body))


async def sessions_validate(request: Request) -> Response:
    """``POST /sessions/validate``: 2xx while the access token is valid."""
    user = current_user(request)
    return ok(request, {'external-id': user.id, 'username': user.username, 'email': user.email})


async def customer_me(request: Request) -> JSONResponse:
    return ok(request, customer_json(current_user(request)))


async def customer_accounts(request: Request) -> JSONResponse:
    user = current_user(request)
    accounts = broker_of(request).core.state.user_accounts(user.id)
    return ok_items(request, [{'account': account_json(a), 'authority-level': 'owner'} for a in accounts])


async def customer_account(request: Request) -> JSONResponse:
    _, account = user_account(request)
    return ok(request, account_json(account))


async def trading_status(request: Request) -> JSONResponse:
    _, account = user_account(request)
    return ok(request, trading_status_json(account, broker_of(request).core.now()))


async def positions(request: Request) -> JSONResponse:
    """``GET /accounts/{n}/positions`` with its filters; ``mark`` only with ``include-marks``."""
    _, account = user_account(request)
    core = broker_of(request).core
    found = core.state.account_positions(account.number, include_closed=bool_param(request, 'include-closed-positions'))
    if symbol := request.query_params.get('symbol'):
        found = [p for p in found if p.symbol == symbol]
    if underlyings := list_param(request, 'underlying-symbol'):
        found = [p for p in found if p.underlying_symbol in underlyings]
    if kind := request.query_params.get('instrument-type'):
        found = [p for p in found if p.instrument_type == kind]
    marks = bool_param(request, 'include-marks')
    today = core.clock.today()
    return ok_items(request, [position_json(core.state, p, today, core.settings, marks=marks) for p in found])


async def balance(request: Request) -> JSONResponse:
    """``GET /accounts/{n}/balances/{currency}`` (USD only)."""
    _, account = user_account(request)
    currency = request.path_params.get('currency', 'USD')
    if currency != 'USD':
        raise not_found(f'balance in {currency}')
    core = broker_of(request).core
    return ok(request, balance_json(account, value_account(core.state, account), core.now(), core.clock.today()))


async def balances(request: Request) -> JSONResponse:
    """``GET /accounts/{n}/balances``: newer API versions answer with one item per currency."""
    _, account = user_account(request)
    core = broker_of(request).core
    return ok_items(
        request, [balance_json(account, value_account(core.state, account), core.now(), core.clock.today())]
    )


async def transactions(request: Request) -> JSONResponse:
    """``GET /accounts/{n}/transactions`` (paginated): ``type``, ``types[]``, ``sub-type[]``, ``symbol``,
    ``underlying-symbol``, ``start-date`` / ``end-date`` (New York dates), ``start-at`` / ``end-at``, ``sort``."""
    _, account = user_account(request)
    state = broker_of(request).core.state
    found = [t for t in state.transactions if t.account_number == account.number]
    params = request.query_params
    if kind := params.get('type'):
        found = [t for t in found if t.transaction_type == kind]
    if types := list_param(request, 'types'):
        found = [t for t in found if t.transaction_type in types]
    if sub_types := list_param(request, 'sub-type'):
        found = [t for t in found if t.sub_type in sub_types]
    if symbol := params.get('symbol'):
        found = [t for t in found if t.symbol == symbol]
    if underlying := params.get('underlying-symbol'):
        found = [t for t in found if t.underlying_symbol == underlying]
    if start := params.get('start-date'):
        found = [t for t in found if ny_date(t.executed_at).isoformat() >= start]
    if end := params.get('end-date'):
        found = [t for t in found if ny_date(t.executed_at).isoformat() <= end]
    for key, after in (('start-at', True), ('end-at', False)):
        if raw := params.get(key):
            try:
                moment = parse_datetime(raw)
            except ValueError:
                raise ApiError(400, 'bad_request', f'{key} must be an ISO-8601 date-time') from None
            found = [t for t in found if (t.executed_at >= moment if after else t.executed_at <= moment)]
    found.sort(key=lambda t: t.id, reverse=params.get('sort', 'Desc') != 'Asc')
    page, pagination = paginate(request, found, default_per_page=250)
    return ok_items(request, [transaction_json(t) for t in page], pagination)


async def transaction(request: Request) -> JSONResponse:
    _, account = user_account(request)
    wanted = request.path_params['transaction_id']
    for tx in broker_of(request).core.state.transactions:
        if tx.id == wanted and tx.account_number == account.number:
            return ok(request, transaction_json(tx))
    raise not_found(f'transaction {wanted}')


async def quote_token(request: Request) -> JSONResponse:
    """``GET /api-quote-tokens``: a 24-hour DXLink token and this server's DXLink URL."""
    user = current_user(request)
    broker = broker_of(request)
    if not broker.core.state.user_accounts(user.id):
        raise ApiError(
            403, 'quote_streamer.customer_not_found_error', 'You must be a customer to access a quote stream.'
        )
    token, issued = broker.auth.issue_quote_token()
    scheme = 'wss' if request.url.scheme == 'https' else 'ws'
    host = request.headers.get('host', f'{request.url.hostname}:{request.url.port}')
    return ok(
        request,
        {
            'token': token,
            'dxlink-url': f'{scheme}://{host}/dxlink',
            'level': 'api',
            'issued-at': iso_s(issued.issued_at),
            'expires-at': iso_s(issued.expires_at),
        },
    )


ROUTES = [
    Route('/oauth/token', oauth_token, methods=['POST']),
    Route('/sessions/validate', sessions_validate, methods=['POST']),
    Route('/customers/me', customer_me),
    Route('/customers/me/accounts', customer_accounts),
    Route('/customers/me/accounts/{account_number}', customer_account),
    Route('/accounts/{account_number}/trading-status', trading_status),
    Route('/accounts/{account_number}/positions', positions),
    Route('/accounts/{account_number}/balances', balances),
    Route('/accounts/{account_number}/balances/{currency}', balance),
    Route('/accounts/{account_number}/transactions', transactions),
    Route('/accounts/{account_number}/transactions/{transaction_id:int}', transaction),
    Route('/api-quote-tokens', quote_token),
]
