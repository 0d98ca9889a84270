"""OAuth credentials, access tokens and quote tokens, all timed by the virtual clock."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from paperbroker.clock import VirtualClock
from paperbroker.errors import ApiError, OAuthError

ACCESS_TOKEN_SECONDS = 900
QUOTE_TOKEN_SECONDS = 24 * 3600


@dataclass
class CustomerGrant:
    """Another customer's OAuth grant (the fleet scenario and ``POST /_paper/customers`` add them)."""

    user_id: str
    client_secret: str
    refresh_token: str
    revoked: bool = False
    revoked_below: int = 0  # this customer's access tokens of a lower generation are revoked


@dataclass
class IssuedToken:
    """An access or quote token."""

    user_id: str
    issued_at: datetime
    expires_at: datetime
    generation: int


class AuthStore:
    """The seeded user's grant (client secret + refresh token), other customers' grants, and every token."""

    def __init__(self, clock: VirtualClock, client_secret: str, refresh_token: str) -> None:
        self.clock = clock
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.user_id = ''
        self.grant_revoked = False
        self.generation = 0
        self.revoked_below = 0
        self.access_tokens: dict[str, IssuedToken] = {}
        self.quote_tokens: dict[str, IssuedToken] = {}
        self.customers: dict[str, CustomerGrant] = {}  # by refresh token; rebuilt by every scenario reset

    def reset(self, user_id: str) -> None:
        """Forget every issued token and restore the grant (same secret and refresh token)."""
        self.user_id = user_id
        self.grant_revoked = False
        self.revoked_below = self.generation + 1
        self.access_tokens.clear()
        self.quote_tokens.clear()

    def exchange(self, body: object) -> dict[str, object]:
        """``POST /oauth/token``: a refresh-token grant for a new access token."""
        if not isinstance(body, dict):
            raise OAuthError(400, 'invalid_request', 'The request body must be a JSON object')
        grant_type = body.get('grant_type')
        if grant_type is None:
            raise OAuthError(400, 'invalid_request', 'grant_type is required')
        if grant_type != 'refresh_token':
            raise OAuthError(400, 'unsupported_grant_type', f'Unsupported grant type: {grant_type}')
        secret, refresh = body.get('client_secret'), body.get('refresh_token')
        if not isinstance(secret, str) or not isinstance(refresh, str) or not secret or not refresh:
            raise OAuthError(400, 'invalid_request', 'client_secret and refresh_token are required')
        customer = self.customers.get(refresh)
        if customer is not None:
            if not secrets.compare_digest(secret, customer.client_secret):
                raise OAuthError(401, 'invalid_client', 'Client authentication failed')
            if customer.revoked:
                raise OAuthError(400, 'invalid_grant', 'Grant is invalid, expired or revoked')
            token = self._issue(self.access_tokens, ACCESS_TOKEN_SECONDS, customer.user_id)
            return {'access_token': token, 'token_type': 'Bearer', 'expires_in': ACCESS_TOKEN_SECONDS}
        if not secrets.compare_digest(secret, self.client_secret):
            raise OAuthError(401, 'invalid_client', 'Client authentication failed')
        if self.grant_revoked or not secrets.compare_digest(refresh, self.refresh_token):
            raise OAuthError(400, 'invalid_grant', 'Grant is invalid, expired or revoked')
        token = self._issue(self.access_tokens, ACCESS_TOKEN_SECONDS)
        return {'access_token': token, 'token_type': 'Bearer', 'expires_in': ACCESS_TOKEN_SECONDS}

    def authenticate(self, header: str | None) -> str:
        """The user id behind an ``Authorization: Bearer ...`` header, or a 401."""
        if not header:
            raise ApiError(401, 'unauthorized', 'Missing authorization header')
        scheme, _, token = header.partition(' ')
        if scheme.lower() != 'bearer' or not token:
            raise ApiError(401, 'unauthorized', 'Authorization header must be "Bearer <access token>"')
        return self.check_access_token(token.strip())

    def check_access_token(self, token: str) -> str:
        """Validate a bare access token; return its user id or raise a 401."""
        issued = self.access_tokens.get(token)
        if issued is None or issued.generation < max(self.revoked_below, self._customer_floor(issued.user_id)):
            raise ApiError(401, 'unauthorized', 'Token is invalid or has been revoked')
        if self.clock.now() >= issued.expires_at:
            raise ApiError(401, 'unauthorized', 'Token has expired')
        return issued.user_id

    def issue_quote_token(self) -> tuple[str, IssuedToken]:
        """A 24-hour DXLink token."""
        token = self._issue(self.quote_tokens, QUOTE_TOKEN_SECONDS)
        return token, self.quote_tokens[token]

    def check_quote_token(self, token: object) -> str | None:
        """The user id of a valid quote token, else None."""
        issued = self.quote_tokens.get(token) if isinstance(token, str) else None
        if issued is None or self.clock.now() >= issued.expires_at:
            return None
        return issued.user_id

    def revoke(self, scope: str) -> None:
        """Revoke every access token issued so far; ``grant`` also revokes the refresh token."""
        self.revoked_below = self.generation + 1
        if scope == 'grant':
            self.grant_revoked = True

    def user_of(self, header: str | None) -> str | None:
        """The user behind an ``Authorization`` header when its token was issued here (no validity check)."""
        token = (header or '').partition(' ')[2].strip()
        issued = self.access_tokens.get(token)
        return issued.user_id if issued is not None else None

    def revoke_customer(self, user_id: str, scope: str) -> None:
        """Revoke one customer's access tokens; ``grant`` also revokes their refresh token."""
        for customer in self.customers.values():
            if customer.user_id == user_id:
                customer.revoked_below = self.generation + 1
                customer.revoked = customer.revoked or scope == 'grant'

    def _customer_floor(self, user_id: str) -> int:
        return max((c.revoked_below for c in self.customers.values() if c.user_id == user_id), default=0)

    def _issue(self, store: dict[str, IssuedToken], seconds: int, user_id: str | None = None) -> str:
        now = self.clock.now()
        self.generation += 1
        token = f'pb.{secrets.token_urlsafe(32)}'
        store[token] = IssuedToken(user_id or self.user_id, now, now + timedelta(seconds=seconds), self.generation)
        return token
