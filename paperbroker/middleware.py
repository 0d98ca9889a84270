"""The ASGI layer in front of the API: request log, ``User-Agent`` check, HTTP faults, due timers.

Admin requests (``/_paper/...``) pass straight through and are never logged or faulted.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from paperbroker.clock import iso_ms
from paperbroker.errors import html_error, status_error
from paperbroker.faults import Fault
from paperbroker.throttle import retry_after_header

if TYPE_CHECKING:
    from paperbroker.broker import Broker

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
MALFORMED_BODY = b'{"data": {"items": [{"id": 1, "account-number": "5WT'


class DroppedConnection(Exception):
    """Raised after the response has started so the server closes the connection mid-response."""


class QuietDrops(logging.Filter):
    """Keep uvicorn from logging our deliberate ``accept_then_drop`` disconnects as errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], DroppedConnection))


class RequestLog:
    """Every non-admin request: method, path, query, status, virtual time, fault, JSON body."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self._next_id = 1

    def record(self, entry: dict[str, Any]) -> None:
        """Append an entry."""
        entry['id'] = self._next_id
        self._next_id += 1
        self.entries.append(entry)

    def clear(self) -> None:
        """Forget every entry."""
        self.entries.clear()


class PaperMiddleware:
    """Wraps the Starlette app."""

    def __init__(self, app: ASGIApp, broker: Broker) -> None:
        self.app = app
        self.broker = broker

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] not in {'http', 'websocket'} or scope['path'].startswith('/_paper'):
            await self.app(scope, receive, send)
            return
        self.broker.engine.tick()
        entry: dict[str, Any] = {
            'method': 'WEBSOCKET' if scope['type'] == 'websocket' else scope['method'],
            'path': scope['path'],
            'query': unquote(scope.get('query_string', b'').decode('latin-1')),
            'status': None,
            'time': iso_ms(self.broker.core.now()),
            'fault': None,
            'body': None,
            'user-agent': _header(scope, b'user-agent'),
            'user-id': self.broker.auth.user_of(_header(scope, b'authorization')),
        }
        self.broker.requests.record(entry)
        if scope['type'] == 'websocket':
            await self._websocket(scope, receive, send, entry)
        else:
            await self._http(scope, receive, send, entry)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send, entry: dict[str, Any]) -> None:
        fault = self.broker.faults.match_http('WEBSOCKET', scope['path'], websocket=True)
        if fault is not None and fault.kind == 'status':
            entry['fault'], entry['status'] = fault.kind, fault.extra['status']
            await receive()  # websocket.connect
            body = json.dumps(status_error(fault.extra['status']).body()).encode()
            await send(
                {
                    'type': 'websocket.http.response.start',
                    'status': fault.extra['status'],
                    'headers': [(b'content-type', b'application/json')],
                }
            )
            await send({'type': 'websocket.http.response.body', 'body': body})
            return
        entry['status'] = 101
        await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send, entry: dict[str, Any]) -> None:
        # The body is read up front: logged, and replayed to the API even if the client leaves meanwhile.
        body = await _read_body(receive)
        entry['body'] = _redacted(_json_or_none(body))
        logging_receive = _replay(body, receive)
        if _header(scope, b'user-agent') is None:
            entry['status'] = 401
            await html_error(401)(scope, receive, send)
            return
        token = (_header(scope, b'authorization') or '').partition(' ')[2].strip()
        wait = self.broker.throttle.check(token, scope['method'], scope['path'])
        if wait is not None:
            entry['status'], entry['throttled'] = 429, True
            response = status_error(429, 'too_many_requests', 'Rate limit exceeded for this token').response()
            response.headers['Retry-After'] = retry_after_header(wait)
            await response(scope, logging_receive, send)
            return
        fault = self.broker.faults.match_http(scope['method'], scope['path'])
        if fault is not None:
            entry['fault'] = fault.kind
            if await self._short_circuit(fault, scope, logging_receive, send, entry):
                return

        async def recording_send(message: Message) -> None:
            if message['type'] == 'http.response.start':
                entry['status'] = message['status']
            await send(message)

        if (
            fault is None
            or fault.kind == 'revoke_token'
            or (fault.kind == 'delay' and fault.extra['phase'] == 'before')
        ):
            await self.app(scope, logging_receive, recording_send)
            return
        await self._buffered(fault, scope, logging_receive, send, entry)

    async def _short_circuit(
        self, fault: Fault, scope: Scope, receive: Receive, send: Send, entry: dict[str, Any]
    ) -> bool:
        """Faults answered without reaching the API; True if the response was sent."""
        extra = fault.extra
        if fault.kind == 'status':
            status = extra['status']
            response = (
                html_error(status)
                if extra.get('html')
                else status_error(status, extra.get('code'), extra.get('message')).response()
            )
            if extra.get('retry-after') is not None:
                response.headers['Retry-After'] = str(extra['retry-after'])
            entry['status'] = status
            await response(scope, receive, send)
            return True
        if fault.kind == 'html_401':
            entry['status'] = 401
            await html_error(401)(scope, receive, send)
            return True
        if fault.kind == 'malformed':
            entry['status'] = 200
            await send(
                {
                    'type': 'http.response.start',
                    'status': 200,
                    'headers': [
                        (b'content-type', b'application/json'),
                        (b'content-length', str(len(MALFORMED_BODY)).encode()),
                    ],
                }
            )
            await send({'type': 'http.response.body', 'body': MALFORMED_BODY})
            return True
        if fault.kind == 'revoke_token':
            self.broker.core.auth.revoke(extra.get('scope', 'grant'))
            return False
        if fault.kind == 'delay' and extra.get('phase') == 'before':
            await asyncio.sleep(float(extra['seconds']))
            self.broker.engine.tick()
        return False

    async def _buffered(self, fault: Fault, scope: Scope, receive: Receive, send: Send, entry: dict[str, Any]) -> None:
        """Run the API, then delay (``phase: after``) or drop (``accept_then_drop``) its response."""
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, capture)
        start = next(m for m in messages if m['type'] == 'http.response.start')
        entry['status'] = start['status']
        if fault.kind == 'accept_then_drop':
            entry['dropped'] = True
            await send(start)
            raise DroppedConnection('accept_then_drop: the request was processed, the response is dropped')
        if fault.kind == 'delay':
            await asyncio.sleep(float(fault.extra['seconds']))
        for message in messages:
            await send(message)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message['type'] != 'http.request':
            break
        chunks.append(message.get('body', b''))
        if not message.get('more_body'):
            break
    return b''.join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the buffered body out once, then defers to the server (for disconnects)."""
    pending = [body]

    async def replay() -> Message:
        if pending:
            return {'type': 'http.request', 'body': pending.pop(), 'more_body': False}
        return await receive()

    return replay


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get('headers', []):
        if key.lower() == name:
            text: str = value.decode('latin-1')
            return text if text.strip() else None
    return None


_SECRET_KEYS = frozenset({'client_secret', 'refresh_token', 'client-secret', 'refresh-token', 'password', 'token'})


def _redacted(body: Any) -> Any:
    """The logged body with credential values masked (the request log is readable over the admin API)."""
    if isinstance(body, dict):
        return {key: '***' if key in _SECRET_KEYS and value else _redacted(value) for key, value in body.items()}
    return body


def _json_or_none(body: bytes) -> Any:
    if not body or len(body) > 256_000:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None
