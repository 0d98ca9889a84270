"""Turning HTTP responses into data or typed errors: envelopes, error bodies, HTML pages, bad JSON.

tastytrade answers ``{"data": ..., "context": ...}`` (lists in ``data.items``, pagination as a top-level
sibling), errors as ``{"error": {"code", "message", "errors": [...]}}``, the token endpoint as OAuth JSON
(``{"error_code"|"error", "error_description"}``), and nginx as an HTML page. Every message built here is
passed through a :class:`Redactor`, so a secret echoed by a server can never reach a log or an exception.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from tastyguard.broker.errors import (
    AuthenticationError,
    BadRequestError,
    BrokerError,
    MalformedResponseError,
    NotFoundError,
    OrderRejectedError,
    PermissionDeniedError,
    RateLimitedError,
    RequestRejectedError,
    ServerError,
)
from tastyguard.broker.models.common import ApiMessage

M = TypeVar('M', bound=BaseModel)

SNIPPET_CHARS = 160
_TAGS = re.compile(r'<(script|style)\b.*?</\1>|<[^>]+>', re.IGNORECASE | re.DOTALL)
_SPACES = re.compile(r'\s+')
_TITLE = re.compile(r'<title>(.*?)</title>', re.IGNORECASE | re.DOTALL)
_MIN_SECRET_CHARS = 4


class Redactor:
    """Replaces every registered secret value in a text by ``***``."""

    def __init__(self, secrets: Iterable[SecretStr | str | None] = ()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: SecretStr | str | None) -> None:
        """Register a secret (short or empty values are ignored: they would redact innocent text)."""
        value = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
        if value and len(value) >= _MIN_SECRET_CHARS:
            self._secrets.add(value)

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, '***')
        return text

    def __repr__(self) -> str:
        return f'Redactor({len(self._secrets)} secrets)'


def is_html(response: httpx.Response) -> bool:
    """True for an HTML page (nginx error pages, captive proxies)."""
    content_type = response.headers.get('content-type', '').lower()
    if 'html' in content_type:
        return True
    return response.content[:64].lstrip().lower().startswith((b'<!doctype html', b'<html'))


def snippet(response: httpx.Response, redact: Redactor) -> str:
    """A short, tag-free, whitespace-collapsed, redacted excerpt of the body."""
    text = response.content[:4096].decode('utf-8', errors='replace')
    if is_html(response):
        title = _TITLE.search(text)
        text = title.group(1) if title else _TAGS.sub(' ', text)
    text = redact(_SPACES.sub(' ', text).strip())
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 3] + '...'


def decode_json(response: httpx.Response, *, method: str, path: str, redact: Redactor) -> Any:
    """The decoded JSON body, or :class:`MalformedResponseError` naming what came instead."""
    if is_html(response):
        raise MalformedResponseError(
            f'expected JSON, got an HTML page: {snippet(response, redact)!r}',
            status=response.status_code,
            method=method,
            path=path,
            hint='something other than the tastytrade API answered (a proxy or nginx error page)',
        )
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        raise MalformedResponseError(
            f'expected JSON, got {len(response.content)} bytes that do not parse: {snippet(response, redact)!r}',
            status=response.status_code,
            method=method,
            path=path,
        ) from None


def unwrap_data(body: Any, *, method: str, path: str) -> Any:
    """``body["data"]`` of the API envelope."""
    if not isinstance(body, dict) or 'data' not in body:
        kind = type(body).__name__ if not isinstance(body, dict) else f'an object with keys {sorted(body)[:8]}'
        raise MalformedResponseError(f'expected the API envelope {{"data": ...}}, got {kind}', method=method, path=path)
    return body['data']


def unwrap_items(body: Any, *, method: str, path: str) -> list[Any]:
    """``body["data"]["items"]`` of a list response."""
    data = unwrap_data(body, method=method, path=path)
    items = data.get('items') if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise MalformedResponseError('expected a list response {"data": {"items": [...]}}', method=method, path=path)
    return items


def parse_model(model: type[M], data: Any, *, method: str, path: str) -> M:
    """Validate ``data`` into ``model``; a mismatch becomes a secret-free :class:`MalformedResponseError`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = '; '.join(
            f'{".".join(str(part) for part in error["loc"]) or "(root)"}: {error["msg"]}' for error in exc.errors()[:3]
        )
        more = f' (+{exc.error_count() - 3} more)' if exc.error_count() > 3 else ''
        raise MalformedResponseError(
            f'response does not fit {model.__name__}: {problems}{more}', method=method, path=path
        ) from None


def _messages(raw: Any) -> tuple[ApiMessage, ...]:
    if not isinstance(raw, list):
        return ()
    out = []
    for item in raw:
        if isinstance(item, dict):
            try:
                out.append(ApiMessage.model_validate(item))
            except ValidationError:
                continue
    return tuple(out)


def error_fields(response: httpx.Response, redact: Redactor) -> tuple[str | None, str, tuple[ApiMessage, ...]]:
    """(code, message, nested errors) of an error response in any of the shapes the API uses."""
    if is_html(response):
        return None, f'HTML error page: {snippet(response, redact)!r}', ()
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        text = snippet(response, redact)
        return None, f'non-JSON error body: {text!r}' if text else 'empty error body', ()
    if isinstance(body, dict):
        error = body.get('error')
        if isinstance(error, dict):
            code = error.get('code')
            message = error.get('message') or error.get('description') or ''
            nested = _messages(error.get('errors'))
            return (str(code) if code is not None else None), redact(str(message)), nested
        oauth_code = body.get('error_code') or (error if isinstance(error, str) else None)
        if oauth_code is not None:
            return redact(str(oauth_code)), redact(str(body.get('error_description') or '')), ()
    return None, f'unrecognised error body: {snippet(response, redact)!r}', ()


_BY_STATUS: dict[int, type[BrokerError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: RequestRejectedError,
    429: RateLimitedError,
}
_HTML_401_HINT = (
    'nginx answered with an HTML 401 before the API saw the request; tastytrade rejects requests without a '
    '"User-Agent: product/version" header (tastyguard sends one, so check for a proxy rewriting headers)'
)
_HINTS = {406: 'the API does not support the requested Accept-Version'}


def api_error(
    response: httpx.Response, *, method: str, path: str, redact: Redactor, order_write: bool = False
) -> BrokerError:
    """The typed error for a non-2xx response."""
    status = response.status_code
    code, message, nested = error_fields(response, redact)
    cls: type[BrokerError]
    if status >= 500:
        cls = ServerError
    elif status == 422 and order_write:
        cls = OrderRejectedError
    else:
        cls = _BY_STATUS.get(status, BadRequestError)
    hint = _HTML_401_HINT if status == 401 and is_html(response) else _HINTS.get(status)
    return cls(
        message or response.reason_phrase, status=status, code=code, errors=nested, method=method, path=path, hint=hint
    )
