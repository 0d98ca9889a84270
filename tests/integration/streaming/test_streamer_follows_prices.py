"""The streamer follows live prices against the paper broker: trailing stops ratchet on DXLink quotes, the mark
survives a restart and is seeded from DXLink candles, a futures option's software stop acts once, an alert-only
spread's software stop alerts once, price alerts and stops through the market are announced."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from paperbroker.scenarios import FUTURE_OPTION
from paperbroker.server import PaperBroker
from tastyguard.jobs.invocation import JobName
from tests.integration.jobs.conftest import Harness, make_harness
from tests.integration.person import Person
from tests.integration.streaming.streamer_support import running_streamer

pytestmark = [pytest.mark.integration, pytest.mark.anyio, pytest.mark.paper_scenario('empty')]
A = '5WT00001'
TRAILING = {'basis': 'high_water', 'distance': '5%'}


def _world(broker: PaperBroker, **config: Any) -> tuple[Harness, Person]:
    harness = make_harness(broker, accounts=[{'account_number': A}], **config)
    return harness, Person(broker, harness.ctx.broker, A)  # type: ignore[arg-type]


@pytest.fixture
def trailing(paper_broker: PaperBroker, aws: None) -> Iterator[tuple[Harness, Person]]:
    harness, person = _world(paper_broker, policy=TRAILING)
    yield harness, person
    person.close()


def _ours(harness: Harness, symbol: str) -> list[dict[str, Any]]:
    return [
        o for o in harness.working(A)
        if o['legs'][0]['symbol'] == symbol and str(o.get('external-identifier') or '').startswith('tg-')
    ]  # fmt: skip


def _trigger(harness: Harness, symbol: str) -> Decimal | None:
    ours = _ours(harness, symbol)
    return Decimal(ours[0]['stop-trigger']) if len(ours) == 1 else None


def _texts(harness: Harness) -> list[str]:
    return [line for notice in harness.notifier.sent for section in notice.sections for line in section.lines] + [
        notice.title for notice in harness.notifier.sent
    ]


def _protect(harness: Harness, symbol: str, quantity: int, entry: str, bid: str, ask: str) -> None:
    harness.broker.admin.add_position(A, symbol, quantity, entry, bid=bid, ask=ask, last=bid)
    harness.run(JobName.ENSURE_STOPS)


async def test_a_rising_market_ratchets_the_stop_and_a_drop_triggers_it(trailing: tuple[Harness, Person]) -> None:
    harness, _ = trailing
    admin = harness.broker.admin
    _protect(harness, 'AAPL', 100, '100.00', '100.00', '100.05')
    assert _trigger(harness, 'AAPL') == Decimal('95')
    async with running_streamer(harness.ctx, harness.broker, [A], catch_up=False) as running:
        for bid in ('103.00', '106.00', '110.00'):
            admin.set_quote('AAPL', bid=bid, ask=str(Decimal(bid) + Decimal('0.05')), last=bid)
        await running.settle(lambda: _trigger(harness, 'AAPL') == Decimal('104.5'))  # 5% under the best bid 110
        # a crossed book never moves it, nor does a lower bid
        follower = running.streamer.follower
        assert follower is not None
        seen = follower.stats.ticks
        admin.set_quote('AAPL', bid='130.00', ask='120.00', last='125.00')
        admin.set_quote('AAPL', bid='108.00', ask='108.05', last='108.00')
        await running.settle(lambda: follower.stats.ticks >= seen + 2)
        assert _trigger(harness, 'AAPL') == Decimal('104.5')
        # the drop: the broker triggers our stop and the position closes; nothing opens a new one
        admin.set_quote('AAPL', bid='104.00', ask='104.05', last='104.00')
        await running.settle(lambda: not any(p['symbol'] == 'AAPL' for p in admin.positions(A)))
        await running.settle(lambda: True)
        assert _ours(harness, 'AAPL') == []
    stored = harness.ctx.stores.high_water.get(A, 'AAPL')
    assert stored is None or stored.price == Decimal('110')
    assert not any(p['symbol'] == 'AAPL' for p in admin.positions(A))
    harness.run(JobName.RECONCILE_ORDERS)
    filled = [t for t in _texts(harness) if 'AAPL' in t and 'fill' in t.lower()]
    assert filled and any('104.5' in t for t in filled), _texts(harness)


async def test_a_restart_mid_trail_continues_from_the_stored_mark(trailing: tuple[Harness, Person]) -> None:
    harness, _ = trailing
    admin = harness.broker.admin
    _protect(harness, 'MSFT', 10, '400.00', '400.00', '400.10')
    async with running_streamer(harness.ctx, harness.broker, [A], catch_up=False) as running:
        admin.set_quote('MSFT', bid='440.00', ask='440.10', last='440.00')
        await running.settle(lambda: _trigger(harness, 'MSFT') == Decimal('418'))
        await running.settle(lambda: (m := harness.ctx.stores.high_water.get(A, 'MSFT')) is not None and m.price == 440)
    admin.set_quote('MSFT', bid='430.00', ask='430.10', last='430.00')  # while no streamer runs
    async with running_streamer(harness.ctx, harness.broker, [A], catch_up=False) as running:
        admin.set_quote('MSFT', bid='435.00', ask='435.10', last='435.00')  # below the stored mark: no move
        follower = running.streamer.follower
        assert follower is not None
        await running.settle(lambda: follower.stats.ticks >= 1)
        assert _trigger(harness, 'MSFT') == Decimal('418')
        admin.set_quote('MSFT', bid='460.00', ask='460.10', last='460.00')
        await running.settle(lambda: _trigger(harness, 'MSFT') == Decimal('437'))


async def test_a_position_held_before_the_streamer_gets_its_mark_from_candles(
    trailing: tuple[Harness, Person],
) -> None:
    """The paper broker's DXLink serves Candle history built from its quote path: the high the position saw
    while nobody watched becomes its mark, and the first live quote ratchets the stop to it."""
    harness, _ = trailing
    admin = harness.broker.admin
    admin.add_position(A, 'NVDA', 50, '100.00', bid='100.00', ask='100.05', last='100.00')
    admin.advance_clock(61)  # the next minute's candle: only candles from after the open count
    admin.set_quote('NVDA', bid='120.00', ask='120.05', last='120.00')  # the high while nobody watched
    admin.set_quote('NVDA', bid='116.00', ask='116.05', last='116.00')
    harness.run(JobName.ENSURE_STOPS)  # a scheduled run sees only 116 (no history): stop 5% under it
    assert _trigger(harness, 'NVDA') == Decimal('110.2')
    async with running_streamer(harness.ctx, harness.broker, [A], catch_up=False) as running:
        admin.set_quote('NVDA', bid='116.50', ask='116.55', last='116.50')
        await running.settle(lambda: _trigger(harness, 'NVDA') == Decimal('114'))  # 5% under the candle high 120
        follower = running.streamer.follower
        assert follower is not None and follower.stats.seeds >= 1


@pytest.mark.parametrize('on_trigger', ['alert', 'close_limit'])
async def test_a_futures_option_software_stop_acts_once(paper_broker: PaperBroker, aws: None, on_trigger: str) -> None:
    harness, person = _world(
        paper_broker,
        policy={'instrument_types': {'future_option': {'on_software_trigger': on_trigger, 'software_collar': '5%'}}},
    )
    admin = harness.broker.admin
    admin.add_position(A, FUTURE_OPTION, -1, '45.00', bid='40.00', ask='41.00', last='40.50')
    admin.set_fill_behavior('never')  # our closing limit rests, so the position stays to be crossed again
    try:
        async with running_streamer(harness.ctx, harness.broker, [A], catch_up=False) as running:
            follower = running.streamer.follower
            assert follower is not None
            # short premium 45 (credit_multiple 2): the level is 90.00; the ask crosses it, several times
            for ask in ('91.00', '92.00', '93.00', '91.50'):
                admin.set_quote(FUTURE_OPTION, bid=str(Decimal(ask) - 1), ask=ask, last=ask)
            await running.settle(lambda: any('software stop' in t for t in _texts(harness)), timeout=15)
            seen = follower.stats.ticks
            # the socket drops and comes back: the same crossing is not acted on twice
            for connection in list(harness.broker.broker.connections):
                connection.close_for_reset()
            admin.set_quote(FUTURE_OPTION, bid='93.00', ask='94.00', last='94.00')
            await running.settle(lambda: follower.stats.ticks > seen, timeout=20)
            await running.settle(lambda: follower.stats.rebuilds >= 2)
        closing = [o for o in harness.working(A) if o['legs'][0]['symbol'] == FUTURE_OPTION]
        sent = [r for r in harness.broker.admin.requests() if r['method'] == 'POST' and r['path'].endswith('/orders')]
        if on_trigger == 'alert':
            assert closing == [] and sent == []
        else:
            assert len(sent) == 1, sent
            (order,) = closing  # working: never Rejected at the venue
            assert order['status'] == 'Live', order
            assert order['order-type'] == 'Limit' and order['legs'][0]['action'] == 'Buy to Close'
            assert str(order['external-identifier']).startswith('tg-')
            price = Decimal(order['price'])
            assert Decimal('91.00') <= price <= Decimal('93.00') * Decimal('1.05') + Decimal('0.25')  # the collar
            assert price % Decimal('0.25') == 0, f'{price} is off the ES option tick table (0.25 from 20 to 100)'
        software = [t for t in _texts(harness) if 'software stop' in t]
        assert software, _texts(harness)
    finally:
        person.close()


async def test_price_alerts_and_a_stop_through_the_market_are_announced_once(
    paper_broker: PaperBroker, aws: None
) -> None:
    harness, person = _world(paper_broker, policy={'price_alerts': ['+10%', '-5%']})
    admin = harness.broker.admin
    _protect(harness, 'KO', 100, '60.00', '60.00', '60.02')
    try:
        async with running_streamer(harness.ctx, harness.broker, [A], catch_up=False) as running:
            admin.set_quote('KO', bid='66.50', ask='66.52', last='66.50')
            await running.settle(lambda: any('+10%' in t for t in _texts(harness)))
            admin.set_quote('KO', bid='67.00', ask='67.02', last='67.00')
            admin.set_market_open(False)  # our stop (54.00) cannot fill while the market is closed
            admin.set_quote('KO', bid='53.00', ask='53.02', last='53.00')
            await running.settle(lambda: any('-5%' in t for t in _texts(harness)))
            await running.settle(lambda: any('through' in t.lower() for t in _texts(harness)), timeout=15)
        texts = _texts(harness)
        assert sum('+10%' in t for t in texts if 'crossed' in t) >= 1
        assert len([n for n in harness.notifier.sent if '+10%' in n.title]) == 1
    finally:
        person.close()


async def test_an_alert_only_spread_software_stop_alerts_once_and_sends_nothing(
    paper_broker: PaperBroker, aws: None
) -> None:
    harness, person = _world(paper_broker)
    admin = harness.broker.admin
    long_call, short_call = 'SPY   270115C00500000', 'SPY   270115C00510000'
    # a call vertical opened for 10.00 - 6.00 = 4.00 debit: the built-in spread policy's level is a 2.00 credit
    admin.add_position(A, long_call, 1, '10.00', bid='9.00', ask='9.20', last='9.10')
    admin.add_position(A, short_call, -1, '6.00', bid='5.40', ask='5.60', last='5.50')
    title = 'SPY: structure software stop reached'
    try:
        async with running_streamer(harness.ctx, harness.broker, [A], catch_up=False) as running:
            follower = running.streamer.follower
            assert follower is not None
            await running.settle(lambda: bool(follower.structures.get(A)))
            (watched,) = follower.structures[A]
            assert watched.shape.level == Decimal('2.00')
            admin.set_quote(short_call, bid='4.00', ask='4.20', last='4.10')  # 9.00 - 4.20 = 4.80
            admin.set_quote(long_call, bid='7.00', ask='7.20', last='7.10')  # 7.00 - 4.20 = 2.80: still above
            await running.settle(lambda: follower.stats.ticks >= 2)
            await running.sink.drain()
            assert not any(n.title == title for n in harness.notifier.sent)
            for bid in ('5.90', '5.80', '5.60'):  # the natural credit (bid - 4.20) falls through 2.00, again and again
                admin.set_quote(long_call, bid=bid, ask=str(Decimal(bid) + Decimal('0.20')), last=bid)
            await running.settle(lambda: any(n.title == title for n in harness.notifier.sent), timeout=15)
            seen = follower.stats.ticks
            for connection in list(harness.broker.broker.connections):
                connection.close_for_reset()  # the sockets drop and come back: the same crossing is not re-announced
            admin.set_quote(long_call, bid='5.50', ask='5.70', last='5.50')
            await running.settle(lambda: follower.stats.ticks > seen, timeout=20)
            rebuilds = follower.stats.rebuilds
            follower.rebuild_soon(A)  # a re-read of the account keeps what the old watch already fired
            await running.settle(lambda: follower.stats.rebuilds > rebuilds)
            seen = follower.stats.ticks
            admin.set_quote(long_call, bid='5.40', ask='5.60', last='5.40')
            await running.settle(lambda: follower.stats.ticks > seen)
        notices = [n for n in harness.notifier.sent if n.title == title]
        assert len(notices) == 1, [n.title for n in harness.notifier.sent]
        (line,) = [line for section in notices[0].sections for line in section.lines]
        assert '[critical]' in line and 'natural credit to close fell to' in line, line
        assert 'through its software stop at 2.00' in line and '50% below entry 4' in line, line
        assert any(f'fell to {price} per unit' in line for price in ('1.70', '1.60', '1.40')), line  # a real crossing
        sent = [r for r in harness.broker.admin.requests() if r['method'] in ('POST', 'PUT') and '/orders' in r['path']]
        assert sent == []  # alert-only: tastyguard never closes a structure by itself
    finally:
        person.close()
