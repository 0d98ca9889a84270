"""The ``expiration`` scenario: four coming Fridays, each settling one way at its close.

One account (``5WT00001``, Margin, cash 250,000). ``F1`` is the first Friday whose 16:00 New York close is still
ahead, ``F2``..``F4`` the three after it. The underlying quotes make every outcome happen without moving a
market (documented in ``docs/paper-broker.md``):

=====  ==============================================  =================================  ===========================
Friday position                                          orders                             at the close
=====  ==============================================  =================================  ===========================
F1     AAPL 210 call, long 2 @ 1.50 (AAPL 190.22)       tastyguard Stop STC 2 @ 0.25       expires worthless
F2     SPY 570 put, short 3 @ 4.10 (SPY 565.01)         tastyguard Stop BTC 3 @ 8.20       assigned: +300 SPY @ 570
F3     NVDA 120 call, long 1 @ 6.00 (NVDA 135.52)       person's Limit STC 1 @ 25.00       exercised: +100 NVDA @ 120
F4     KO 62.5/60 put spread: short 2 62.5P @ 1.40,     person's spread Limit BTC/STC      short leg assigned: +200 KO
       long 2 60P @ 0.40 (KO 61.51)                     2 @ 0.50 Debit                     @ 62.50; long leg worthless
=====  ==============================================  =================================  ===========================
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from paperbroker.clock import NEW_YORK, SESSION_CLOSE
from paperbroker.core import Core
from paperbroker.engine import Engine
from paperbroker.instruments import occ_symbol
from paperbroker.seeding import add_account, add_order, add_position, set_quote

ACCOUNT = '5WT00001'

UNDERLYINGS = [  # symbol, bid, ask, last
    ('AAPL', '190.20', '190.24', '190.22'),
    ('SPY', '565.00', '565.02', '565.01'),
    ('NVDA', '135.50', '135.55', '135.52'),
    ('KO', '61.50', '61.52', '61.51'),
]


def fridays(now: datetime, count: int = 4) -> list[date]:
    """The next ``count`` Fridays whose 16:00 New York close is after ``now``."""
    local = now.astimezone(NEW_YORK)
    day = local.date()
    while day.weekday() != 4 or datetime.combine(day, SESSION_CLOSE, NEW_YORK) <= local:
        day += timedelta(days=1)
    return [day + timedelta(days=7 * week) for week in range(count)]


def expiration_symbols(now: datetime) -> dict[str, str]:
    """The scenario's option symbols by role (tests use this to find them)."""
    f1, f2, f3, f4 = fridays(now)
    return {
        'worthless_long': occ_symbol('AAPL', f1, 'C', Decimal(210)),
        'assigned_short_put': occ_symbol('SPY', f2, 'P', Decimal(570)),
        'exercised_long_call': occ_symbol('NVDA', f3, 'C', Decimal(120)),
        'spread_short_leg': occ_symbol('KO', f4, 'P', Decimal('62.5')),
        'spread_long_leg': occ_symbol('KO', f4, 'P', Decimal(60)),
    }


def _leg(symbol: str, quantity: int, action: str) -> dict[str, Any]:
    return {'instrument-type': 'Equity Option', 'symbol': symbol, 'quantity': quantity, 'action': action}


def build_expiration(core: Core, engine: Engine, user_id: str) -> None:
    """Seed the scenario (see the module docstring)."""
    now = core.now()
    add_account(core, ACCOUNT, user_id, cash=Decimal(250000), opened_at=now - timedelta(days=365))
    for symbol, bid, ask, last in UNDERLYINGS:
        set_quote(core, symbol, bid=bid, ask=ask, last=last)
    roles = expiration_symbols(now)
    options = [  # role, signed quantity, average open price, bid, ask
        ('worthless_long', 2, '1.50', '0.45', '0.50'),
        ('assigned_short_put', -3, '4.10', '6.20', '6.30'),
        ('exercised_long_call', 1, '6.00', '15.60', '15.80'),
        ('spread_short_leg', -2, '1.40', '1.25', '1.35'),
        ('spread_long_leg', 2, '0.40', '0.20', '0.25'),
    ]
    opened = now - timedelta(days=20)
    for role, quantity, price, bid, ask in options:
        set_quote(core, roles[role], bid=bid, ask=ask)
        add_position(core, ACCOUNT, roles[role], Decimal(quantity), Decimal(price), created_at=opened)
    yesterday = now - timedelta(days=1)
    stop: dict[str, Any] = {'time-in-force': 'GTC', 'order-type': 'Stop'}
    long_call, short_put = roles['worthless_long'], roles['assigned_short_put']
    seeded: list[tuple[str, dict[str, Any]]] = [
        ('tastyguard', {**stop, 'stop-trigger': '0.25', 'legs': [_leg(long_call, 2, 'Sell to Close')]}),
        ('tastyguard', {**stop, 'stop-trigger': '8.20', 'legs': [_leg(short_put, 3, 'Buy to Close')]}),
        (
            'human',
            {
                'time-in-force': 'GTC', 'order-type': 'Limit', 'price': '25.00', 'price-effect': 'Credit',
                'legs': [_leg(roles['exercised_long_call'], 1, 'Sell to Close')],
            },
        ),
        (
            'human',
            {
                'time-in-force': 'GTC', 'order-type': 'Limit', 'price': '0.50', 'price-effect': 'Debit',
                'legs': [
                    _leg(roles['spread_short_leg'], 2, 'Buy to Close'),
                    _leg(roles['spread_long_leg'], 2, 'Sell to Close'),
                ],
            },
        ),
    ]  # fmt: skip
    for kind, body in seeded:
        add_order(core, engine, ACCOUNT, body, kind=kind, received_at=yesterday)
