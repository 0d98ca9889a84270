"""Our DXLink client against the paper broker: quotes, symbol-set changes, candles, every kind of disconnect,
an expired quote token, a revoked grant, and a subscription too big for one message."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from paperbroker.server import PaperBroker
from tastyguard.broker import ReauthorizationRequired, TastytradeClient
from tastyguard.streaming import ManualClock
from tastyguard.streaming.dxlink import (
    Candle,
    CandlePeriod,
    CandleSubscription,
    DisconnectReason,
    DXLinkFeed,
    EventType,
    FeedStatus,
    Greeks,
    Quote,
    Trade,
    from_broker,
)
from tests.integration.streaming.conftest import FeedFactory
from tests.integration.streaming.support import Recorder, eventually

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
OPTION = '.AAPL261218C200'


async def _admin(call: object, *args: object, **kwargs: object) -> object:
    """Paper-broker admin calls are synchronous HTTP: run them off the event loop."""
    assert callable(call)
    return await asyncio.to_thread(call, *args, **kwargs)


def _requests(paper_broker: PaperBroker, method: str, path: str) -> int:
    return sum(1 for r in paper_broker.admin.requests() if r['method'] == method and r['path'] == path)


async def test_quotes_arrive_as_decimals_and_follow_the_market(
    running_feed: FeedFactory, recorder: Recorder, paper_tokens: object, paper_broker: PaperBroker
) -> None:
    async with running_feed(paper_tokens) as feed:
        await feed.set_symbols(['AAPL', '/ESZ26:XCME'])
        await recorder.until(lambda: len(recorder.of(Quote)) == 2)

        await _admin(paper_broker.admin.set_quote, 'AAPL', bid='191.00', ask='191.05')
        await recorder.until(lambda: len(recorder.of(Quote, 'AAPL')) == 2)

    snapshot, update = recorder.of(Quote, 'AAPL')
    assert (snapshot.bid_price, snapshot.ask_price) == (Decimal('190.2'), Decimal('190.24'))
    assert (update.bid_price, update.ask_price) == (Decimal('191.0'), Decimal('191.05'))
    assert recorder.of(Quote, '/ESZ26:XCME')[0].bid_price == Decimal('6050.0')
    assert feed.stats.unannounced_rows == 0 and feed.stats.malformed_rows == 0


async def test_a_missing_bid_is_none(
    running_feed: FeedFactory, recorder: Recorder, paper_tokens: object, paper_broker: PaperBroker
) -> None:
    await _admin(paper_broker.admin.set_quotes, [{'symbol': 'XYZ', 'ask': '12.30'}])  # nobody bids

    async with running_feed(paper_tokens) as feed:
        await feed.set_symbols(['XYZ'])
        await recorder.until(lambda: len(recorder.of(Quote)) == 1)

    (quote,) = recorder.of(Quote)
    assert quote.bid_price is None
    assert quote.ask_price == Decimal('12.3')
    assert quote.mid is None


async def test_the_symbol_set_follows_changes_while_connected(
    running_feed: FeedFactory, recorder: Recorder, paper_tokens: object, paper_broker: PaperBroker
) -> None:
    async with running_feed(paper_tokens) as feed:
        await feed.set_symbols(['AAPL', 'MSFT'])
        await recorder.until(lambda: len(recorder.of(Quote)) == 2)

        await feed.set_symbols(['MSFT', 'KO'])
        await recorder.until(lambda: len(recorder.of(Quote, 'KO')) == 1)
        await _admin(paper_broker.admin.set_quote, 'AAPL', bid='150.00', ask='150.05')
        await _admin(paper_broker.admin.set_quote, 'MSFT', bid='400.00', ask='400.05')
        await recorder.until(lambda: len(recorder.of(Quote, 'MSFT')) == 2)

    assert len(recorder.of(Quote, 'AAPL')) == 1  # unsubscribed before it moved
    assert recorder.of(Quote, 'MSFT')[1].bid_price == Decimal('400.0')
    assert recorder.connected() == 1


async def test_trades_and_greeks_on_their_own_channels(
    running_feed: FeedFactory, recorder: Recorder, paper_tokens: object
) -> None:
    async with running_feed(paper_tokens) as feed:
        await feed.set_symbols(['AAPL'], [EventType.TRADE])
        await feed.set_symbols([OPTION], [EventType.GREEKS])
        await recorder.until(lambda: bool(recorder.of(Trade)) and bool(recorder.of(Greeks)))

    (greeks,) = recorder.of(Greeks)
    assert greeks.price == Decimal('7.15')
    assert greeks.delta is not None and Decimal(0) < greeks.delta < Decimal(1)
    assert recorder.of(Trade)[0].price == Decimal('190.22')


async def test_candle_history_then_live_updates(
    running_feed: FeedFactory, recorder: Recorder, paper_tokens: object, paper_broker: PaperBroker
) -> None:
    now = await _admin(paper_broker.admin.clock)
    assert isinstance(now, dict)
    start = datetime.fromisoformat(now['now']) - timedelta(days=7)
    async with running_feed(paper_tokens) as feed:
        await feed.set_candles([CandleSubscription('AAPL', CandlePeriod.parse('1d'), start)])
        await recorder.until(lambda: any(c.snapshot_end for c in recorder.of(Candle)))
        history = list(recorder.of(Candle))

        await _admin(paper_broker.admin.set_quote, 'AAPL', bid='200.00', ask='200.00', last='200.00')
        await recorder.until(lambda: len(recorder.of(Candle)) == len(history) + 1)

    assert history[0].snapshot_begin and history[-1].snapshot_end
    assert [c.time for c in history] == sorted((c.time for c in history), reverse=True)
    assert all(c.symbol == 'AAPL{=1d}' for c in history)
    live = recorder.of(Candle)[-1]
    assert (live.time, live.close, live.event_flags) == (history[0].time, Decimal('200.0'), 0)
    assert live.high is not None and live.high >= Decimal('200.0')


@pytest.mark.parametrize(('fault', 'reason'), [('dxlink_1012', 'closed'), ('dxlink_drop', 'connection_lost')])
async def test_a_server_close_or_a_drop_reconnects_and_resubscribes(
    fault: str,
    reason: str,
    running_feed: FeedFactory,
    recorder: Recorder,
    paper_tokens: object,
    paper_broker: PaperBroker,
) -> None:
    async with running_feed(paper_tokens) as feed:
        await feed.set_symbols(['AAPL'])
        await recorder.until(lambda: recorder.connected() == 1)

        await _admin(paper_broker.admin.fault, fault)
        await recorder.until(lambda: recorder.connected() == 2)
        await _admin(paper_broker.admin.set_quote, 'AAPL', bid='177.00', ask='177.05')
        await recorder.until(lambda: any(q.bid_price == Decimal('177.0') for q in recorder.of(Quote)))

    assert recorder.reasons() == [reason]
    assert len(recorder.of(Quote)) == 3  # snapshot, snapshot again after the reconnect, the update


async def test_a_silent_socket_is_detected_and_replaced(
    running_feed: FeedFactory, recorder: Recorder, paper_tokens: object, paper_broker: PaperBroker
) -> None:
    clock = ManualClock()
    async with running_feed(paper_tokens, clock=clock) as feed:
        await feed.set_symbols(['AAPL'])
        await recorder.until(lambda: recorder.connected() == 1)

        await _admin(paper_broker.admin.fault, 'dxlink_silent')
        await _admin(paper_broker.admin.set_quote, 'AAPL', bid='180.00', ask='180.05')  # never delivered
        await clock.advance(59)
        assert recorder.connected() == 1 and not any(q.bid_price == Decimal('180.0') for q in recorder.of(Quote))
        await clock.advance(2)
        await recorder.until(lambda: recorder.connected() == 2)
        await recorder.until(lambda: recorder.of(Quote)[-1].bid_price == Decimal('180.0'))  # the new snapshot

    assert recorder.reasons() == ['silence']
    assert len(recorder.of(Quote)) == 2


async def test_an_expired_quote_token_is_replaced(
    running_feed: FeedFactory, recorder: Recorder, paper_tokens: object, paper_broker: PaperBroker
) -> None:
    async with running_feed(paper_tokens) as feed:
        await feed.set_symbols(['AAPL'])
        await recorder.until(lambda: recorder.connected() == 1)

        await _admin(paper_broker.admin.advance_clock, 24 * 3600 + 60)  # the token and the socket's keepalive lapse
        await recorder.until(lambda: recorder.connected() == 2, timeout=15)

    assert 'auth_rejected' in recorder.reasons()
    assert feed.stats.quote_tokens == 2


async def test_a_revoked_grant_trips_the_breaker_and_stops_the_feed(
    recorder: Recorder, broker_client: TastytradeClient, paper_broker: PaperBroker
) -> None:
    feed = DXLinkFeed(from_broker(broker_client), on_event=recorder.on_event, on_state=recorder.on_state)
    await feed.set_symbols(['AAPL'])
    task = asyncio.create_task(feed.run())
    await recorder.until(lambda: recorder.connected() == 1)
    refreshes = _requests(paper_broker, 'POST', '/oauth/token')

    await _admin(paper_broker.admin.fault, 'revoke_token', scope='grant')
    await _admin(paper_broker.admin.advance_clock, 24 * 3600 + 60)
    with pytest.raises(ReauthorizationRequired):
        await asyncio.wait_for(task, 15)

    assert recorder.states[-1].status is FeedStatus.STOPPED
    assert recorder.states[-1].reason is DisconnectReason.REAUTHORIZATION_REQUIRED
    assert _requests(paper_broker, 'POST', '/oauth/token') == refreshes + 1  # one refusal, no retry storm
    attempts = feed.stats.attempts
    await asyncio.sleep(0.3)
    assert feed.stats.attempts == attempts


async def test_thousands_of_symbols_are_chunked_under_the_servers_limit(
    running_feed: FeedFactory, recorder: Recorder, paper_tokens: object, paper_broker: PaperBroker
) -> None:
    symbols = [f'SYM{i:05d}' for i in range(3000)] + ['AAPL']
    async with running_feed(paper_tokens) as feed:
        await feed.set_symbols(symbols)
        await recorder.until(lambda: bool(recorder.of(Quote, 'AAPL')))
        await _admin(paper_broker.admin.set_quote, 'AAPL', bid='185.00', ask='185.05')
        await recorder.until(lambda: len(recorder.of(Quote, 'AAPL')) == 2)

    assert recorder.reasons() == []  # the paper broker closes a message over 64 KiB with 1009
    await eventually(lambda: feed.state.status is FeedStatus.STOPPED)
