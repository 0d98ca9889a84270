"""Many customers (logins, each with its own OAuth grant) with many accounts: the ``fleet`` scenario.

Customer 0 is the seeded user (the broker's own ``client_secret`` / ``refresh_token``); the others get
credentials derived from those, so a reset to the same scenario gives every customer the same grant again.
Accounts are split into contiguous blocks, one block per customer. Each account holds ``positions``
positions drawn from a shared universe of ``universe`` tickers (about one in ten a long option), every one
quoted, with its average open price within 5 % of the market so the default 10 % stop is never through it.
A tenth of the positions carry a person's stop (some covering only half).
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from paperbroker.auth import AuthStore, CustomerGrant
from paperbroker.core import Core
from paperbroker.engine import Engine
from paperbroker.instruments import occ_symbol, third_friday
from paperbroker.seeding import add_account, add_order, add_position, add_user, set_quote


@dataclass(frozen=True)
class FleetOptions:
    """The ``fleet`` scenario's options (``POST /_paper/reset {"scenario": "fleet", ...}``)."""

    customers: int = 3
    accounts: int = 30
    positions: int = 20
    universe: int = 400
    seed: int = 11

    def __post_init__(self) -> None:
        if not 1 <= self.customers <= 100:
            raise ValueError('customers must be between 1 and 100')
        if not self.customers <= self.accounts <= 99_999:
            raise ValueError('accounts must be at least the number of customers (and at most 99999)')
        if not 0 <= self.positions <= 500 or not 1 <= self.universe <= 10_000:
            raise ValueError('positions must be 0..500 per account and universe 1..10000')


def customer_id(index: int, seeded: str) -> str:
    """Customer ``index``'s user id (0 is the seeded user)."""
    return seeded if index == 0 else f'U{9_000_000 + index:07d}'


def add_customer(core: Core, auth: AuthStore, user_id: str, username: str) -> CustomerGrant:
    """Register a customer and their grant (credentials derived from the broker's own, stable across resets)."""
    add_user(core, user_id, username, 'Paper', f'Customer {user_id}')
    digest = hashlib.sha256(f'{auth.client_secret}:{auth.refresh_token}:{user_id}'.encode()).hexdigest()
    grant = CustomerGrant(user_id=user_id, client_secret=f'pbc-{digest[:32]}', refresh_token=f'pbr-{digest[32:]}')
    auth.customers[grant.refresh_token] = grant
    return grant


def build_fleet(core: Core, engine: Engine, seeded_user: str, **raw: Any) -> None:
    """Seed the fleet (see the module docstring); ``raw`` are :class:`FleetOptions` fields."""
    options = FleetOptions(
        **{key: int(value) for key, value in raw.items() if key in FleetOptions.__dataclass_fields__}
    )
    rng = random.Random(options.seed)
    owners = [customer_id(index, seeded_user) for index in range(options.customers)]
    for index, owner in enumerate(owners[1:], start=1):
        add_customer(core, core.auth, owner, f'paper-customer-{index}')
    opened = core.now() - timedelta(days=365)
    per_customer = math.ceil(options.accounts / options.customers)
    numbers = [f'5WT{index:05d}' for index in range(1, options.accounts + 1)]
    for index, number in enumerate(numbers):
        add_account(core, number, owners[min(index // per_customer, len(owners) - 1)], cash=Decimal(1_000_000),
                    opened_at=opened)  # fmt: skip
    tickers = _universe(rng, options.universe)
    prices = {ticker: Decimal(rng.randint(1_000, 40_000)) / 100 for ticker in tickers}
    for ticker, price in prices.items():
        set_quote(core, ticker, bid=price, ask=price + Decimal('0.02'))
    today = core.clock.today()
    month = today.month + 2
    expiration = third_friday(today.year + (month - 1) // 12, (month - 1) % 12 + 1)
    bought, yesterday = core.now() - timedelta(days=20), core.now() - timedelta(days=1)
    for number in numbers:
        for ticker in rng.sample(tickers, min(options.positions, len(tickers))):
            price = prices[ticker]
            if rng.random() < 0.1:
                _option(core, rng, number, ticker, price, expiration, bought)
                continue
            quantity = rng.choice([10, 25, 50, 100, 200]) * (1 if rng.random() < 0.8 else -1)
            entry = (price * Decimal(rng.randint(95, 105)) / 100).quantize(Decimal('0.01'))
            add_position(core, number, ticker, Decimal(quantity), entry, created_at=bought)
            if rng.random() < 0.1:
                _human_stop(core, engine, rng, number, ticker, quantity, price, yesterday)


def _option(
    core: Core, rng: random.Random, number: str, ticker: str, price: Decimal, expiration: Any, bought: Any
) -> None:
    strike = max(Decimal(5), (price / 5).quantize(Decimal(1)) * 5)
    symbol = occ_symbol(ticker, expiration, rng.choice('CP'), strike)
    premium = max(Decimal('0.50'), (price * Decimal('0.04')).quantize(Decimal('0.05')))
    set_quote(core, symbol, bid=premium, ask=premium + Decimal('0.05'))
    add_position(core, number, symbol, Decimal(rng.choice([1, 2, 5])), premium, created_at=bought)


def _human_stop(
    core: Core, engine: Engine, rng: random.Random, number: str, ticker: str, quantity: int, price: Decimal, at: Any
) -> None:
    size = abs(quantity) if rng.random() < 0.6 else abs(quantity) // 2
    factor = Decimal('0.85') if quantity > 0 else Decimal('1.15')
    body = {
        'time-in-force': 'GTC',
        'order-type': 'Stop',
        'stop-trigger': str((price * factor).quantize(Decimal('0.01'))),
        'legs': [
            {
                'instrument-type': 'Equity',
                'symbol': ticker,
                'quantity': size,
                'action': 'Sell to Close' if quantity > 0 else 'Buy to Close',
            }
        ],
    }
    add_order(core, engine, number, body, kind='human', received_at=at)


def _universe(rng: random.Random, count: int) -> list[str]:
    letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
    seen: dict[str, None] = {}
    while len(seen) < count:
        seen.setdefault('Y' + ''.join(rng.choice(letters) for _ in range(rng.choice([2, 3]))), None)
    return list(seen)
