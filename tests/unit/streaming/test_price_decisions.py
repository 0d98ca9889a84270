"""Properties of the streamer's price decisions over random quote paths (``tastyguard.streaming.prices``).

A random walk of quotes, with ``"NaN"`` (missing) sides, zero sides, crossed books and stale quotes mixed in,
is fed to :func:`decide` for a trailing long or short. Whatever the path:

* the stop only ever tightens (up for a long's sell stop, down for a short's buy stop), never loosens;
* at most ``trail_max_moves`` ratchets fall in any window;
* every new trigger is on a tick and strictly on the safe side of the quote that moved it;
* the mark moves only on valid, fresh quotes, in the favourable direction only, and equals the best valid
  fresh price seen;
* a software stop, a price alert and a stop-through alert fire at most once each, and only on sane books.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tastyguard.config import parse_config
from tastyguard.config.effective import account_policy
from tastyguard.config.policy import PolicyScope
from tastyguard.engine.types import InstrumentType
from tastyguard.streaming.prices import (
    BrokerStop,
    LevelCrossed,
    MarkMoved,
    Ratchet,
    SoftwareCross,
    StopThrough,
    Tick,
    Watched,
    decide,
)
from tastyguard.ticks import PENNY, is_on_tick

ACCOUNT = '5WT00001'
START = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)
CENT = Decimal('0.01')


def _policy(trail_price: str, max_moves: int, alerts: list[str]) -> object:
    config = parse_config(
        {
            'environment': 'paper',
            'accounts': [{'account_number': ACCOUNT}],
            'policy': {
                'basis': 'high_water',
                'distance': '5%',
                'trail_min_step': '0.5%',
                'trail_price': trail_price,
                'trail_max_moves': max_moves,
                'trail_quote_max_age_seconds': 10,
                'price_alerts': alerts,
            },
        }
    )
    return account_policy(config, ACCOUNT).resolve(PolicyScope.EQUITY)


# One step of the path: (move in cents, spread in cents, what is wrong with the quote, seconds until the next)
_STEP = st.tuples(
    st.integers(min_value=-150, max_value=150),
    st.integers(min_value=1, max_value=10),
    st.sampled_from(['ok'] * 6 + ['nan_bid', 'nan_ask', 'zero_bid', 'zero_ask', 'crossed', 'stale']),
    st.integers(min_value=0, max_value=120),
)


def _tick(mid: Decimal, spread: int, flaw: str, now: datetime) -> Tick:
    half = Decimal(spread) * CENT / 2
    bid, ask = (mid - half).quantize(CENT), (mid + half).quantize(CENT)
    quoted = now
    if flaw == 'nan_bid':
        bid = None  # type: ignore[assignment]
    elif flaw == 'nan_ask':
        ask = None  # type: ignore[assignment]
    elif flaw == 'zero_bid':
        bid = Decimal(0)
    elif flaw == 'zero_ask':
        ask = Decimal(0)
    elif flaw == 'crossed':
        bid, ask = ask + CENT, bid
    elif flaw == 'stale':
        quoted = now - timedelta(seconds=11)
    return Tick(bid=bid, ask=ask, last=mid, received_at=now, quoted_at=quoted)


def _valid_price(tick: Tick, long: bool, how: str, flaw: str) -> Decimal | None:
    """The price that may move the mark, computed independently of the code under test."""
    if flaw in {'crossed', 'stale'}:
        return None
    bid = tick.bid if tick.bid and tick.bid > 0 else None
    ask = tick.ask if tick.ask and tick.ask > 0 else None
    if how == 'bid_ask':
        return bid if long else ask
    if how == 'mark':
        return (bid + ask) / 2 if bid is not None and ask is not None else None
    return tick.last


@settings(max_examples=300, deadline=None)
@given(
    long=st.booleans(),
    how=st.sampled_from(['bid_ask', 'mark', 'last']),
    max_moves=st.integers(min_value=1, max_value=5),
    start=st.integers(min_value=500, max_value=50000),
    path=st.lists(_STEP, min_size=1, max_size=80),
)
def test_a_trailing_stop_only_tightens_within_its_move_budget_on_valid_fresh_quotes(
    long: bool, how: str, max_moves: int, start: int, path: list[tuple[int, int, str, int]]
) -> None:
    policy = _policy(how, max_moves, [])
    entry = Decimal(start) * CENT
    first_stop = (entry * Decimal('0.95') if long else entry * Decimal('1.05')).quantize(CENT)
    watched = Watched(
        account=ACCOUNT,
        symbol='AAPL',
        instrument_type=InstrumentType.EQUITY,
        long=long,
        quantity=Decimal(100),
        entry=entry,
        opened_at=START - timedelta(days=3),
        policy=policy,  # type: ignore[arg-type]
        ticks=PENNY,
        our_stop=first_stop,
    )
    now, mid = START, entry
    best: Decimal | None = None
    stop = first_stop
    ratchets: list[datetime] = []
    for move, spread, flaw, wait in path:
        mid = max(mid + Decimal(move) * CENT, Decimal('1.00'))
        tick = _tick(mid, spread, flaw, now)
        mark_before = watched.mark
        decisions = decide(watched, tick, now, WINDOW)
        price = _valid_price(tick, long, how, flaw)
        if price is not None:
            best = price if best is None else (max(best, price) if long else min(best, price))
        assert watched.mark == best, f'mark {watched.mark} after {flaw} quote; best valid fresh price {best}'
        if price is None:
            assert watched.mark == mark_before
            assert not any(isinstance(d, Ratchet | MarkMoved) for d in decisions)
        for decision in decisions:
            if isinstance(decision, MarkMoved):
                assert mark_before is None or (decision.mark > mark_before if long else decision.mark < mark_before)
            if isinstance(decision, Ratchet):
                assert decision.trigger > stop if long else decision.trigger < stop, 'a ratchet never loosens'
                assert is_on_tick(decision.trigger, PENNY)
                assert price is not None
                assert decision.trigger < price if long else decision.trigger > price, 'never through the market'
                stop = decision.trigger
                ratchets.append(now)
        assert watched.our_stop == stop
        in_window = [at for at in ratchets if now - at < WINDOW]
        assert len(in_window) <= max_moves, f'{len(in_window)} ratchets within the window (limit {max_moves})'
        now += timedelta(seconds=wait)


@settings(max_examples=200, deadline=None)
@given(
    long=st.booleans(),
    path=st.lists(_STEP, min_size=1, max_size=60),
    level_pct=st.integers(min_value=1, max_value=20),
)
def test_software_stops_alerts_and_stop_through_fire_once_and_only_on_sane_books(
    long: bool, path: list[tuple[int, int, str, int]], level_pct: int
) -> None:
    policy = _policy('bid_ask', 4, [f'-{level_pct}%', f'+{level_pct}%'])
    entry = Decimal('10.00')
    level = entry * (1 - Decimal(level_pct) / 100) if long else entry * (1 + Decimal(level_pct) / 100)
    watched = Watched(
        account=ACCOUNT,
        symbol='/ESZ6',
        instrument_type=InstrumentType.FUTURE_OPTION,
        long=long,
        quantity=Decimal(1),
        entry=entry,
        opened_at=None,
        policy=policy,  # type: ignore[arg-type]
        ticks=None,
        software_level=level,
        stops=(BrokerStop('900', level, sells=long, ours=False),),
    )
    now, mid = START, entry
    fired: dict[str, int] = {}
    for move, spread, flaw, wait in path:
        mid = max(mid + Decimal(move) * CENT / 10, Decimal('0.05'))
        tick = _tick(mid, spread, flaw, now)
        for decision in decide(watched, tick, now, WINDOW):
            if isinstance(decision, MarkMoved | Ratchet):
                continue  # the trailing part (this software stop trails its mark: the level only tightens)
            kind = type(decision).__name__
            key = kind + (str(decision.level) if isinstance(decision, LevelCrossed) else '')
            fired[key] = fired.get(key, 0) + 1
            if isinstance(decision, SoftwareCross | StopThrough):
                assert flaw not in {'crossed', 'nan_bid' if long else 'nan_ask', 'zero_bid' if long else 'zero_ask'}
                exit_price = tick.bid if long else tick.ask
                assert exit_price is not None and exit_price > 0
                crossed = decision.level if isinstance(decision, SoftwareCross) else decision.stop.trigger
                assert crossed >= level if long else crossed <= level, 'a software level never loosens'
                assert exit_price <= crossed if long else exit_price >= crossed
            if isinstance(decision, LevelCrossed):
                assert flaw != 'crossed'
        now += timedelta(seconds=wait)
    assert all(count == 1 for count in fired.values()), fired
