"""The admin API under ``/_paper/`` (part 2): faults, the virtual clock, fill behaviour, market hours, the
request log and scenario resets."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from paperbroker.admin import admin_body, bad_request
from paperbroker.clock import iso_ms, parse_datetime
from paperbroker.core import Settings
from paperbroker.faults import WS_KINDS
from paperbroker.responses import broker_of, json_body
from paperbroker.validation import BEHAVIORS


async def faults(request: Request) -> JSONResponse:
    """``POST`` arms a fault, ``GET`` lists them, ``DELETE`` clears them."""
    broker = broker_of(request)
    if request.method == 'POST':
        raw = await json_body(request)
        if not isinstance(raw, dict):
            raise bad_request('the body must be a JSON object')
        try:
            fault = broker.faults.add(raw)
        except ValueError as exc:
            raise bad_request(str(exc)) from exc
        return JSONResponse(fault.as_json(), status_code=201)
    if request.method == 'DELETE':
        broker.faults.clear()
    return JSONResponse({'faults': broker.faults.listing(), 'websocket-kinds': sorted(WS_KINDS)})


async def clock(request: Request) -> JSONResponse:
    """``POST {"advance_seconds": N}`` moves virtual time and processes what is due; ``GET`` reads it."""
    broker = broker_of(request)
    if request.method == 'POST':
        body = await admin_body(request)
        seconds = body.get('advance-seconds', body.get('seconds'))
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
            raise bad_request('"advance_seconds" must be a number >= 0')
        broker.advance(float(seconds))
    return JSONResponse(
        {
            'now': iso_ms(broker.clock.now()),
            'offset-seconds': broker.clock.offset.total_seconds(),
            'today': broker.clock.today().isoformat(),
        }
    )


async def fill_behavior(request: Request) -> JSONResponse:
    """``POST`` sets the default fill behaviour (and cancel/replace latency); ``GET`` reads it."""
    broker = broker_of(request)
    settings = broker.core.settings
    if request.method == 'POST':
        body = await admin_body(request)
        behavior = body.get('behavior', settings.behavior)
        if behavior not in BEHAVIORS:
            raise bad_request(f'behavior must be one of {", ".join(BEHAVIORS)}')
        settings.behavior = behavior
        settings.delay = float(body['delay']) if body.get('delay') is not None else None
        settings.schedule = parse_datetime(body['schedule']) if body.get('schedule') else None
        settings.force = bool(body.get('force', False))
        settings.cancel_delay = float(body.get('cancel-delay', settings.cancel_delay))
        settings.replace_delay = float(body.get('replace-delay', settings.replace_delay))
        if behavior == 'delayed' and settings.delay is None:
            raise bad_request('behavior "delayed" needs "delay" (seconds)')
        if behavior == 'scheduled' and settings.schedule is None:
            raise bad_request('behavior "scheduled" needs "schedule" (ISO-8601)')
    return JSONResponse(settings.as_json())


async def market(request: Request) -> JSONResponse:
    """``POST {"open": false}`` holds new orders in Received; ``{"open": true}`` routes them."""
    broker = broker_of(request)
    body = await admin_body(request)
    if not isinstance(body.get('open'), bool):
        raise bad_request('"open" must be true or false')
    was_open = broker.core.settings.market_open
    broker.core.settings.market_open = body['open']
    if body['open'] and not was_open:
        broker.engine.open_market()
    return JSONResponse({'market-open': broker.core.settings.market_open})


async def requests(request: Request) -> JSONResponse:
    """``GET`` lists non-admin requests (``?method=POST&path=/orders$`` filters), ``DELETE`` clears them."""
    broker = broker_of(request)
    if request.method == 'DELETE':
        broker.requests.clear()
        return JSONResponse({'requests': []})
    entries = broker.requests.entries
    if method := request.query_params.get('method'):
        entries = [e for e in entries if e['method'] == method.upper()]
    if path := request.query_params.get('path'):
        pattern = re.compile(path)
        entries = [e for e in entries if pattern.search(e['path'])]
    return JSONResponse({'requests': entries})


async def reset(request: Request) -> JSONResponse:
    """``POST {"scenario": "demo"|"empty"|"large", ...options}``: restore a scenario."""
    broker = broker_of(request)
    body = await json_body(request) or {}
    if not isinstance(body, dict):
        raise bad_request('the body must be a JSON object')
    options = {k.replace('-', '_'): v for k, v in body.items() if k != 'scenario'}
    try:
        numbers = broker.reset(str(body.get('scenario', 'demo')), **options)
    except (ValueError, TypeError) as exc:
        raise bad_request(str(exc)) from exc
    return JSONResponse({'scenario': broker.scenario, 'accounts': numbers, 'settings': Settings().as_json()})


ROUTES = [
    Route('/_paper/faults', faults, methods=['GET', 'POST', 'DELETE']),
    Route('/_paper/clock', clock, methods=['GET', 'POST']),
    Route('/_paper/fill-behavior', fill_behavior, methods=['GET', 'POST']),
    Route('/_paper/market', market, methods=['POST']),
    Route('/_paper/requests', requests, methods=['GET', 'DELETE']),
    Route('/_paper/reset', reset, methods=['POST']),
]
