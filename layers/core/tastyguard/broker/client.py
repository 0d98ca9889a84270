"""``TastytradeClient``: the synchronous tastytrade client every job and the streamer use.

    from tastyguard.broker import Environment, OAuthCredentials, TastytradeClient

    with TastytradeClient(Environment.sandbox(), OAuthCredentials(client_secret=..., refresh_token=...)) as tt:
        for account in tt.accounts():
            positions = tt.positions(account.account_number)

Reads retry on 429/5xx/timeouts; order writes never resend on an ambiguous outcome (they raise
:class:`~tastyguard.broker.errors.AmbiguousOrderError`); see :mod:`tastyguard.broker.transport`.
"""

from __future__ import annotations

from collections.abc import Iterable

from tastyguard.broker.market_api import MarketApi
from tastyguard.broker.models.accounts import Account, AccountAuthority, Customer, TradingStatus
from tastyguard.broker.models.balances import AccountBalance
from tastyguard.broker.models.common import InstrumentType
from tastyguard.broker.models.positions import Position
from tastyguard.broker.orders_api import OrdersApi
from tastyguard.broker.transactions_api import TransactionsApi


class TastytradeClient(OrdersApi, MarketApi, TransactionsApi):
    """The tastytrade REST client (accounts, positions, balances, orders, instruments, quotes, transactions).

    See :class:`~tastyguard.broker.core.ClientCore` for the constructor's parameters.
    """

    def customer(self) -> Customer:
        """``GET /customers/me``."""
        return self._get_data(Customer, '/customers/me')

    def account_authorities(self) -> list[AccountAuthority]:
        """``GET /customers/me/accounts``: every account with the user's authority level."""
        return self._get_items(AccountAuthority, '/customers/me/accounts')

    def accounts(self, *, include_closed: bool = False) -> list[Account]:
        """The user's accounts (closed ones only when asked)."""
        accounts = [item.account for item in self.account_authorities()]
        return accounts if include_closed else [a for a in accounts if not a.is_closed]

    def trading_status(self, account: str) -> TradingStatus:
        """``GET /accounts/{n}/trading-status`` (closing-only, frozen, options level...)."""
        return self._get_data(TradingStatus, f'/accounts/{self._account(account)}/trading-status')

    def positions(
        self,
        account: str,
        *,
        symbol: str | None = None,
        underlying_symbols: Iterable[str] = (),
        instrument_type: InstrumentType | str | None = None,
        include_marks: bool = False,
    ) -> list[Position]:
        """Current positions (``GET /accounts/{n}/positions``); marks only on request (slower)."""
        params: dict[str, str | list[str]] = {}
        if symbol:
            params['symbol'] = symbol
        underlyings = list(underlying_symbols)
        if underlyings:
            params['underlying-symbol[]'] = underlyings
        if instrument_type:
            params['instrument-type'] = str(InstrumentType(instrument_type))
        if include_marks:
            params['include-marks'] = 'true'
        return self._get_items(Position, f'/accounts/{self._account(account)}/positions', params or None)

    def balances(self, account: str, currency: str = 'USD') -> AccountBalance:
        """``GET /accounts/{n}/balances/{currency}``."""
        path = f'/accounts/{self._account(account)}/balances/{self._segment(currency)}'
        return self._get_data(AccountBalance, path)
