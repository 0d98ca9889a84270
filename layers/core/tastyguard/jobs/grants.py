"""Which grant (tastytrade login) reaches an account, and one broker client per grant.

Every grant has its own client: its own credentials, token cache (and so its own re-authorization
breaker) and its own shared rate budget. Clients are built on first use, so a worker that only ever sees
one grant's accounts builds one client.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from tastyguard.config.grants import DEFAULT_GRANT, GrantConfig
from tastyguard.config.models import TastyguardConfig, UnknownAccountError
from tastyguard.jobs.ports import Broker


class AccountNotReachableError(UnknownAccountError):
    """An invocation names an account that neither the file nor a discovering grant covers."""


def grant_of(config: TastyguardConfig, account: str, named: str | None = None) -> str:
    """The grant of ``account``: the file's answer; else ``named`` (the invocation's) if that grant admits it.

    Raises :class:`AccountNotReachableError` for an account tastyguard must not touch (not in the file, and
    not discovered by the named grant, or excluded from it).
    """
    configured = config.grant_of(account)
    if configured is not None:
        return configured
    if named is not None:
        try:
            grant = config.grant(named)
        except KeyError:
            grant = None
        if grant is not None and grant.admits(account):
            return grant.name
    known = tuple(a.account_number for a in config.configured_accounts())
    raise AccountNotReachableError(account, known)


class GrantClients:
    """The broker client of each configured grant (built on first use by ``factory``)."""

    def __init__(self, config: TastyguardConfig, factory: Callable[[GrantConfig], Broker]) -> None:
        self._grants = {grant.name: grant for grant in config.effective_grants}
        self._factory = factory
        self._clients: dict[str, Broker] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f'GrantClients(grants={sorted(self._grants)}, built={sorted(self._clients)})'

    @property
    def names(self) -> tuple[str, ...]:
        """The grants, in configuration order."""
        return tuple(self._grants)

    def get(self, grant: str) -> Broker:
        """The client of ``grant`` (``KeyError`` for an unknown grant)."""
        with self._lock:
            client = self._clients.get(grant)
            if client is None:
                client = self._factory(self._grants[grant])
                self._clients[grant] = client
            return client

    def first(self) -> Broker:
        """The client of the first grant (``default`` when no grants are configured)."""
        return self.get(next(iter(self._grants), DEFAULT_GRANT))
