"""The streamer hears an assignment first: its fast path protects the delivered shares and tells it once, right.

The first position message of an early assignment is the option's, so the first fast-path run is scoped to the
option. It recognises the event and announces it (decision 40), so it must also plan the stock the assignment
delivered (decisions 47, 58): a message saying "SPY: no position left" while 300 SPY are held would be the one
word the person gets about it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from paperbroker import expiration
from paperbroker.core import Core
from paperbroker.scenario_expiration import expiration_symbols
from paperbroker.server import PaperBroker
from tastyguard.jobs.invocation import JobName
from tests.integration.jobs.conftest import Harness, broker_clock, make_harness
from tests.integration.streaming.streamer_support import running_streamer

pytestmark = [pytest.mark.integration, pytest.mark.anyio, pytest.mark.paper_scenario('expiration')]
A = '5WT00001'


@pytest.fixture
def harness(paper_broker: PaperBroker, aws: None) -> Iterator[Harness]:
    yield make_harness(paper_broker, 'live', clock=broker_clock(paper_broker), accounts=[{'account_number': A}])


def _ours(harness: Harness) -> dict[str, dict[str, Any]]:
    return {
        o['legs'][0]['symbol']: o
        for o in harness.working(A)
        if str(o.get('external-identifier') or '').startswith('tg-')
    }


def _told(harness: Harness) -> list[str]:
    lines = [line for notice in harness.notifier.sent for section in notice.sections for line in section.lines]
    return [line for line in lines if 'was assigned' in line]


def _protected_put(harness: Harness) -> str:
    """The scenario's short SPY put under tastyguard's Buy to Close stop (a scheduled run placed it)."""
    put = expiration_symbols(harness.ctx.clock())['assigned_short_put']
    harness.run(JobName.ENSURE_STOPS, tick=harness.ctx.clock())
    assert put in _ours(harness)
    harness.notifier.sent.clear()
    return put


async def test_an_assignment_heard_by_the_streamer_is_told_once_with_the_stop_of_the_delivered_shares(
    harness: Harness,
) -> None:
    put = _protected_put(harness)
    async with running_streamer(harness.ctx, harness.broker, [A], catch_up=False) as running:
        # When the short put is assigned early (the broker streams the option at 0, then +300 SPY)
        harness.broker.admin.assign(A, put)
        # Then, with no scheduled run, the stop on the put is gone and the 300 SPY have a stop of their own
        await running.settle(lambda: put not in _ours(harness) and 'SPY' in _ours(harness), timeout=15)
    stop = _ours(harness)['SPY']['legs'][0]
    assert (stop['action'], Decimal(str(stop['quantity']))) == ('Sell to Close', 300)
    # And the one message about the assignment says so, not that the shares are gone
    (told,) = _told(harness)
    assert 'SPY: no position left' not in told, told
    assert 'bought 300 SPY' in told and 'Sell to Close 300 Stop' in told, told


async def test_shares_an_assignment_delivered_without_a_basis_get_a_stop_from_the_strike(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a broker that shows the delivered shares without an average open price
    settle_option = expiration.settle_option

    def without_basis(state: Any, position: Any, *args: Any, **kwargs: Any) -> Any:
        result = settle_option(state, position, *args, **kwargs)
        for delivery in result.deliveries:
            state.positions[(position.account_number, delivery.symbol)].average_open_price = Decimal(0)
        return result

    monkeypatch.setattr(expiration, 'settle_option', without_basis)
    put = _protected_put(harness)
    async with running_streamer(harness.ctx, harness.broker, [A], catch_up=False) as running:
        # When the put is assigned and the streamer's fast path handles both position messages
        harness.broker.admin.assign(A, put)
        await running.settle(lambda: put not in _ours(harness) and 'SPY' in _ours(harness), timeout=15)
        await asyncio.sleep(0.5)  # the SPY message's own run, after the event was announced
        await running.sink.drain()
    # Then the 300 SPY keep one stop measured from the strike (570), and nobody is told they have no entry price
    (stop,) = [o for o in harness.working(A) if o['legs'][0]['symbol'] == 'SPY']
    assert Decimal(str(stop['legs'][0]['quantity'])) == 300
    assert Decimal(stop['stop-trigger']) < 570
    lines = [line for notice in harness.notifier.sent for section in notice.sections for line in section.lines]
    assert not any('no entry price' in line for line in lines), lines
    (told,) = _told(harness)
    assert 'SPY: no position left' not in told and 'Sell to Close 300 Stop' in told, told


async def test_shares_an_assignment_delivered_get_a_stop_when_their_position_message_comes_late(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tastytrade's position messages can lag: here the delivered stock's comes a second after the option's."""
    put = _protected_put(harness)
    emit = Core.emit_position

    def stock_late(self: Core, position: Any) -> None:
        if position.instrument_type != 'Equity':
            emit(self, position)
            return
        data = dict(position.__dict__)
        asyncio.get_running_loop().call_later(1.0, lambda: emit(self, type(position)(**data)))

    async with running_streamer(harness.ctx, harness.broker, [A], catch_up=False) as running:
        monkeypatch.setattr(Core, 'emit_position', stock_late)
        # When the put is assigned
        harness.broker.admin.assign(A, put)
        # Then the 300 SPY get a stop from the streamer, and the late message changes nothing
        await running.settle(lambda: 'SPY' in _ours(harness), timeout=15)
        await asyncio.sleep(1.5)
        await running.sink.drain()
    (stop,) = [o for o in harness.working(A) if o['legs'][0]['symbol'] == 'SPY']
    assert Decimal(str(stop['legs'][0]['quantity'])) == 300
    assert len(_told(harness)) == 1
