"""Seeded worlds: ``demo`` (the documented realistic account), ``empty``, ``large`` and ``fleet`` (benchmarks),
and ``expiration`` (four Fridays of option expirations, :mod:`paperbroker.scenario_expiration`).

Other engineers' tests depend on ``demo`` exactly as documented in ``docs/paper-broker.md``: keep it stable.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from paperbroker.core import Core
from paperbroker.engine import Engine
from paperbroker.fleet import build_fleet
from paperbroker.instruments import occ_symbol, third_friday
from paperbroker.scenario_expiration import build_expiration
from paperbroker.seeding import add_account, add_order, add_position, add_user, set_quote

SCENARIOS = ('demo', 'empty', 'large', 'fleet', 'expiration')
USER_ID = 'U0000012345'
DEMO_ACCOUNT = '5WT00001'
DEMO_IRA = '5WT00002'
FUTURE_OPTION = './ESZ6 ESZ6  261218P5800'

# symbol, bid, ask, last
DEMO_QUOTES = [
    ('AAPL', '190.20', '190.24', '190.22'),
    ('MSFT', '425.10', '425.20', None),
    ('NVDA', '135.50', '135.55', None),
    ('TSLA', '242.00', '242.10', None),
    ('SPY', '575.00', '575.02', None),
    ('AMD', '130.00', '130.05', None),
    ('AAPL  261218C00200000', '7.10', '7.20', None),
    ('SPY   261218P00520000', '3.80', '3.90', None),
    ('/ESZ6', '6050.00', '6050.25', None),
    (FUTURE_OPTION, '40.00', '41.00', None),
    ('KO', '61.50', '61.52', None),
    ('INTC', '21.00', '21.02', None),
    ('F', '10.50', '10.51', None),
    ('VTI', '280.00', '280.05', None),
]
# account, symbol, signed quantity, average open price
DEMO_POSITIONS = [
    (DEMO_ACCOUNT, 'AAPL', 100, '178.50'),
    (DEMO_ACCOUNT, 'MSFT', 50, '410.00'),
    (DEMO_ACCOUNT, 'NVDA', 200, '120.00'),
    (DEMO_ACCOUNT, 'TSLA', -30, '250.00'),
    (DEMO_ACCOUNT, 'SPY', 20, '560.00'),
    (DEMO_ACCOUNT, 'AMD', 100, '160.00'),
    (DEMO_ACCOUNT, 'AAPL  261218C00200000', 2, '6.40'),
    (DEMO_ACCOUNT, 'SPY   261218P00520000', -3, '4.10'),
    (DEMO_ACCOUNT, '/ESZ6', 1, '6000.00'),
    (DEMO_ACCOUNT, FUTURE_OPTION, -1, '45.00'),
    (DEMO_ACCOUNT, 'KO', 300, '60.00'),
    (DEMO_IRA, 'VTI', 40, '250.00'),
]


def _stop(symbol: str, quantity: int, trigger: str, **extra: Any) -> dict[str, Any]:
    return {
        'time-in-force': 'GTC',
        'order-type': 'Stop',
        'stop-trigger': trigger,
        'legs': [{'instrument-type': 'Equity', 'symbol': symbol, 'quantity': quantity, 'action': 'Sell to Close'}],
        **extra,
    }


# order id (assigned in this order from 100001), kind, body
DEMO_ORDERS: list[tuple[str, dict[str, Any]]] = [
    ('human', _stop('MSFT', 50, '395.00')),  # 100001: fully covers MSFT
    ('human', _stop('NVDA', 100, '118.00')),  # 100002: half of NVDA
    ('tastyguard', _stop('SPY', 20, '504.00', **{'external-identifier': 'tg-demo-spy-1'})),  # 100003
    ('tastyguard', _stop('SPY', 20, '504.00', **{'external-identifier': 'tg-demo-spy-2'})),  # 100004: duplicate
    ('tastyguard', _stop('INTC', 100, '19.00', **{'external-identifier': 'tg-demo-intc-1'})),  # 100005: stale
    (
        'human',
        {
            'time-in-force': 'GTC',
            'order-type': 'Limit',
            'price': '9.00',
            'price-effect': 'Debit',
            'legs': [{'instrument-type': 'Equity', 'symbol': 'F', 'quantity': 100, 'action': 'Buy to Open'}],
        },
    ),  # 100006: entry order
]


def build(name: str, core: Core, engine: Engine, **options: Any) -> list[str]:
    """Seed a scenario into an empty state; returns the seeded user's account numbers."""
    add_user(core, USER_ID, 'paper-trader', 'Paper', 'Trader')
    core.user_id = USER_ID
    if name == 'demo':
        _demo(core, engine)
    elif name == 'empty':
        cash = Decimal(str(options.get('cash', 100000)))
        add_account(core, DEMO_ACCOUNT, USER_ID, cash=cash, opened_at=core.now() - timedelta(days=365))
    elif name == 'large':
        _large(core, engine, **options)
    elif name == 'expiration':
        build_expiration(core, engine, USER_ID)
    elif name == 'fleet':
        build_fleet(core, engine, USER_ID, **options)
    else:
        raise ValueError(f'unknown scenario {name!r}; use one of {", ".join(SCENARIOS)}')
    return [a.number for a in core.state.user_accounts(USER_ID)]


def _demo(core: Core, engine: Engine) -> None:
    opened = core.now() - timedelta(days=365)
    add_account(core, DEMO_ACCOUNT, USER_ID, cash=Decimal(250000), opened_at=opened)
    add_account(
        core,
        DEMO_IRA,
        USER_ID,
        nickname='Roth IRA',
        type_name='Roth IRA',
        margin_or_cash='Cash',
        cash=Decimal(20000),
        opened_at=opened,
    )
    for symbol, bid, ask, last in DEMO_QUOTES:
        set_quote(core, symbol, bid=bid, ask=ask, last=last)
    bought = core.now() - timedelta(days=30)
    for number, symbol, quantity, price in DEMO_POSITIONS:
        add_position(core, number, symbol, Decimal(quantity), Decimal(price), created_at=bought)
    yesterday = core.now() - timedelta(days=1)
    for kind, body in DEMO_ORDERS:
        add_order(core, engine, DEMO_ACCOUNT, body, kind=kind, received_at=yesterday)


def _large(
    core: Core, engine: Engine, *, positions: int = 500, orders: int = 300, accounts: int = 1, seed: int = 7, **_: Any
) -> None:
    """Synthetic equities and options with quotes, and a mix of human stops, human limits and tastyguard stops."""
    rng = random.Random(seed)
    opened = core.now() - timedelta(days=365)
    numbers = [f'5WT{i:05d}' for i in range(1, max(accounts, 1) + 1)]
    for number in numbers:
        add_account(core, number, USER_ID, cash=Decimal(1_000_000), opened_at=opened)
    today = core.clock.today()
    month = today.month + 2
    expiration = third_friday(today.year + (month - 1) // 12, (month - 1) % 12 + 1)
    tickers = _tickers(rng, max(positions, 1))
    held: list[tuple[str, str, int, Decimal]] = []  # account, symbol, signed qty, price (equities only)
    bought = core.now() - timedelta(days=20)
    for index in range(positions):
        number = numbers[index % len(numbers)]
        price = Decimal(rng.randint(1000, 50000)) / 100
        underlying = tickers[index]
        set_quote(core, underlying, bid=price, ask=price + Decimal('0.02'))
        if rng.random() < 0.75:
            quantity = rng.choice([10, 25, 50, 100, 150, 200, 500]) * (1 if rng.random() < 0.8 else -1)
            add_position(
                core,
                number,
                underlying,
                Decimal(quantity),
                (price * Decimal('0.95')).quantize(Decimal('0.01')),
                created_at=bought,
            )
            held.append((number, underlying, quantity, price))
        else:
            strike = max(Decimal(5), (price / 5).quantize(Decimal(1)) * 5)
            symbol = occ_symbol(underlying, expiration, rng.choice('CP'), strike)
            premium = max(Decimal('0.05'), (price * Decimal('0.04')).quantize(Decimal('0.05')))
            set_quote(core, symbol, bid=premium, ask=premium + Decimal('0.05'))
            add_position(
                core,
                number,
                symbol,
                Decimal(rng.choice([1, 2, 3, 5, 10]) * (1 if rng.random() < 0.6 else -1)),
                premium,
                created_at=bought,
            )
    yesterday = core.now() - timedelta(days=1)
    for index in range(orders if held else 0):
        number, symbol, quantity, price = held[index % len(held)]
        long = quantity > 0
        roll = rng.random()
        side = 'Sell to Close' if long else 'Buy to Close'
        size = abs(quantity) if rng.random() < 0.7 else max(1, abs(quantity) // 2)
        leg = {'instrument-type': 'Equity', 'symbol': symbol, 'quantity': size, 'action': side}
        if roll < 0.75:
            factor = Decimal(rng.randint(80, 95)) / 100 if long else Decimal(rng.randint(105, 120)) / 100
            body: dict[str, Any] = {
                'time-in-force': 'GTC',
                'order-type': 'Stop',
                'stop-trigger': str((price * factor).quantize(Decimal('0.01'))),
                'legs': [leg],
            }
            kind = 'tastyguard' if roll < 0.3 else 'human'
            if kind == 'tastyguard':
                body['external-identifier'] = f'tg-large-{index:05d}'
        else:
            buy_price = (price * Decimal('0.9')).quantize(Decimal('0.01'))
            leg = {'instrument-type': 'Equity', 'symbol': symbol, 'quantity': 100, 'action': 'Buy to Open'}
            body = {
                'time-in-force': 'GTC',
                'order-type': 'Limit',
                'price': str(buy_price),
                'price-effect': 'Debit',
                'legs': [leg],
            }
            kind = 'human'
        add_order(core, engine, number, body, kind=kind, received_at=yesterday)


def _tickers(rng: random.Random, count: int) -> list[str]:
    letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
    seen: set[str] = set()
    result: list[str] = []
    while len(result) < count:
        ticker = 'X' + ''.join(rng.choice(letters) for _ in range(rng.choice([2, 3])))
        if ticker not in seen:
            seen.add(ticker)
            result.append(ticker)
    return result
