"""The streamer against the paper broker: a fill is protected through the fast path, with no scheduled run."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from paperbroker.server import PaperBroker
from tests.integration.jobs.conftest import Harness, make_harness
from tests.integration.person import Person
from tests.integration.streaming.streamer_support import running_streamer

pytestmark = [pytest.mark.integration, pytest.mark.anyio, pytest.mark.paper_scenario('empty')]
A = '5WT00001'


@pytest.fixture
def world(paper_broker: PaperBroker, aws: None) -> Iterator[tuple[Harness, Person]]:
    harness = make_harness(paper_broker, accounts=[{'account_number': A}])
    person = Person(paper_broker, harness.ctx.broker, A)  # type: ignore[arg-type]
    yield harness, person
    person.close()


def _ours(harness: Harness, symbol: str) -> list[dict[str, Any]]:
    return [
        o for o in harness.working(A)
        if o['legs'][0]['symbol'] == symbol and str(o.get('external-identifier') or '').startswith('tg-')
    ]  # fmt: skip


async def test_a_fill_gets_its_stop_through_the_fast_path(world: tuple[Harness, Person]) -> None:
    harness, person = world
    harness.broker.admin.set_quote('NVDA', bid='120.00', ask='120.05', last='120.00')
    async with running_streamer(harness.ctx, harness.broker, [A], catch_up=False) as running:
        # When the person buys 100 NVDA in their own app
        person.trade('NVDA', 100, 'Buy to Open')
        # Then, with no scheduled run, tastyguard's stop for 100 appears at the broker
        await running.settle(lambda: bool(_ours(harness, 'NVDA')))
        [stop] = _ours(harness, 'NVDA')
        assert stop['legs'][0]['action'] == 'Sell to Close' and Decimal(stop['legs'][0]['quantity']) == 100
        assert running.sink.stats.published >= 1
        assert running.sink.stats.latencies_ms


async def test_the_ready_line_names_the_accounts_and_the_watched_symbols(world: tuple[Harness, Person]) -> None:
    harness, _ = world
    harness.broker.admin.add_position(A, 'AAPL', 10, '150.00', bid='150.00', ask='150.05')
    async with running_streamer(harness.ctx, harness.broker, [A], catch_up=False) as running:
        assert running.ready_info == {'accounts': [A], 'symbols': 1}


async def test_the_dxlink_subscription_follows_the_positions(world: tuple[Harness, Person]) -> None:
    harness, person = world
    harness.broker.admin.add_position(A, 'AAPL', 10, '150.00', bid='150.00', ask='150.05')
    harness.broker.admin.set_quote('MSFT', bid='400.00', ask='400.10', last='400.00')
    async with running_streamer(harness.ctx, harness.broker, [A], catch_up=False) as running:
        assert set(running.streamer.symbols) == {'AAPL'}
        person.trade('MSFT', 5, 'Buy to Open')
        await running.settle(lambda: set(running.streamer.symbols) == {'AAPL', 'MSFT'})
        person.trade('AAPL', 10, 'Sell to Close')
        await running.settle(lambda: set(running.streamer.symbols) == {'MSFT'})
        assert set(running.streamer.feed.subscriptions[next(iter(running.streamer.feed.subscriptions))]) == {'MSFT'}


async def test_live_quotes_reach_the_state_table(world: tuple[Harness, Person]) -> None:
    harness, _ = world
    harness.broker.admin.add_position(A, 'AAPL', 10, '150.00', bid='150.00', ask='150.05')
    async with running_streamer(harness.ctx, harness.broker, [A], catch_up=False) as running:
        harness.broker.admin.set_quote('AAPL', bid='151.00', ask='151.05', last='151.00')
        store = harness.ctx.stores.quotes
        await running.settle(lambda: (q := store.get_many(['AAPL']).get('AAPL')) is not None and q.bid == 151)


async def test_the_report_says_since_when_the_accounts_are_held_and_what_happened_on_them(
    world: tuple[Harness, Person],
) -> None:
    harness, person = world
    harness.broker.admin.set_quote('NVDA', bid='120.00', ask='120.05', last='120.00')
    async with running_streamer(harness.ctx, harness.broker, [A], catch_up=False) as running:
        streamer = running.streamer
        report = streamer.report()
        # Then, once connected, the account is held since the connection and nothing happened on it yet
        assert streamer.held_since is not None and report.held == {A: streamer.held_since}
        assert report.activity == {}
        # When the person trades, the account's activity is the moment the notification arrived
        person.trade('NVDA', 10, 'Buy to Open')
        await running.settle(lambda: A in streamer.report().activity)
        assert streamer.report().activity[A] >= streamer.held_since
        # And a dropped account socket holds nothing until it is connected again, then from the new connection
        first = streamer.held_since
        before = streamer.account.stats.connections
        harness.broker.admin.fault('streamer_drop')
        await running.settle(lambda: streamer.account.stats.connections > before, timeout=15, drain=False)
        await running.settle(lambda: streamer.held_since is not None, drain=False)
        assert streamer.held_since > first


async def test_a_position_a_positions_read_shows_before_its_own_message_gets_its_stop(
    world: tuple[Harness, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The positions read after one position message can show another change whose own message lags."""
    import asyncio

    from paperbroker.core import Core

    harness, _ = world
    admin = harness.broker.admin
    admin.set_quote('MSFT', bid='400.00', ask='400.10', last='400.00')
    admin.set_quote('AAPL', bid='190.20', ask='190.24', last='190.22')
    emit = Core.emit_position

    def msft_late(self: Core, position: Any) -> None:
        if position.symbol != 'MSFT':
            emit(self, position)
            return
        data = dict(position.__dict__)
        asyncio.get_running_loop().call_later(1.0, lambda: emit(self, type(position)(**data)))

    async with running_streamer(harness.ctx, harness.broker, [A], catch_up=False) as running:
        monkeypatch.setattr(Core, 'emit_position', msft_late)
        # When 20 MSFT arrive without an order (a transfer) and their message lags, then 10 AAPL arrive too
        admin.add_position(A, 'MSFT', 20, '400.00')
        admin.add_position(A, 'AAPL', 10, '190.00')
        # Then the streamer protects MSFT from the positions read that AAPL's message made it take
        await running.settle(lambda: bool(_ours(harness, 'MSFT')) and bool(_ours(harness, 'AAPL')), timeout=5)
        # And MSFT's late message is the duplicate: one event for each change, one stop each
        await running.settle(lambda: running.streamer.tracker.duplicates >= 1, timeout=5)
        assert running.streamer.stats.events == 2
    assert [Decimal(o['legs'][0]['quantity']) for o in _ours(harness, 'MSFT')] == [20]


async def test_a_position_whose_covering_order_a_person_cancels_gets_its_stop_through_the_fast_path(
    world: tuple[Harness, Person],
) -> None:
    harness, person = world
    # Given 100 AAPL covered by the person's own stop (tastyguard leaves a covered position alone)
    harness.broker.admin.add_position(A, 'AAPL', 100, '190.00', bid='190.20', ask='190.24', last='190.22')
    theirs = person.stop('AAPL', 100, '170.00')
    async with running_streamer(harness.ctx, harness.broker, [A], catch_up=False) as running:
        # When the person cancels that stop in their own app (no fill, no position change)
        person.cancel(theirs['id'])
        # Then, with no scheduled run, tastyguard's stop for the 100 appears at the broker
        await running.settle(lambda: bool(_ours(harness, 'AAPL')))
        [stop] = _ours(harness, 'AAPL')
        assert stop['legs'][0]['action'] == 'Sell to Close' and Decimal(stop['legs'][0]['quantity']) == 100
