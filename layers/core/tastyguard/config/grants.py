"""Grants (tastytrade logins) and the accounts each one reaches, plus the fan-out settings (``scale``).

A *grant* is one OAuth refresh token (with its client secret) in a Secrets Manager secret of its own. Each
grant reaches its accounts: listed by number, or discovered from ``GET /customers/me/accounts`` at every
tick ("all accounts of this login, except ..."). Without a ``grants`` section there is one grant named
``default`` in the secret ``tastyguard/broker`` that holds every configured account, as before grants
existed.

Which grant an ``accounts[i]`` entry belongs to: its own ``grant`` key, else the grant that lists it, else
the only grant, else the only grant that discovers. Anything else is ambiguous and refused at load time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

AccountNumber = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r'^[A-Za-z0-9]{4,16}$')]
GrantName = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r'^[A-Za-z0-9][A-Za-z0-9-]{0,31}$')
]

DEFAULT_GRANT = 'default'
DEFAULT_BROKER_SECRET = 'tastyguard/broker'  # noqa: S105 - a secret's name
DEFAULT_TOKEN_SECRET = 'tastyguard/access-token'  # noqa: S105 - a secret's name
GRANT_SECRET_PREFIX = 'tastyguard/grants/'  # noqa: S105 - a secret's name prefix


def broker_secret_name(grant: str) -> str:
    """The default Secrets Manager secret of a grant's client secret and refresh token."""
    return DEFAULT_BROKER_SECRET if grant == DEFAULT_GRANT else f'{GRANT_SECRET_PREFIX}{grant}'


def token_secret_name(grant: str) -> str:
    """The Secrets Manager secret caching a grant's shared access token (one token cache per grant)."""
    return DEFAULT_TOKEN_SECRET if grant == DEFAULT_GRANT else f'{DEFAULT_TOKEN_SECRET}/{grant}'


class GrantConfig(BaseModel):
    """One tastytrade login (OAuth grant) and the accounts it reaches."""

    model_config = ConfigDict(frozen=True, extra='forbid', serialize_by_alias=True)

    name: GrantName = Field(description="a short name for messages and secret names, e.g. 'family' (a-z, 0-9, -)")
    secret: str | None = Field(
        None,
        min_length=1,
        max_length=512,
        description='the Secrets Manager secret holding {"client_secret", "refresh_token"} '
        "(default: tastyguard/broker for 'default', tastyguard/grants/<name> otherwise)",
    )
    accounts: tuple[AccountNumber, ...] = Field((), description='the accounts of this login tastyguard protects')
    discover: bool = Field(
        False, description='true: also protect every account GET /customers/me/accounts returns (checked each tick)'
    )
    except_: tuple[AccountNumber, ...] = Field(
        (), alias='except', description='with discover: accounts of this login tastyguard never touches'
    )

    @model_validator(mode='after')
    def _except_needs_discover(self) -> GrantConfig:
        if self.except_ and not self.discover:
            raise ValueError('except only applies with discover: true (it removes accounts from the discovered ones)')
        listed_and_excluded = sorted(set(self.accounts) & set(self.except_))
        if listed_and_excluded:
            raise ValueError(f'{", ".join(listed_and_excluded)} is both listed in accounts and in except')
        return self

    @property
    def secret_name(self) -> str:
        """The secret holding this grant's credentials."""
        return self.secret or broker_secret_name(self.name)

    @property
    def token_secret_name(self) -> str:
        """The secret caching this grant's access token."""
        return token_secret_name(self.name)

    def admits(self, account: str) -> bool:
        """Whether a discovered (or listed) ``account`` belongs to what tastyguard protects for this grant."""
        number = account.strip().upper()
        if number in self.accounts:
            return True
        return self.discover and number not in self.except_


class ScaleSettings(BaseModel):
    """How the scheduled jobs fan out to one worker per account under tastytrade's rate limits."""

    model_config = ConfigDict(frozen=True, extra='forbid')

    concurrency: int = Field(
        5, ge=2, le=1000, description='account runs of one job at the same time (the queue consumer concurrency)'
    )
    headroom: float = Field(
        0.8,
        ge=0.1,
        le=0.95,
        description="share of tastytrade's published per-second limits tastyguard spends (the rest is margin)",
    )
    sweep_window_percent: int = Field(
        80,
        ge=10,
        le=95,
        description='how much of a job period one sweep may use; accounts that do not fit are swept next tick',
    )
    quiet_verify_minutes: int = Field(
        30,
        ge=0,
        le=1440,
        description=(
            'how often ensure-stops still reads an account the streamer holds and nothing happened on '
            '(0: every account on every tick)'
        ),
    )


def resolve_grants(
    grants: Sequence[GrantConfig], accounts: Iterable[tuple[str, str | None]]
) -> tuple[tuple[GrantConfig, ...], dict[str, str]]:
    """The effective grants and ``account number → grant name`` for every explicitly configured account.

    ``accounts`` are ``(number, its own grant key)`` of the ``accounts`` section. Raises ``ValueError``
    naming the account and the fix for every ambiguity or contradiction.
    """
    entries = list(accounts)
    effective = tuple(grants) or (GrantConfig(name=DEFAULT_GRANT, accounts=tuple(number for number, _ in entries)),)
    listed = check_grants(effective)
    by_name = {grant.name: grant for grant in effective}
    discovering = [grant.name for grant in effective if grant.discover]
    owner: dict[str, str] = dict(listed)
    for number, own in entries:
        owner[number] = _owner(number, own, listed, by_name, discovering)
    return effective, owner


def check_grants(grants: Sequence[GrantConfig]) -> dict[str, str]:
    """Unique names and secrets, no account listed twice; returns ``listed account → grant``."""
    names: set[str] = set()
    secrets: dict[str, str] = {}
    for grant in grants:
        if grant.name in names:
            raise ValueError(f'grant {grant.name!r} is defined twice')
        names.add(grant.name)
        if grant.secret_name in secrets:
            raise ValueError(
                f'grants {secrets[grant.secret_name]!r} and {grant.name!r} use the same secret {grant.secret_name!r}'
            )
        secrets[grant.secret_name] = grant.name
    listed: dict[str, str] = {}
    for grant in grants:
        for number in grant.accounts:
            if number in listed:
                raise ValueError(f'account {number} is listed by grants {listed[number]!r} and {grant.name!r}')
            listed[number] = grant.name
    return listed


def _owner(
    number: str, own: str | None, listed: Mapping[str, str], by_name: Mapping[str, GrantConfig], discovering: list[str]
) -> str:
    known = ', '.join(sorted(by_name))
    if own is not None:
        if own not in by_name:
            raise ValueError(f'account {number}: grant {own!r} is not defined (grants: {known})')
        if number in listed and listed[number] != own:
            raise ValueError(f'account {number} says grant {own!r} but grant {listed[number]!r} lists it')
        if number in by_name[own].except_:
            raise ValueError(f'account {number} is in the except list of its own grant {own!r}')
        return own
    if number in listed:
        return listed[number]
    if len(by_name) == 1:
        return next(iter(by_name))
    if len(discovering) == 1 and number not in by_name[discovering[0]].except_:
        return discovering[0]
    raise ValueError(
        f'account {number}: which grant reaches it? add grant: <name> to the account or list it under '
        f'grants[].accounts (grants: {known})'
    )
