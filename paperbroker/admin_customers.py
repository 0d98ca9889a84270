"""The admin API under ``/_paper/`` (part 3): customers with their grants, and per-token rate limits.

* ``GET /_paper/customers``: every customer with their credentials and account numbers.
* ``POST /_paper/customers`` ``{"user-id"?, "username"?}``: a new customer with a grant of their own.
* ``POST /_paper/customers/{user_id}/revoke`` ``{"scope": "grant"|"access"}``: revoke one customer's grant
  (``invalid_grant`` from then on) or only their access tokens.
* ``GET /_paper/rate-limits``; ``POST`` ``{"enabled": true, "global": 50, "families": {"positions": 1}}``:
  the per-token limits (off by default; ``429`` with ``Retry-After`` past them).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from paperbroker.admin import admin_body, bad_request
from paperbroker.errors import ApiError
from paperbroker.fleet import add_customer
from paperbroker.responses import broker_of
from paperbroker.tastyware.state import USER_PREFIX as TASTYWARE_SUBSCRIBER_PREFIX


def _customer_json(request: Request, user_id: str) -> dict[str, Any]:
    broker = broker_of(request)
    auth = broker.auth
    grant = next((g for g in auth.customers.values() if g.user_id == user_id), None)
    secret, refresh = (grant.client_secret, grant.refresh_token) if grant else (auth.client_secret, auth.refresh_token)
    user = broker.core.state.users[user_id]
    return {
        'user-id': user_id,
        'username': user.username,
        'client-secret': secret,
        'refresh-token': refresh,
        'revoked': grant.revoked if grant else auth.grant_revoked,
        'accounts': [a.number for a in broker.core.state.user_accounts(user_id)],
    }


async def customers(request: Request) -> JSONResponse:
    """List customers (``GET``) or add one (``POST``)."""
    broker = broker_of(request)
    state = broker.core.state
    if request.method == 'POST':
        body = await admin_body(request)
        user_id = str(body.get('user-id') or f'U{8_000_000 + len(state.users):07d}')
        if user_id in state.users:
            raise bad_request(f'customer {user_id} already exists')
        add_customer(broker.core, broker.auth, user_id, str(body.get('username') or f'paper-{user_id.lower()}'))
        return JSONResponse(_customer_json(request, user_id), status_code=201)
    # Logins of the plain API; the tastyware paper API's subscribers (API keys) are under /_paper/tastyware.
    logins = [user_id for user_id in sorted(state.users) if not user_id.startswith(TASTYWARE_SUBSCRIBER_PREFIX)]
    return JSONResponse({'customers': [_customer_json(request, user_id) for user_id in logins]})


async def revoke(request: Request) -> JSONResponse:
    """Revoke one customer's grant or access tokens."""
    broker = broker_of(request)
    user_id = request.path_params['user_id']
    if user_id not in broker.core.state.users:
        raise ApiError(404, 'record_not_found', f'unknown customer {user_id}')
    scope = str((await admin_body(request)).get('scope', 'grant'))
    if scope not in ('grant', 'access'):
        raise bad_request('"scope" must be "grant" or "access"')
    if user_id == broker.core.user_id:
        broker.auth.revoke(scope)
    else:
        broker.auth.revoke_customer(user_id, scope)
    return JSONResponse(_customer_json(request, user_id))


async def rate_limits(request: Request) -> JSONResponse:
    """Read (``GET``) or set (``POST``) the per-token rate limits."""
    throttle = broker_of(request).throttle
    if request.method == 'POST':
        body = await admin_body(request)
        families = body.get('families') or {}
        if not isinstance(families, dict):
            raise bad_request('"families" must map family names to requests per second')
        try:
            throttle.configure(
                enabled=bool(body.get('enabled', True)),
                global_per_second=float(body['global']) if body.get('global') is not None else None,
                **{str(name): float(rate) for name, rate in families.items()},
            )
        except (TypeError, ValueError) as exc:
            raise bad_request(str(exc)) from exc
    return JSONResponse(throttle.as_json())


ROUTES = [
    Route('/_paper/customers', customers, methods=['GET', 'POST']),
    Route('/_paper/customers/{user_id}/revoke', revoke, methods=['POST']),
    Route('/_paper/rate-limits', rate_limits, methods=['GET', 'POST']),
]
