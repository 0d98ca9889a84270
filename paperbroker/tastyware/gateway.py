"""The ASGI app mounted at ``/tastyware``: ``X-Api-Key`` authentication, the optional rate limit, the routes.

The paper API serves account endpoints only (what the SDK's ``Account`` calls, plus the paper account
endpoints and the notification websocket): the broker's own account and order handlers are reused, with the
caller's user taken from the API key instead of a bearer token. Instruments, option chains and market data
stay on the plain API (``PaperSession`` is "only valid for account endpoints").
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.datastructures import Headers
from starlette.routing import BaseRoute, Route, Router, WebSocketRoute

from paperbroker import rest_accounts, rest_orders, rest_reports
from paperbroker.errors import ApiError
from paperbroker.responses import PREAUTHENTICATED_USER
from paperbroker.tastyware import accounts, orders
from paperbroker.tastyware.notifications import notifications

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

ORDER = '/accounts/{account_number}/orders'
COMPLEX = '/accounts/{account_number}/complex-orders'
# Routes of the plain API that the paper API shares: everything about the caller's customer and accounts.
SHARED_PREFIXES = ('/accounts/', '/customers/', '/margin/accounts/')


def _shared(route: BaseRoute) -> bool:
    path = getattr(route, 'path', '')
    return isinstance(route, Route) and (path.startswith(SHARED_PREFIXES) or path == '/sessions/validate')


def paper_routes() -> list[BaseRoute]:
    """The paper API's own routes first (they win over the shared ones for the same path and method)."""
    own: list[BaseRoute] = [
        Route('/accounts', accounts.create_account, methods=['POST']),
        Route('/accounts', accounts.delete_account, methods=['DELETE']),
        Route('/accounts/deposit', accounts.deposit_cash, methods=['POST']),
        Route(f'{ORDER}/dry-run', orders.dry_run_order, methods=['POST']),
        Route(ORDER, orders.place_order, methods=['POST']),
        Route(f'{COMPLEX}/dry-run', orders.dry_run_complex_order, methods=['POST']),
        Route(COMPLEX, orders.place_complex_order, methods=['POST']),
        WebSocketRoute('/notifications', notifications),
    ]
    shared = [r for r in (*rest_accounts.ROUTES, *rest_orders.ROUTES, *rest_reports.ROUTES) if _shared(r)]
    return own + shared


class PaperApiGateway:
    """Authenticates every request by its API key, applies the rate limit, then routes it."""

    def __init__(self) -> None:
        self.router = Router(routes=paper_routes(), default=self._not_found)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] not in {'http', 'websocket'}:
            await self.router(scope, receive, send)
            return
        paper = scope['app'].state.broker.tastyware
        try:
            key = paper.authenticate(Headers(scope=scope).get('x-api-key'))
            if scope['type'] == 'http':
                paper.throttle(key.key)
        except ApiError as exc:
            if scope['type'] == 'websocket':
                await _refuse_websocket(exc, scope, receive, send)
                return
            raise
        await self.router({**scope, PREAUTHENTICATED_USER: key.user_id}, receive, send)

    async def _not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope['path']  # the full path (Mount keeps it and sets root_path)
        error = ApiError(
            404,
            'record_not_found',
            f'The paper API has no endpoint {scope.get("method", "WEBSOCKET")} {path}: it serves account endpoints '
            'only; use a plain session of this broker for instruments, option chains and market data',
        )
        if scope['type'] == 'websocket':
            await _refuse_websocket(error, scope, receive, send)
            return
        raise error


async def _refuse_websocket(error: ApiError, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer a websocket upgrade with the error's status and JSON body (or close 1008 without the extension)."""
    await receive()  # websocket.connect
    if 'websocket.http.response' in scope.get('extensions', {}):
        await send(
            {
                'type': 'websocket.http.response.start',
                'status': error.status,
                'headers': [(b'content-type', b'application/json')],
            }
        )
        await send({'type': 'websocket.http.response.body', 'body': json.dumps(error.body()).encode()})
        return
    await send({'type': 'websocket.close', 'code': 1008, 'reason': error.message[:120]})
