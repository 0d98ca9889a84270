"""The API's error envelopes and the exceptions that produce them.

REST errors use ``{"error": {"code", "message", "errors"?}}``; the token endpoint answers OAuth-style at the
top level (``{"error_code", "error_description"}``); nginx in front of the API answers with HTML.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import HTMLResponse, JSONResponse, Response

NGINX_401 = (
    '<html>\r\n<head><title>401 Authorization Required</title></head>\r\n<body>\r\n'
    '<center><h1>401 Authorization Required</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n'
)

STATUS_CODES = {
    400: 'bad_request',
    401: 'unauthorized',
    403: 'not_permitted',
    404: 'record_not_found',
    405: 'method_not_allowed',
    409: 'conflict',
    422: 'unprocessable_entity',
    429: 'too_many_requests',
    500: 'internal_server_error',
    502: 'bad_gateway',
    503: 'service_unavailable',
    504: 'gateway_timeout',
}
STATUS_MESSAGES = {
    400: 'Bad request',
    401: 'Unauthorized',
    403: 'User not permitted access',
    404: 'Not found',
    405: 'Method not allowed',
    409: 'Conflict',
    422: 'Unprocessable entity',
    429: 'Too many requests',
    500: 'An unexpected error occurred. Please contact support with id 0000-paper',
    502: 'Bad gateway',
    503: 'Service unavailable',
    504: 'Gateway timeout',
}


class ApiError(Exception):
    """An error the API answers with its ``{"error": {...}}`` envelope."""

    def __init__(self, status: int, code: str, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(f'{status} {code}: {message}')
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        """The JSON envelope."""
        error: dict[str, Any] = {'code': self.code, 'message': self.message}
        if self.errors:
            error['errors'] = self.errors
        return {'error': error}

    def response(self) -> JSONResponse:
        """The HTTP response."""
        return JSONResponse(self.body(), status_code=self.status)


class OAuthError(Exception):
    """An error of the token endpoint (top-level ``error_code`` / ``error_description``)."""

    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(f'{status} {code}: {description}')
        self.status = status
        self.code = code
        self.description = description

    def response(self) -> JSONResponse:
        """The HTTP response."""
        return JSONResponse({'error_code': self.code, 'error_description': self.description}, status_code=self.status)


def not_found(what: str) -> ApiError:
    """404 for an unknown order, account or instrument."""
    return ApiError(404, 'record_not_found', f'Could not find {what}')


def validation_error(errors: list[dict[str, str]]) -> ApiError:
    """422 ``validation_error`` with ``{"domain", "reason"}`` entries."""
    return ApiError(422, 'validation_error', 'Request validation failed', errors)


def preflight_failure(errors: list[dict[str, str]]) -> ApiError:
    """422 ``preflight_check_failure`` with ``{"code", "message"}`` entries."""
    return ApiError(422, 'preflight_check_failure', 'One or more preflight checks failed', errors)


def status_error(status: int, code: str | None = None, message: str | None = None) -> ApiError:
    """An error envelope for an arbitrary status (used by faults)."""
    return ApiError(status, code or STATUS_CODES.get(status, 'error'), message or STATUS_MESSAGES.get(status, 'Error'))


def html_error(status: int) -> Response:
    """nginx's HTML error page for a status."""
    if status == 401:
        return HTMLResponse(NGINX_401, status_code=401)
    title = f'{status} {STATUS_MESSAGES.get(status, "Error").split(".")[0]}'
    page = f'<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n'
    return HTMLResponse(page + '<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n', status_code=status)
