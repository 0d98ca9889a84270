"""Typed errors of the broker client.

Every error keeps what a caller or a user needs: the HTTP status, the API's error code(s) and message,
the request's method and path (never its query string or headers), and a hint on what to do next.
Nothing secret ever goes into an error: messages are built from redacted response snippets.

Hierarchy::

    BrokerError
    ├── AuthenticationError            401 that survived a token refresh, HTML 401, token endpoint trouble
    │   ├── TokenRefreshError          the token endpoint failed transiently (retries exhausted)
    │   ├── TokenEndpointNotFound      404/405 from the token endpoint: the API URL is wrong (not retried)
    │   └── ReauthorizationRequired    the grant is dead (invalid_grant...): the breaker is open
    ├── PermissionDeniedError          403
    ├── NotFoundError                  404
    ├── BadRequestError                400, 406 and other 4xx
    ├── RequestRejectedError           422
    │   └── OrderRejectedError         422 on an order write (preflight_check_failure, cannot_update_order...)
    ├── RateLimitedError               429 after the allowed retries
    ├── ServerError                    5xx after the allowed retries (reads)
    ├── BrokerTimeoutError             timeouts after the allowed retries (reads)
    ├── BrokerConnectionError          connection failures after the allowed retries
    ├── MalformedResponseError         HTML, non-JSON, or JSON that does not fit the model
    └── AmbiguousOrderError            an order write whose outcome is unknown: look it up, never resend
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict, Unpack

from tastyguard.broker.models.common import ApiMessage


class ErrorDetails(TypedDict, total=False):
    """The optional keyword arguments every :class:`BrokerError` accepts."""

    status: int | None
    code: str | None
    errors: Sequence[ApiMessage]
    method: str | None
    path: str | None
    hint: str | None


class BrokerError(Exception):
    """Base of every broker client error."""

    default_hint: str | None = None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        errors: Sequence[ApiMessage] = (),
        method: str | None = None,
        path: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.status = status
        self.code = code
        self.errors = tuple(errors)
        self.method = method
        self.path = path
        self.hint = hint if hint is not None else self.default_hint
        super().__init__(str(self))

    @property
    def codes(self) -> tuple[str, ...]:
        """The top-level code followed by every nested error code (e.g. ``cant_buy_for_credit``)."""
        nested = tuple(e.code or e.domain or '' for e in self.errors)
        return tuple(c for c in (self.code, *nested) if c)

    def __str__(self) -> str:
        head = ' '.join(part for part in (str(self.status) if self.status else '', self.code or '') if part)
        text = f'[{head}] {self.message}' if head else self.message
        if self.errors:
            text += ' (' + '; '.join(str(e) for e in self.errors) + ')'
        if self.method and self.path:
            text += f' [{self.method} {self.path}]'
        if self.hint:
            text += f' -- {self.hint}'
        return text

    def __repr__(self) -> str:
        return f'{type(self).__name__}(status={self.status!r}, code={self.code!r}, message={self.message!r})'


class AuthenticationError(BrokerError):
    """The API refused our credentials (after one forced token refresh) or the token endpoint failed."""

    default_hint = 'check the OAuth client secret and refresh token of this environment'


class TokenRefreshError(AuthenticationError):
    """The token endpoint failed in a way that may be temporary; nothing was tripped, try again later."""

    default_hint = 'the token endpoint failed transiently; the next run retries'


class TokenEndpointNotFound(AuthenticationError):
    """404/405 from ``POST /oauth/token``: there is no token endpoint at this URL, so retrying cannot help."""

    default_hint = (
        "check the API URL: tastytrade's are fixed per environment; a paper broker's is the api_url its server "
        'printed (scheme, host and port, no path such as /v1)'
    )


class ReauthorizationRequired(AuthenticationError):
    """The refresh grant is no longer valid; every process stops refreshing until a human acts."""

    default_hint = (
        'create a new grant at my.tastytrade.com (Manage > My Profile > API > OAuth Applications > '
        'Create Grant), store the new refresh token (and client secret if regenerated) in the secret, '
        'then reset the token breaker'
    )


class PermissionDeniedError(BrokerError):
    """403: this user may not access the resource (wrong account number, missing scope)."""

    default_hint = 'check the account number and that the OAuth grant has the read and trade scopes'


class NotFoundError(BrokerError):
    """404: no such resource (order id, symbol, account)."""


class BadRequestError(BrokerError):
    """400, 406 or another 4xx the client cannot fix by retrying."""


class RequestRejectedError(BrokerError):
    """422: the API understood the request and refused it."""


class OrderRejectedError(RequestRejectedError):
    """422 on an order write: preflight failed, or the order can no longer be changed."""


class RateLimitedError(BrokerError):
    """429 after the allowed retries. ``retry_after`` is the server's hint in seconds, if it sent one."""

    default_hint = 'tastytrade is throttling this client; slow down or spread the work'

    def __init__(self, message: str, *, retry_after: float | None = None, **details: Unpack[ErrorDetails]) -> None:
        self.retry_after = retry_after
        super().__init__(message, **details)


class ServerError(BrokerError):
    """5xx after the allowed retries."""

    default_hint = 'tastytrade is having trouble; the next run retries'


class BrokerTimeoutError(BrokerError):
    """No response in time after the allowed retries."""


class BrokerConnectionError(BrokerError):
    """The connection failed after the allowed retries."""


class MalformedResponseError(BrokerError):
    """The body was HTML, not JSON, or JSON that does not fit what was expected."""


class AmbiguousOrderError(BrokerError):
    """An order write may or may not have reached the broker (timeout, dropped connection, 5xx, bad body).

    Never resend blindly: look the order up by ``external_identifier``
    (:meth:`TastytradeClient.find_order_by_external_id`) or by ``order_id`` first.
    """

    default_hint = 'look the order up by its external identifier before sending anything again'

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        account_number: str,
        external_identifier: str | None = None,
        order_id: int | None = None,
        **details: Unpack[ErrorDetails],
    ) -> None:
        self.operation = operation
        self.account_number = account_number
        self.external_identifier = external_identifier
        self.order_id = order_id
        super().__init__(message, **details)

    def __str__(self) -> str:
        ident = f'external-identifier={self.external_identifier}' if self.external_identifier else ''
        if self.order_id is not None:
            ident = f'{ident} order-id={self.order_id}'.strip()
        return (
            f'{self.operation} on account {self.account_number} is ambiguous ({ident or "no id"}): ' + super().__str__()
        )
