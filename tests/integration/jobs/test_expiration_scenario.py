"""The ``expiration`` scenario end to end: four Fridays settle, tastyguard runs the next morning.

After each Friday's close the broker settles the expiring contract (worthless, assigned, exercised, a spread with
one leg in the money); tastyguard's next runs (sync, ensure, reconcile) must leave no order of its own on a gone
position, protect every delivered stock position on the right side and for its whole quantity, and name each event
in exactly one message.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from paperbroker.clock import NEW_YORK, SESSION_CLOSE
from paperbroker.scenario_expiration import expiration_symbols, fridays
from paperbroker.server import PaperBroker
from tastyguard.jobs.event_text import option_label
from tastyguard.jobs.invocation import JobName
from tastyguard.notify.notice import Notice
from tests.integration.jobs.conftest import Harness, broker_clock, make_harness

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.paper_scenario('expiration')]

ACCOUNT = '5WT00001'


@pytest.fixture
def world(paper_broker: PaperBroker, aws: None) -> Iterator[tuple[Harness, dict[str, str], list[datetime]]]:
    harness = make_harness(
        paper_broker, 'live', clock=broker_clock(paper_broker), accounts=[{'account_number': ACCOUNT}]
    )
    now = paper_broker.broker.clock.now()
    yield harness, expiration_symbols(now), [_close(day) for day in fridays(now)]


def _close(day: date) -> datetime:
    return datetime.combine(day, SESSION_CLOSE, NEW_YORK)


def _cycle(harness: Harness) -> None:
    for job in (JobName.SYNC_POSITIONS, JobName.ENSURE_STOPS, JobName.RECONCILE_ORDERS):
        harness.run(job, tick=harness.ctx.clock())


def _after_close(harness: Harness, close: datetime) -> None:
    """Past the Friday close, then to Monday's open (every run of the next morning sees the settled account)."""
    admin = harness.broker.admin
    now = harness.ctx.clock()
    admin.advance_clock((close - now).total_seconds() + 60)
    admin.next_session('open')


def _lines(notice: Notice) -> list[str]:
    return [notice.title, notice.summary, *(line for section in notice.sections for line in section.lines)]


def _mentions(notices: list[Notice], *needles: str) -> list[Notice]:
    return [n for n in notices if any(all(needle in line for needle in needles) for line in _lines(n))]


def _positions(harness: Harness) -> dict[str, Decimal]:
    signed = {}
    for p in harness.broker.admin.positions(ACCOUNT):
        size = Decimal(p['quantity'])
        signed[p['symbol']] = size if p['quantity-direction'] == 'Long' else -size
    return signed


def _our_working(harness: Harness) -> list[dict[str, Any]]:
    return [o for o in harness.working(ACCOUNT) if str(o.get('external-identifier', '')).startswith('tg-')]


def _bid(harness: Harness, symbol: str) -> Decimal:
    quotes = {q['symbol']: q for q in harness.broker.admin.state()['quotes']}
    return Decimal(quotes[symbol]['bid'])


def test_four_fridays_of_expirations_end_protected_with_each_event_told_once(
    world: tuple[Harness, dict[str, str], list[datetime]],
) -> None:
    harness, symbols, closes = world
    _cycle(harness)  # Monday before: the baseline snapshot and ledger

    for close in closes:
        _after_close(harness, close)
        _cycle(harness)
        _cycle(harness)  # a second morning round changes nothing and says nothing new
        held = _positions(harness)
        for order in _our_working(harness):
            assert order['legs'][0]['symbol'] in held, f'tastyguard order {order["id"]} on a gone position'

    held = _positions(harness)
    assert held == {'SPY': Decimal(300), 'NVDA': Decimal(100), 'KO': Decimal(200)}
    ours = {o['legs'][0]['symbol']: o for o in _our_working(harness)}
    for symbol, quantity in held.items():
        stop = ours[symbol]
        leg = stop['legs'][0]
        assert leg['action'] == 'Sell to Close' and Decimal(str(leg['remaining-quantity'])) == quantity
        assert stop['order-type'] == 'Stop' and Decimal(stop['stop-trigger']) < _bid(harness, symbol)
    # the policy (10% below entry) is measured from the delivery price, not from zero
    assert Decimal(ours['SPY']['stop-trigger']) == Decimal('513.00')
    assert Decimal(ours['NVDA']['stop-trigger']) == Decimal('108.00')
    assert Decimal(ours['KO']['stop-trigger']) == Decimal('56.25')

    notices = harness.notifier.sent
    label = {role: option_label(symbol, symbol.split()[0]) for role, symbol in symbols.items()}
    assert label['assigned_short_put'].startswith('SPY ') and label['assigned_short_put'].endswith(' 570 put')
    assert len(_mentions(notices, f'{label["worthless_long"]} (long 2) expired worthless')) == 1
    assert (
        len(_mentions(notices, f'{label["assigned_short_put"]} (short 3) was assigned: bought 300 SPY at 570.00')) == 1
    )
    assert (
        len(_mentions(notices, f'{label["exercised_long_call"]} (long 1) was exercised: bought 100 NVDA at 120.00'))
        == 1
    )
    assert len(_mentions(notices, f'{label["spread_short_leg"]} (short 2) was assigned: bought 200 KO at 62.50')) == 1
    assert len(_mentions(notices, f'{label["spread_long_leg"]} (long 2) expired worthless')) == 1
    assignment = _mentions(notices, label['assigned_short_put'], 'was assigned')[0]
    assert any('Sell to Close 300 Stop @ 513' in line and 'placed' in line for line in _lines(assignment))
    for symbol in symbols.values():  # no separate "order expired; re-protecting" surprise for ended contracts
        assert not _mentions(notices, 're-protecting', symbol)


def test_the_digest_lists_the_weeks_expirations_and_assignments_ahead_of_time(
    world: tuple[Harness, dict[str, str], list[datetime]],
) -> None:
    harness, symbols, closes = world
    _cycle(harness)
    _after_close(harness, closes[0])  # Monday: the AAPL call expired on Friday, the SPY put expires this Friday
    _cycle(harness)

    harness.run(JobName.DIGEST, tick=harness.ctx.clock())

    digest = next(n for n in harness.notifier.sent if n.kind == 'digest')
    week = next(s for s in digest.sections if s.title == 'Expirations and assignments this week')
    assert len(week.lines) == 2
    aapl, spy = (option_label(symbols[r], symbols[r].split()[0]) for r in ('worthless_long', 'assigned_short_put'))
    assert week.lines[0] == f'done: {aapl} (long 2) expired worthless'
    assert f'{spy} (short 3): in the money by 4.99 (SPY 565.01)' in week.lines[1]
    assert 'assignment likely: you would buy 300 SPY at 570.00 (171,000.00)' in week.lines[1]
    assert digest.severity == 'warning'
