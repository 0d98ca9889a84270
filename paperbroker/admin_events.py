"""The admin API under ``/_paper/`` (part 3): events that change positions without an order.

Expirations (run now, holder instructions), early exercise and assignment, splits, session times and
"advance to the next session". See :mod:`paperbroker.expiration`, :mod:`paperbroker.settlement` and
:mod:`paperbroker.splits` for what each event does to positions, orders, cash and transactions.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from paperbroker.admin import admin_account, admin_body, bad_request
from paperbroker.amounts import to_decimal
from paperbroker.clock import iso_ms
from paperbroker.expiration import INSTRUCTIONS
from paperbroker.responses import broker_of
from paperbroker.sessions import next_boundary, parse_hhmm
from paperbroker.splits import parse_ratio


def _date(raw: object, what: str) -> date:
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise bad_request(f'{what} must be a date written YYYY-MM-DD, not {raw!r}') from None


def _symbol(body: dict[str, Any]) -> str:
    symbol = body.get('symbol')
    if not isinstance(symbol, str) or not symbol.strip():
        raise bad_request('"symbol" is required')
    return symbol


def _instruction(request: Request, item: Any) -> tuple[tuple[str, str], str]:
    if not isinstance(item, dict):
        raise bad_request('each instruction must be an object {"account-number", "symbol", "action"}')
    fields = {key.replace('_', '-'): value for key, value in item.items()}
    action = fields.get('action')
    if action not in INSTRUCTIONS:
        raise bad_request(f'"action" must be one of {", ".join(INSTRUCTIONS)}, not {action!r}')
    state = broker_of(request).core.state
    symbol = _symbol(fields)
    instrument = state.registry.get(symbol)
    if instrument is None or instrument.instrument_type not in {'Equity Option', 'Future Option'}:
        raise bad_request(f'{symbol!r} is not an option the paper broker knows')
    return (admin_account(request, fields), instrument.symbol), str(action)


def _instructions_json(request: Request) -> list[dict[str, str]]:
    state = broker_of(request).core.state
    return [
        {'account-number': account, 'symbol': symbol, 'action': action}
        for (account, symbol), action in sorted(state.instructions.items())
    ]


async def expirations(request: Request) -> JSONResponse:
    """``POST {"date"?, "instructions"?}``: settle everything expiring up to ``date`` (default today) now."""
    broker = broker_of(request)
    body = await admin_body(request)
    through = _date(body['date'], '"date"') if body.get('date') else broker.clock.today()
    raw = body.get('instructions') or []
    if not isinstance(raw, list):
        raise bad_request('"instructions" must be a list')
    for key, action in [_instruction(request, item) for item in raw]:
        broker.core.state.instructions[key] = action
    settled = broker.engine.expirations.expire(through)
    return JSONResponse({'date': through.isoformat(), 'settled': [s.as_json() for s in settled]})


async def instructions(request: Request) -> JSONResponse:
    """``POST`` records a holder's instruction for the next expiration, ``GET`` lists them, ``DELETE`` clears."""
    broker = broker_of(request)
    if request.method == 'POST':
        key, action = _instruction(request, await admin_body(request))
        broker.core.state.instructions[key] = action
    elif request.method == 'DELETE':
        broker.core.state.instructions.clear()
    return JSONResponse({'instructions': _instructions_json(request)})


async def _early(request: Request, outcome: str) -> JSONResponse:
    broker = broker_of(request)
    body = await admin_body(request)
    number = admin_account(request, body)
    symbol = _symbol(body)
    instrument = broker.core.state.registry.get(symbol)
    quantity: Decimal | None = None
    if body.get('quantity') is not None:
        quantity = to_decimal(body['quantity'])
        if quantity is None:
            raise bad_request('"quantity" must be a number of contracts')
    try:
        settled = broker.engine.expirations.exercise_early(
            number, instrument.symbol if instrument else symbol, quantity, outcome
        )
    except ValueError as exc:
        raise bad_request(str(exc)) from exc
    return JSONResponse(settled.as_json())


async def exercise(request: Request) -> JSONResponse:
    """``POST {"account-number", "symbol", "quantity"?}``: exercise a long option now (default: all of it)."""
    return await _early(request, 'exercise')


async def assign(request: Request) -> JSONResponse:
    """``POST {"account-number", "symbol", "quantity"?}``: assign a short option now (default: all of it)."""
    return await _early(request, 'assign')


async def split(request: Request) -> JSONResponse:
    """``POST {"symbol", "ratio": "2:1", "orders"?: "adjust" | "cancel" | "keep"}``."""
    broker = broker_of(request)
    body = await admin_body(request)
    symbol = _symbol(body)
    try:
        ratio = parse_ratio(body.get('ratio'))
        result = broker.engine.splits.apply(symbol, ratio, str(body.get('orders', 'adjust')))
    except ValueError as exc:
        raise bad_request(str(exc)) from exc
    return JSONResponse(result.as_json())


async def session(request: Request) -> JSONResponse:
    """``POST {"close"?: "16:00", "early-closes"?: {"2026-11-27": "13:00"}}`` sets the session close times."""
    broker = broker_of(request)
    settings = broker.core.settings
    if request.method == 'POST':
        body = await admin_body(request)
        try:
            close = parse_hhmm(body['close'], '"close"') if 'close' in body else settings.session_close
            early = body.get('early-closes', {})
            if not isinstance(early, dict):
                raise ValueError('"early-closes" must map dates (YYYY-MM-DD) to times ("13:00")')
            closes = {
                _date(day, 'an early-close date'): parse_hhmm(value, f'the close of {day}')
                for day, value in early.items()
            }
        except ValueError as exc:
            raise bad_request(str(exc)) from exc
        settings.session_close = close
        settings.early_closes.update(closes)
    return JSONResponse(
        {'close': settings.session_close.strftime('%H:%M'), 'early-closes': settings.as_json()['early-closes']}
    )


async def next_session(request: Request) -> JSONResponse:
    """``POST {"to"?: "open" | "close"}``: move the clock to the next session open (or close), settling what is due."""
    broker = broker_of(request)
    body = await admin_body(request)
    now = broker.clock.now()
    try:
        target = next_boundary(now, broker.core.settings, which=str(body.get('to', 'open')))
    except ValueError as exc:
        raise bad_request(str(exc)) from exc
    broker.advance((target - now).total_seconds())
    return JSONResponse(
        {
            'now': iso_ms(broker.clock.now()),
            'offset-seconds': broker.clock.offset.total_seconds(),
            'today': broker.clock.today().isoformat(),
        }
    )


ROUTES = [
    Route('/_paper/expirations', expirations, methods=['POST']),
    Route('/_paper/expiration-instructions', instructions, methods=['GET', 'POST', 'DELETE']),
    Route('/_paper/exercise', exercise, methods=['POST']),
    Route('/_paper/assign', assign, methods=['POST']),
    Route('/_paper/split', split, methods=['POST']),
    Route('/_paper/session', session, methods=['GET', 'POST']),
    Route('/_paper/next-session', next_session, methods=['POST']),
]
