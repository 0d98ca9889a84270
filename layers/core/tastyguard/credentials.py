"""Loading the broker credentials (OAuth client secret + refresh token) from Secrets Manager.

The secret holds ``{"client_secret": "...", "refresh_token": "..."}``. Values are registered for log
scrubbing the moment they are read and travel only as ``SecretStr``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import SecretStr

from tastyguard.broker.auth import OAuthCredentials
from tastyguard.redact import register_secret


class CredentialsError(RuntimeError):
    """The broker credentials are missing or malformed; the message says how to store them."""


HOW_TO_STORE = (
    'aws secretsmanager put-secret-value --secret-id {secret} '
    '--secret-string \'{{"client_secret": "<OAuth client secret>", "refresh_token": "<grant refresh token>"}}\''
)


def credentials_from_values(client_secret: str | None, refresh_token: str | None, *, source: str) -> OAuthCredentials:
    """Build credentials from two values (both required), registering them for scrubbing."""
    missing = [
        name for name, value in (('client_secret', client_secret), ('refresh_token', refresh_token)) if not value
    ]
    if missing:
        raise CredentialsError(f'{source} has no {" and no ".join(missing)}')
    register_secret(client_secret)
    register_secret(refresh_token)
    return OAuthCredentials(client_secret=SecretStr(str(client_secret)), refresh_token=SecretStr(str(refresh_token)))


def credentials_from_secret(secret_id: str, *, max_age: int = 300, fresh: bool = False) -> OAuthCredentials:
    """Read the broker secret through Powertools Parameters (cached for ``max_age`` seconds; ``fresh`` skips
    the cache, as before every token refresh, so a newly stored grant is used at once).

    Powertools Parameters is imported here: only a token refresh reads the secret (a few times an hour per
    grant), and most cold starts find a valid access token in the shared cache.
    """
    from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415 - see above
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError  # noqa: PLC0415

    try:
        raw: Any = parameters.get_secret(secret_id, max_age=max_age, force_fetch=fresh)
    except GetParameterError as error:
        raise CredentialsError(
            f'could not read the broker secret {secret_id!r} ({type(error.__cause__ or error).__name__}); '
            f'create it with: {HOW_TO_STORE.format(secret=secret_id)}'
        ) from None
    text = raw if isinstance(raw, str) else bytes(raw).decode()
    try:
        data = json.loads(text)
    except ValueError:
        raise CredentialsError(
            f'the broker secret {secret_id!r} is not JSON; store it with: {HOW_TO_STORE.format(secret=secret_id)}'
        ) from None
    if not isinstance(data, dict):
        raise CredentialsError(
            f'the broker secret {secret_id!r} must be a JSON object; {HOW_TO_STORE.format(secret=secret_id)}'
        )
    try:
        return credentials_from_values(
            data.get('client_secret'), data.get('refresh_token'), source=f'the broker secret {secret_id!r}'
        )
    except CredentialsError as error:
        raise CredentialsError(f'{error}; store the grant with: {HOW_TO_STORE.format(secret=secret_id)}') from None
