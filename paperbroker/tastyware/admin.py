"""``/_paper/tastyware``: the paper API's keys and settings (admin API, no auth, like the rest of ``/_paper``).

* ``GET /_paper/tastyware``: the broker's own key, the two SDK URLs, every key and the settings.
* ``POST /_paper/tastyware/api-keys`` ``{"api-key"?, "owner"?: "me"}``: 201 and the new key;
  ``DELETE`` ``{"api-key"}`` revokes one.
* ``GET`` / ``POST /_paper/tastyware/settings`` ``{"rate-limit"?, "restrictions"?, "max-default-delay"?,
  "seed"?}``: the settings (changes last until the next reset).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from paperbroker.admin import admin_body, bad_request
from paperbroker.errors import ApiError
from paperbroker.responses import broker_of
from paperbroker.tastyware import urls

MAX_RATE_LIMIT = 10_000
MAX_DELAY_SECONDS = 86_400.0


async def overview(request: Request) -> JSONResponse:
    """``GET /_paper/tastyware``: the broker's own key, the URLs, every key and the settings."""
    paper = broker_of(request).tastyware
    host = request.headers.get('host', f'{request.url.hostname}:{request.url.port}')
    return JSONResponse(
        {
            'api-key': paper.api_key,
            **{k.replace('_', '-'): v for k, v in urls(host).items()},
            'keys': [issued.as_json() for issued in paper.keys.values()],
            'settings': paper.settings.as_json(),
        }
    )


async def api_keys(request: Request) -> JSONResponse:
    """``POST`` issues a key (a new subscriber, or ``"owner": "me"``); ``DELETE`` revokes one."""
    broker = broker_of(request)
    body = await admin_body(request)
    key = body.get('api-key')
    if key is not None and not isinstance(key, str):
        raise bad_request('"api-key" must be a string')
    if request.method == 'DELETE':
        if key is None:
            raise bad_request('"api-key" is required')
        try:
            revoked = broker.tastyware.revoke(key)
        except KeyError:
            raise ApiError(404, 'record_not_found', 'no such API key') from None
        return JSONResponse(revoked.as_json())
    owner = body.get('owner')
    if owner is not None and not isinstance(owner, str):
        raise bad_request('"owner" must be "me" or left out')
    try:
        issued = broker.tastyware.issue(broker.core, key=key, owner=owner)
    except ValueError as exc:
        raise bad_request(str(exc)) from exc
    return JSONResponse(issued.as_json(), status_code=201)


async def settings(request: Request) -> JSONResponse:
    """``POST`` changes the paper API's settings (until the next reset); ``GET`` reads them."""
    paper = broker_of(request).tastyware
    if request.method == 'POST':
        paper.configure(**_settings_changes(await admin_body(request)))
    return JSONResponse(paper.settings.as_json())


def _settings_changes(body: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    unknown = set(body) - {'rate-limit', 'restrictions', 'max-default-delay', 'seed'}
    if unknown:
        raise bad_request(f'unknown settings {sorted(unknown)}; use rate-limit, restrictions, max-default-delay, seed')
    if 'rate-limit' in body:
        limit = body['rate-limit']
        if limit is not None and (not _is_int(limit) or not 1 <= limit <= MAX_RATE_LIMIT):
            raise bad_request(f'"rate-limit" must be requests per second (1-{MAX_RATE_LIMIT}) or null for none')
        changes['rate_limit'] = limit
    if 'restrictions' in body:
        if not isinstance(body['restrictions'], bool):
            raise bad_request('"restrictions" must be true or false')
        changes['restrictions'] = body['restrictions']
    if 'max-default-delay' in body:
        delay = body['max-default-delay']
        if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 <= delay <= MAX_DELAY_SECONDS:
            raise bad_request(f'"max-default-delay" must be seconds between 0 and {MAX_DELAY_SECONDS:g}')
        changes['max_default_delay'] = float(delay)
    if 'seed' in body:
        if body['seed'] is not None and not _is_int(body['seed']):
            raise bad_request('"seed" must be an integer or null')
        changes['seed'] = body['seed']
    return changes


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


ROUTES = [
    Route('/_paper/tastyware', overview),
    Route('/_paper/tastyware/api-keys', api_keys, methods=['POST', 'DELETE']),
    Route('/_paper/tastyware/settings', settings, methods=['GET', 'POST']),
]
