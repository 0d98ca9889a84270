"""The shared access-token cache on AWS: the token in Secrets Manager, lock and breaker in DynamoDB.

Secrets live only in Secrets Manager, so the access token (valid 15 minutes) is kept in a secret of its
own that every Lambda and the streamer read; the refresh lock and the re-authorization breaker hold no
secret and live in the state table. With about four refreshes an hour the whole system stays far from
tastytrade's failed-login IP block.

Each process keeps the token in memory and reads the secret again only when the copy is close to expiry,
so a job makes about one Secrets Manager call per run, not one per broker request.
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from tastyguard.broker.tokens import AccessToken, BreakerTrip
from tastyguard.redact import register_secret
from tastyguard.store.keys import DEFAULT_GRANT, GLOBAL_PK, token_breaker_sk, token_lock_sk
from tastyguard.store.table import StateTable

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient


class AwsTokenCache:
    """A :class:`tastyguard.broker.TokenCache` shared through AWS by every process using one grant.

    Each grant has its own token secret, lock and breaker, so a grant that needs re-authorizing stops only
    its own accounts.
    """

    def __init__(
        self,
        state: StateTable,
        secrets: SecretsManagerClient,
        *,
        secret_id: str,
        environment: str,
        grant: str = DEFAULT_GRANT,
        local_margin: timedelta = timedelta(seconds=90),
        breaker_memo: timedelta = timedelta(seconds=15),
    ) -> None:
        self._state = state
        self._secrets = secrets
        self.secret_id = secret_id
        self.environment = environment
        self.grant = grant
        self._local_margin = local_margin
        self._breaker_memo = breaker_memo
        self._token: AccessToken | None = None
        self._breaker_checked_at: datetime | None = None
        self._breaker: BreakerTrip | None = None

    def __repr__(self) -> str:
        token = 'set' if self._token else 'none'
        return f'AwsTokenCache(environment={self.environment!r}, grant={self.grant!r}, token={token})'

    # -- the token -------------------------------------------------------------------------------------
    def load(self) -> AccessToken | None:
        """The shared token: the in-memory copy while it is fresh, else the secret's current value."""
        now = self._state.clock()
        if self._token is not None and self._token.seconds_left(now) > self._local_margin.total_seconds():
            return self._token
        try:
            raw = self._secrets.get_secret_value(SecretId=self.secret_id)['SecretString']
        except self._secrets.exceptions.ResourceNotFoundException:
            return None
        token = _parse(raw)
        self._token = token
        return token

    def store(self, token: AccessToken) -> None:
        """Publish a freshly minted token to every process."""
        value = token.value.get_secret_value()
        register_secret(value)
        body = json.dumps({'access_token': value, 'expires_at': token.expires_at.isoformat()})
        try:
            self._secrets.put_secret_value(SecretId=self.secret_id, SecretString=body)
        except self._secrets.exceptions.ResourceNotFoundException:
            self._secrets.create_secret(
                Name=self.secret_id,
                SecretString=body,
                Description='tastyguard: the shared tastytrade access token (15 minutes; refreshed automatically)',
            )
        self._token = token

    # -- the refresh lock ------------------------------------------------------------------------------
    def try_lock(self, owner: str, ttl_seconds: float) -> bool:
        """Take the refresh lock unless another owner holds an unexpired one, or the breaker is open."""
        if self._read_breaker() is not None:
            return False  # the provider re-checks the breaker and raises ReauthorizationRequired
        now = self._state.clock()
        until_ms = int((now + timedelta(seconds=ttl_seconds)).timestamp() * 1000)
        try:
            self._state.table.put_item(
                Item={
                    'pk': GLOBAL_PK,
                    'sk': token_lock_sk(self.environment, self.grant),
                    'owner': owner,
                    'until_ms': until_ms,
                    'expires_at': int(now.timestamp()) + 86400,
                },
                ConditionExpression='attribute_not_exists(pk) OR until_ms < :now OR #owner = :owner',
                ExpressionAttributeNames={'#owner': 'owner'},
                ExpressionAttributeValues={':now': int(now.timestamp() * 1000), ':owner': owner},
            )
        except Exception as error:
            if self._state.is_conditional_failure(error):
                return False
            raise
        return True

    def unlock(self, owner: str) -> None:
        """Release the lock if ``owner`` holds it."""
        try:
            self._state.table.delete_item(
                Key={'pk': GLOBAL_PK, 'sk': token_lock_sk(self.environment, self.grant)},
                ConditionExpression='#owner = :owner',
                ExpressionAttributeNames={'#owner': 'owner'},
                ExpressionAttributeValues={':owner': owner},
            )
        except Exception as error:
            if not self._state.is_conditional_failure(error):
                raise

    # -- the breaker -----------------------------------------------------------------------------------
    def breaker(self) -> BreakerTrip | None:
        """The open breaker's trip (re-read at most every ``breaker_memo``; an open breaker is never memo'd)."""
        now = self._state.clock()
        if (
            self._breaker is None
            and self._breaker_checked_at is not None
            and now - self._breaker_checked_at < self._breaker_memo
        ):
            return None
        return self._read_breaker()

    def _read_breaker(self) -> BreakerTrip | None:
        self._breaker = read_breaker(self._state, self.environment, self.grant)
        self._breaker_checked_at = self._state.clock()
        return self._breaker

    def trip_breaker(self, trip: BreakerTrip) -> None:
        """Open the breaker for every process (the first trip's reason is kept)."""
        try:
            self._state.table.put_item(
                Item={
                    'pk': GLOBAL_PK,
                    'sk': token_breaker_sk(self.environment, self.grant),
                    'reason': trip.reason,
                    'tripped_at': trip.tripped_at.isoformat(),
                },
                ConditionExpression='attribute_not_exists(pk)',
            )
        except Exception as error:
            if not self._state.is_conditional_failure(error):
                raise
        self._breaker = trip

    def reset_breaker(self) -> None:
        """Close the breaker and forget the token (after the user stored a new grant)."""
        self._state.table.delete_item(Key={'pk': GLOBAL_PK, 'sk': token_breaker_sk(self.environment, self.grant)})
        self._breaker = None
        self._breaker_checked_at = None
        self._token = None
        with contextlib.suppress(self._secrets.exceptions.ResourceNotFoundException):
            self._secrets.put_secret_value(SecretId=self.secret_id, SecretString=json.dumps({'access_token': None}))


def read_breaker(state: StateTable, environment: str, grant: str = DEFAULT_GRANT) -> BreakerTrip | None:
    """The open re-authorization breaker of one grant (None: closed); needs only the state table."""
    item = state.table.get_item(
        Key={'pk': GLOBAL_PK, 'sk': token_breaker_sk(environment, grant)}, ConsistentRead=True
    ).get('Item')
    return None if item is None else _trip(item)


def _parse(raw: str) -> AccessToken | None:
    try:
        data: Any = json.loads(raw)
        value = data.get('access_token')
        expires_at = datetime.fromisoformat(data['expires_at']) if value else None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # an unreadable cache entry only means "refresh"
    if not isinstance(value, str) or not value or expires_at is None or expires_at.tzinfo is None:
        return None
    register_secret(value)
    return AccessToken(value=SecretStr(value), expires_at=expires_at)


def _trip(item: dict[str, Any]) -> BreakerTrip:
    return BreakerTrip(reason=str(item.get('reason', '')), tripped_at=datetime.fromisoformat(str(item['tripped_at'])))
