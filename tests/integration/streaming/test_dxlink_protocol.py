"""Our DXLink client against a scripted server: handshake order, announced-field decoding, keepalive, silence,
chunking, diffs, closes, refused tokens, timeouts and the breaker."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tastyguard.broker import ReauthorizationRequired, ServerError
from tastyguard.streaming import ManualClock
from tastyguard.streaming.dxlink import (
    CandlePeriod,
    CandleSubscription,
    DisconnectReason,
    DXLinkFeed,
    EventType,
    FeedStatus,
    Quote,
)
from tests.integration.streaming.conftest import FeedFactory
from tests.integration.streaming.dxlink_script import Script, ScriptedDXLink
from tests.integration.streaming.support import Recorder, StaticTokens, eventually

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
QUOTE_CHANNEL = 1
REVERSED = ['askSize', 'bidSize', 'askPrice', 'bidPrice', 'eventSymbol', 'eventType']


def _quotes(server: ScriptedDXLink, *rows: list[object]) -> None:
    server.script.event_fields['Quote'] = REVERSED
    server.script.rows['Quote'] = {str(row[4]): row for row in rows}


async def test_the_handshake_goes_one_step_at_a_time(running_feed: FeedFactory, recorder: Recorder) -> None:
    async with ScriptedDXLink(Script(delay=0.05)) as server:
        tokens = StaticTokens(server.url)
        async with running_feed(tokens) as feed:
            await feed.set_symbols(['AAPL'])
            await recorder.until(lambda: recorder.connected() == 1)
            conn = server.latest()

    assert conn.order()[:10] == [
        'C:SETUP',
        'S:SETUP',
        'S:AUTH_STATE',
        'C:AUTH',
        'S:AUTH_STATE',
        'C:CHANNEL_REQUEST',
        'S:CHANNEL_OPENED',
        'C:FEED_SETUP',
        'S:FEED_CONFIG',
        'C:FEED_SUBSCRIPTION',
    ]
    assert conn.received('AUTH')[0]['token'] == 'scripted-quote-token-1'
    setup = conn.received('FEED_SETUP')[0]
    assert setup['acceptDataFormat'] == 'COMPACT'
    assert setup['acceptEventFields']['Quote'][:2] == ['eventType', 'eventSymbol']
    assert conn.received('FEED_SUBSCRIPTION')[0] == {
        'type': 'FEED_SUBSCRIPTION',
        'channel': QUOTE_CHANNEL,
        'reset': True,
        'add': [{'type': 'Quote', 'symbol': 'AAPL'}],
    }


async def test_rows_are_read_in_the_order_the_server_announced(running_feed: FeedFactory, recorder: Recorder) -> None:
    async with ScriptedDXLink() as server:
        _quotes(server, [300, 200, 190.24, 190.2, 'AAPL', 'Quote'])
        async with running_feed(StaticTokens(server.url)) as feed:
            await feed.set_symbols(['AAPL'])
            await recorder.until(lambda: bool(recorder.events))

    assert recorder.events == [Quote('AAPL', None, Decimal('190.2'), Decimal('190.24'), Decimal(200), Decimal(300))]


async def test_a_changed_announcement_mid_stream_is_followed(running_feed: FeedFactory, recorder: Recorder) -> None:
    async with ScriptedDXLink() as server:
        _quotes(server, [300, 200, 190.24, 190.2, 'AAPL', 'Quote'])
        async with running_feed(StaticTokens(server.url)) as feed:
            await feed.set_symbols(['AAPL'])
            await recorder.until(lambda: len(recorder.events) == 1)
            conn = server.latest()

            await server.config(conn, QUOTE_CHANNEL, {'Quote': ['eventSymbol', 'bidPrice', 'askPrice']})
            await server.data(conn, QUOTE_CHANNEL, 'Quote', ['AAPL', 191.0, 'NaN'])
            await recorder.until(lambda: len(recorder.events) == 2)

    assert recorder.events[1] == Quote('AAPL', bid_price=Decimal('191.0'))


async def test_rows_before_their_fields_are_announced_are_dropped(
    running_feed: FeedFactory, recorder: Recorder
) -> None:
    async with ScriptedDXLink() as server, running_feed(StaticTokens(server.url)) as feed:
        await feed.set_symbols(['AAPL'])
        await recorder.until(lambda: recorder.connected() == 1)
        conn = server.latest()

        await server.data(conn, QUOTE_CHANNEL, 'Quote', ['Quote', 'AAPL', 0, 1.0, 2.0])
        await server.config(conn, QUOTE_CHANNEL, {'Quote': ['eventSymbol', 'bidPrice']})
        await server.data(conn, QUOTE_CHANNEL, 'Quote', ['AAPL', 3.0])
        await recorder.until(lambda: bool(recorder.events))

    assert recorder.events == [Quote('AAPL', bid_price=Decimal('3.0'))]
    assert feed.stats.unannounced_rows == 1


async def test_keepalive_every_thirty_seconds(running_feed: FeedFactory, recorder: Recorder) -> None:
    clock = ManualClock()
    async with ScriptedDXLink() as server, running_feed(StaticTokens(server.url), clock=clock) as feed:
        await feed.set_symbols(['AAPL'])
        await recorder.until(lambda: recorder.connected() == 1)
        conn = server.latest()

        await clock.advance(29)
        before = len(conn.received('KEEPALIVE'))
        await clock.advance(1)
        await server.until(lambda: len(conn.received('KEEPALIVE')) == 1)
        await server.send(conn, {'type': 'KEEPALIVE', 'channel': 0})  # the server is alive too
        await eventually(lambda: feed.last_inbound_at == 30)
        await clock.advance(30)
        await server.until(lambda: len(conn.received('KEEPALIVE')) == 2)

    assert before == 0
    assert conn.received('KEEPALIVE')[0] == {'type': 'KEEPALIVE', 'channel': 0}


async def test_a_silent_server_is_given_up_after_sixty_seconds_and_everything_resubscribed(
    running_feed: FeedFactory, recorder: Recorder
) -> None:
    clock = ManualClock()
    start = datetime(2026, 11, 1, tzinfo=UTC)
    async with ScriptedDXLink() as server, running_feed(StaticTokens(server.url), clock=clock) as feed:
        await feed.set_symbols(['AAPL', 'MSFT'])
        await feed.set_candles([CandleSubscription('AAPL', CandlePeriod.parse('1d'), start)])
        await recorder.until(lambda: recorder.connected() == 1)
        server.latest().silent = True

        await clock.advance(59)
        assert recorder.reasons() == []
        await clock.advance(2)
        await recorder.until(lambda: recorder.connected() == 2)
        second = server.latest()

    assert recorder.reasons() == ['silence']
    assert [s.reconnected for s in recorder.states if s.status is FeedStatus.CONNECTED] == [False, True]
    subscriptions = {m['channel']: m for m in second.received('FEED_SUBSCRIPTION')}
    assert subscriptions[QUOTE_CHANNEL]['reset'] is True
    assert {i['symbol'] for i in subscriptions[QUOTE_CHANNEL]['add']} == {'AAPL', 'MSFT'}
    candle_channel = next(c for c, m in subscriptions.items() if m['add'][0]['type'] == 'Candle')
    assert subscriptions[candle_channel]['add'] == [
        {'type': 'Candle', 'symbol': 'AAPL{=1d}', 'fromTime': int(start.timestamp() * 1000)}
    ]


async def test_symbol_changes_while_connected_are_sent_as_diffs(running_feed: FeedFactory, recorder: Recorder) -> None:
    async with ScriptedDXLink() as server, running_feed(StaticTokens(server.url)) as feed:
        await feed.set_symbols(['AAPL', 'MSFT'])
        await recorder.until(lambda: recorder.connected() == 1)
        conn = server.latest()

        await feed.set_symbols(['MSFT', 'SPY'])
        await server.until(lambda: len(conn.received('FEED_SUBSCRIPTION')) == 2)

    assert conn.received('FEED_SUBSCRIPTION')[1] == {
        'type': 'FEED_SUBSCRIPTION',
        'channel': QUOTE_CHANNEL,
        'remove': [{'type': 'Quote', 'symbol': 'AAPL'}],
        'add': [{'type': 'Quote', 'symbol': 'SPY'}],
    }
    assert feed.subscriptions == {EventType.QUOTE: frozenset({'MSFT', 'SPY'})}


async def test_large_symbol_sets_go_out_in_chunks(running_feed: FeedFactory, recorder: Recorder) -> None:
    symbols = {f'.SPXW261218P{4000 + i}' for i in range(3000)}
    async with ScriptedDXLink() as server, running_feed(StaticTokens(server.url)) as feed:
        await feed.set_symbols(symbols)
        await recorder.until(lambda: recorder.connected() == 1)
        conn = server.latest()

    chunks = conn.received('FEED_SUBSCRIPTION')
    assert len(chunks) >= 12
    assert all(len(json.dumps(c, separators=(',', ':'))) <= 8192 and len(c['add']) <= 250 for c in chunks)
    assert [bool(c.get('reset')) for c in chunks] == [True] + [False] * (len(chunks) - 1)
    assert {i['symbol'] for c in chunks for i in c['add']} == symbols


async def test_a_1009_close_halves_the_chunks_for_the_next_connection(
    running_feed: FeedFactory, recorder: Recorder
) -> None:
    symbols = [f'SYM{i:05d}' for i in range(600)]
    async with ScriptedDXLink(Script(max_message_bytes=5000)) as server:
        async with running_feed(StaticTokens(server.url)) as feed:
            await feed.set_symbols(symbols)
            await recorder.until(lambda: recorder.reasons() == ['message_too_big'])
            await recorder.until(lambda: recorder.connected() == 2)
        conn = server.latest()

    assert len(server.connections) == 2
    assert {i['symbol'] for c in conn.received('FEED_SUBSCRIPTION') for i in c['add']} == set(symbols)
    assert max(len(json.dumps(c, separators=(',', ':'))) for c in conn.received('FEED_SUBSCRIPTION')) <= 4096


async def test_a_server_restart_close_reconnects_and_resubscribes(
    running_feed: FeedFactory, recorder: Recorder
) -> None:
    async with ScriptedDXLink() as server:
        _quotes(server, [1, 1, 2.0, 1.0, 'AAPL', 'Quote'])
        async with running_feed(StaticTokens(server.url)) as feed:
            await feed.set_symbols(['AAPL'])
            await recorder.until(lambda: len(recorder.events) == 1)

            await server.close(server.latest(), 1012, 'Reconnection is required')
            await recorder.until(lambda: len(recorder.events) == 2)

    closed = next(s for s in recorder.states if s.status is FeedStatus.DISCONNECTED)
    assert (closed.reason, closed.close_code, closed.detail) == (
        DisconnectReason.CLOSED,
        1012,
        '1012 Reconnection is required',
    )
    assert closed.retry_in == 0 and closed.connected_for is not None
    assert len(server.connections) == 2


async def test_a_refused_token_is_replaced_by_a_fresh_one(running_feed: FeedFactory, recorder: Recorder) -> None:
    script = Script(accept_token=lambda token: token != 'scripted-quote-token-1')
    async with ScriptedDXLink(script) as server:
        tokens = StaticTokens(server.url)
        async with running_feed(tokens) as feed:
            await feed.set_symbols(['AAPL'])
            await recorder.until(lambda: recorder.connected() == 1)

    assert recorder.reasons() == ['auth_rejected']
    assert tokens.calls == 2
    assert server.latest().received('AUTH')[0]['token'] == 'scripted-quote-token-2'


async def test_an_unanswered_setup_times_out_and_is_retried(running_feed: FeedFactory, recorder: Recorder) -> None:
    script = Script(answer_setup=False)
    async with ScriptedDXLink(script) as server, running_feed(StaticTokens(server.url), action_timeout=0.2) as feed:
        await feed.set_symbols(['AAPL'])
        await recorder.until(lambda: recorder.reasons() == ['handshake_timeout'])
        script.answer_setup = True
        await recorder.until(lambda: recorder.connected() == 1)

    timeout = next(s for s in recorder.states if s.status is FeedStatus.DISCONNECTED)
    assert timeout.detail == 'no SETUP and AUTH_STATE within 0.2 s'


async def test_a_server_error_ends_the_connection_and_it_comes_back(
    running_feed: FeedFactory, recorder: Recorder
) -> None:
    async with ScriptedDXLink() as server, running_feed(StaticTokens(server.url)) as feed:
        await feed.set_symbols(['AAPL'])
        await recorder.until(lambda: recorder.connected() == 1)

        await server.send(server.latest(), {'type': 'ERROR', 'channel': 0, 'error': 'BAD_ACTION', 'message': 'no'})
        await recorder.until(lambda: recorder.connected() == 2)

    assert recorder.reasons() == ['protocol_error']
    assert recorder.states[2].detail == 'server error BAD_ACTION: no'


async def test_a_channel_the_server_closes_is_reopened_and_resubscribed(
    running_feed: FeedFactory, recorder: Recorder
) -> None:
    async with ScriptedDXLink() as server, running_feed(StaticTokens(server.url)) as feed:
        await feed.set_symbols(['AAPL'])
        await recorder.until(lambda: recorder.connected() == 1)
        conn = server.latest()

        await server.send(conn, {'type': 'CHANNEL_CLOSED', 'channel': QUOTE_CHANNEL})
        await server.until(lambda: len(conn.received('FEED_SUBSCRIPTION')) == 2)

    assert len(conn.received('CHANNEL_REQUEST')) == 2
    assert conn.received('FEED_SUBSCRIPTION')[1]['reset'] is True
    assert len(server.connections) == 1


async def test_the_quote_token_is_renewed_before_it_expires_without_a_backoff(
    running_feed: FeedFactory, recorder: Recorder
) -> None:
    clock = ManualClock()
    async with ScriptedDXLink() as server:
        tokens = StaticTokens(server.url, clock, lifetime=timedelta(hours=24))
        async with running_feed(tokens, clock=clock, silence_timeout=10**6, keepalive_interval=10**5) as feed:
            await feed.set_symbols(['AAPL'])
            await recorder.until(lambda: recorder.connected() == 1)

            await clock.advance(23 * 3600 - 1)
            assert recorder.reasons() == []
            await clock.advance(1)
            await recorder.until(lambda: recorder.connected() == 2)

    renewal = next(s for s in recorder.states if s.status is FeedStatus.DISCONNECTED)
    assert (renewal.reason, renewal.retry_in) == (DisconnectReason.TOKEN_RENEWAL, 0)
    assert tokens.calls == 2
    assert server.latest().received('AUTH')[0]['token'] == 'scripted-quote-token-2'


async def test_a_transient_token_failure_backs_off_and_retries(running_feed: FeedFactory, recorder: Recorder) -> None:
    async with ScriptedDXLink() as server:
        tokens = StaticTokens(server.url)
        tokens.failures.append(ServerError('tastytrade is having trouble', status=503))
        async with running_feed(tokens) as feed:
            await feed.set_symbols(['AAPL'])
            await recorder.until(lambda: recorder.connected() == 1)

    assert recorder.reasons() == ['token_unavailable']
    assert tokens.calls == 2


async def test_a_dead_grant_stops_the_feed_without_retrying(recorder: Recorder) -> None:
    async with ScriptedDXLink() as server:
        tokens = StaticTokens(server.url)
        tokens.failures.append(ReauthorizationRequired('token refresh is stopped', code='breaker_open'))
        feed = DXLinkFeed(tokens, on_event=recorder.on_event, on_state=recorder.on_state)
        await feed.set_symbols(['AAPL'])

        with pytest.raises(ReauthorizationRequired):
            await feed.run()

    assert [s.status for s in recorder.states] == [FeedStatus.CONNECTING, FeedStatus.STOPPED]
    assert recorder.states[-1].reason is DisconnectReason.REAUTHORIZATION_REQUIRED
    assert tokens.calls == 1
    assert server.connections == []


async def test_stop_closes_the_socket_cleanly(running_feed: FeedFactory, recorder: Recorder) -> None:
    async with ScriptedDXLink() as server:
        async with running_feed(StaticTokens(server.url)) as feed:
            await feed.set_symbols(['AAPL'])
            await recorder.until(lambda: recorder.connected() == 1)
        conn = server.latest()
        await server.until(lambda: conn.ws.close_code is not None)

    assert conn.ws.close_code == 1000
    assert recorder.states[-1].status is FeedStatus.STOPPED
    assert recorder.states[-1].reason is DisconnectReason.STOPPED
