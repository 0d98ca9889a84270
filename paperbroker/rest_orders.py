"""Orders and complex orders: place, dry-run, replace, edit, cancel, live and searched lists."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from paperbroker.clock import ny_date, parse_datetime
from paperbroker.errors import ApiError
from paperbroker.model import Order
from paperbroker.responses import broker_of, current_user, json_body, list_param, ok, ok_items, paginate, user_account
from paperbroker.wire import complex_order_json, order_json


def _live(request: Request, orders: list[Order]) -> list[Order]:
    today = broker_of(request).core.clock.today()
    return [
        o
        for o in orders
        if o.working
        or o.status == 'Contingent'
        or (o.received_at is not None and ny_date(o.received_at) == today)
        or (o.terminal_at is not None and ny_date(o.terminal_at) == today)
    ]


async def live_orders(request: Request) -> JSONResponse:
    """``GET /accounts/{n}/orders/live``: today's orders of every status plus older working ones."""
    _, account = user_account(request)
    orders = broker_of(request).core.state.account_orders(account.number)
    return ok_items(request, [order_json(o) for o in _live(request, orders)])


def _search(request: Request, orders: list[Order]) -> list[Order]:
    params = request.query_params
    if statuses := list_param(request, 'status'):
        orders = [o for o in orders if o.status in statuses]
    if underlying := params.get('underlying-symbol'):
        orders = [o for o in orders if o.underlying_symbol == underlying]
    if futures := params.get('futures-symbol'):
        orders = [o for o in orders if o.underlying_symbol == futures]
    if kind := params.get('underlying-instrument-type'):
        orders = [o for o in orders if o.underlying_instrument_type == kind]
    if start := params.get('start-date'):
        orders = [o for o in orders if o.received_at and ny_date(o.received_at).isoformat() >= start]
    if end := params.get('end-date'):
        orders = [o for o in orders if o.received_at and ny_date(o.received_at).isoformat() <= end]
    try:
        if start_at := params.get('start-at'):
            after = parse_datetime(start_at)
            orders = [o for o in orders if o.received_at and o.received_at >= after]
        if end_at := params.get('end-at'):
            before = parse_datetime(end_at)
            orders = [o for o in orders if o.received_at and o.received_at <= before]
    except ValueError as exc:
        raise ApiError(400, 'bad_request', 'start-at / end-at must be ISO-8601 date-times') from exc
    ascending = params.get('sort', 'Desc') == 'Asc'
    return sorted(
        orders, key=lambda o: (o.received_at.timestamp() if o.received_at else 0.0, o.id or 0), reverse=not ascending
    )


async def search_orders(request: Request) -> JSONResponse:
    """``GET /accounts/{n}/orders``: paginated search."""
    _, account = user_account(request)
    found = _search(request, broker_of(request).core.state.account_orders(account.number))
    page, pagination = paginate(request, found)
    return ok_items(request, [order_json(o) for o in page], pagination)


async def customer_orders(request: Request) -> JSONResponse:
    """``GET /customers/{id}/orders``: the same search across the customer's accounts."""
    user = current_user(request)
    state = broker_of(request).core.state
    numbers = set(list_param(request, 'account-numbers')) or {a.number for a in state.user_accounts(user.id)}
    owned = {a.number for a in state.user_accounts(user.id)}
    if not numbers <= owned:
        raise ApiError(403, 'not_permitted', 'User not permitted access')
    orders = [o for o in state.orders.values() if o.account_number in numbers]
    page, pagination = paginate(request, _search(request, orders))
    return ok_items(request, [order_json(o) for o in page], pagination)


async def place_order(request: Request) -> JSONResponse:
    user, account = user_account(request)
    data = broker_of(request).engine.submit(account.number, await json_body(request), user, dry_run=False)
    return ok(request, data, status=201)


async def dry_run_order(request: Request) -> JSONResponse:
    user, account = user_account(request)
    return ok(request, broker_of(request).engine.submit(account.number, await json_body(request), user, dry_run=True))


async def get_order(request: Request) -> JSONResponse:
    _, account = user_account(request)
    return ok(request, order_json(broker_of(request).engine.get(account.number, request.path_params['order_id'])))


async def replace_order(request: Request) -> JSONResponse:
    """``PUT`` (full body, legs optional) and ``PATCH`` (price / type / TIF / trigger): the new order in ``data``."""
    user, account = user_account(request)
    patch = request.method == 'PATCH'
    engine = broker_of(request).engine
    data = engine.replace(account.number, request.path_params['order_id'], await json_body(request), user, patch=patch)
    return ok(request, data)


async def dry_run_replace(request: Request) -> JSONResponse:
    user, account = user_account(request)
    engine = broker_of(request).engine
    body = await json_body(request)
    return ok(request, engine.replace(account.number, request.path_params['order_id'], body, user, dry_run=True))


async def cancel_order(request: Request) -> JSONResponse:
    user, account = user_account(request)
    return ok(request, broker_of(request).engine.cancel(account.number, request.path_params['order_id'], user))


async def place_complex(request: Request) -> JSONResponse:
    user, account = user_account(request)
    data = broker_of(request).engine.complex.submit(account.number, await json_body(request), user, dry_run=False)
    return ok(request, data, status=201)


async def dry_run_complex(request: Request) -> JSONResponse:
    user, account = user_account(request)
    engine = broker_of(request).engine
    return ok(request, engine.complex.submit(account.number, await json_body(request), user, dry_run=True))


def _groups(request: Request, account_number: str, *, live: bool) -> list[dict[str, object]]:
    state = broker_of(request).core.state
    groups = sorted(
        (g for g in state.complex_orders.values() if g.account_number == account_number),
        key=lambda g: g.id,
        reverse=True,
    )
    result = []
    for group in groups:
        ids = [*([group.trigger_order_id] if group.trigger_order_id else []), *group.order_ids]
        if live and not _live(request, [state.orders[i] for i in ids]):
            continue
        result.append(complex_order_json(state, group))
    return result


async def live_complex(request: Request) -> JSONResponse:
    _, account = user_account(request)
    return ok_items(request, _groups(request, account.number, live=True))


async def list_complex(request: Request) -> JSONResponse:
    _, account = user_account(request)
    page, pagination = paginate(request, _groups(request, account.number, live=False), max_per_page=200)
    return ok_items(request, page, pagination)


async def get_complex(request: Request) -> JSONResponse:
    _, account = user_account(request)
    broker = broker_of(request)
    group = broker.engine.complex.get(account.number, request.path_params['complex_id'])
    return ok(request, complex_order_json(broker.core.state, group))


async def cancel_complex(request: Request) -> JSONResponse:
    user, account = user_account(request)
    engine = broker_of(request).engine
    return ok(request, engine.complex.cancel(account.number, request.path_params['complex_id'], user))


ORDER = '/accounts/{account_number}/orders'
COMPLEX = '/accounts/{account_number}/complex-orders'
ROUTES = [
    Route(f'{ORDER}/live', live_orders),
    Route(f'{ORDER}/dry-run', dry_run_order, methods=['POST']),
    Route(ORDER, search_orders, methods=['GET']),
    Route(ORDER, place_order, methods=['POST']),
    Route(f'{ORDER}/{{order_id:int}}/dry-run', dry_run_replace, methods=['POST']),
    Route(f'{ORDER}/{{order_id:int}}', get_order, methods=['GET']),
    Route(f'{ORDER}/{{order_id:int}}', replace_order, methods=['PUT', 'PATCH']),
    Route(f'{ORDER}/{{order_id:int}}', cancel_order, methods=['DELETE']),
    Route(f'{COMPLEX}/live', live_complex),
    Route(f'{COMPLEX}/dry-run', dry_run_complex, methods=['POST']),
    Route(COMPLEX, list_complex, methods=['GET']),
    Route(COMPLEX, place_complex, methods=['POST']),
    Route(f'{COMPLEX}/{{complex_id:int}}', get_complex, methods=['GET']),
    Route(f'{COMPLEX}/{{complex_id:int}}', cancel_complex, methods=['DELETE']),
    Route('/customers/{customer_id}/orders', customer_orders),
]
