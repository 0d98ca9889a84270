"""Helpers the REST routes share: envelopes, pagination, JSON bodies, the caller and their account."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse

from paperbroker.errors import ApiError, not_found
from paperbroker.model import Account, User

if TYPE_CHECKING:
    from paperbroker.broker import Broker

# Set in the ASGI scope by a front door that authenticated the caller another way (the tastyware paper API's
# X-Api-Key); requests without it authenticate with their bearer token.
PREAUTHENTICATED_USER = 'paperbroker.user_id'


def broker_of(request: HTTPConnection) -> Broker:
    """The broker behind a request or websocket."""
    broker: Broker = request.app.state.broker
    return broker


def ok(request: Request, data: Any, status: int = 200) -> JSONResponse:
    """``{"data": ..., "context": "/path"}``."""
    return JSONResponse({'data': data, 'context': request.url.path}, status_code=status)


def ok_items(request: Request, items: list[Any], pagination: dict[str, Any] | None = None) -> JSONResponse:
    """``{"data": {"items": [...]}, "context": ...}`` (+ top-level ``pagination``)."""
    body: dict[str, Any] = {'data': {'items': items}, 'context': request.url.path}
    if pagination is not None:
        body['pagination'] = pagination
    return JSONResponse(body)


def paginate(
    request: Request, items: list[Any], default_per_page: int = 10, max_per_page: int = 2000
) -> tuple[list[Any], dict[str, Any]]:
    """Slice by ``per-page`` / ``page-offset`` and build the ``pagination`` object."""
    per_page = _int_param(request, 'per-page', default_per_page, 1, max_per_page)
    page_offset = _int_param(request, 'page-offset', 0, 0, 10**9)
    total = len(items)
    pages = max(math.ceil(total / per_page), 1) if total else 0
    start = page_offset * per_page
    page = items[start : start + per_page]
    return page, {
        'per-page': per_page,
        'page-offset': page_offset,
        'item-offset': start,
        'total-items': total,
        'total-pages': pages,
        'current-item-count': len(page),
        'previous-link': None,
        'next-link': None,
        'paging-link-template': None,
    }


def list_param(request: Request, name: str) -> list[str]:
    """A query parameter given as ``name[]=a&name[]=b`` or ``name=a&name=b`` (or ``name=a,b``)."""
    values = request.query_params.getlist(f'{name}[]') + request.query_params.getlist(name)
    return [part for value in values for part in value.split(',') if part]


async def json_body(request: Request) -> Any:
    """The request's JSON body (``None`` when empty); a 400 for malformed JSON."""
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, 'bad_request', 'The request body is not valid JSON') from exc


def current_user(request: Request) -> User:
    """The user behind the bearer token, or the one a front door already authenticated (401 otherwise)."""
    broker = broker_of(request)
    user_id = request.scope.get(PREAUTHENTICATED_USER) or broker.auth.authenticate(request.headers.get('authorization'))
    user = broker.core.state.users.get(user_id)
    if user is None:
        raise ApiError(401, 'unauthorized', 'Token is invalid or has been revoked')
    return user


def user_account(request: Request) -> tuple[User, Account]:
    """The caller and the ``{account_number}`` of the path: 404 unknown, 403 someone else's."""
    user = current_user(request)
    number = request.path_params['account_number']
    account = broker_of(request).core.state.accounts.get(number)
    if account is None:
        raise not_found(f'account {number}')
    if account.owner_id != user.id:
        raise ApiError(403, 'not_permitted', 'User not permitted access')
    return user, account


def bool_param(request: Request, name: str) -> bool:
    """A boolean query parameter (``true``/``1``/``yes``)."""
    return request.query_params.get(name, '').lower() in {'true', '1', 'yes'}


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == '':
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ApiError(400, 'bad_request', f'{name} must be an integer') from exc
    return min(max(value, low), high)
