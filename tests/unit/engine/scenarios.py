"""Hypothesis strategies for random accounts: positions, the person's and tastyguard's orders, quotes,
tick tables and policies — including the awkward cases (over-covering human orders, wrong-side and stale
own stops, duplicates, flips, spreads, futures options, missing quotes, breached stops, orphans)."""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from tastyguard.config import AccountPolicy, TastyguardConfig, account_policy
from tastyguard.engine.trigger import market_reference
from tastyguard.engine.types import (
    EQUITY_TICKS,
    Holding,
    InstrumentType,
    InstrumentView,
    OrderAction,
    OrderLeg,
    OrderStatus,
    OrderType,
    PlanInputs,
    QuoteView,
    TimeInForce,
    WorkingOrder,
)
from tastyguard.ticks import PENNY, Rounding, Tick, round_to_tick, tick_for

ACCOUNT = '5WX01234'
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
D = Decimal

T = InstrumentType
POOL: dict[str, tuple[InstrumentType, str, str | None]] = {
    'AAA': (T.EQUITY, 'AAA', None),
    'BBB': (T.EQUITY, 'BBB', None),
    'CCC': (T.EQUITY, 'CCC', None),
    'DDD': (T.EQUITY, 'DDD', None),
    'UUU   270115C00100000': (T.EQUITY_OPTION, 'UUU', None),
    'UUU   270115C00110000': (T.EQUITY_OPTION, 'UUU', None),
    'UUU   270115P00090000': (T.EQUITY_OPTION, 'UUU', None),
    'VVV   270115P00050000': (T.EQUITY_OPTION, 'VVV', None),
    'VVV   270115P00045000': (T.EQUITY_OPTION, 'VVV', None),
    'WWW   270115C00020000': (T.EQUITY_OPTION, 'WWW', None),
    '/ESZ5': (T.FUTURE, '/ESZ5', '/ES'),
    '/NQZ5': (T.FUTURE, '/NQZ5', '/NQ'),
    './ESZ5 E1AZ5 251205P6000': (T.FUTURE_OPTION, '/ESZ5', '/ES'),
    'BTC/USD': (T.CRYPTO, 'BTC/USD', None),
    'XOTHER': (T.OTHER, 'XOTHER', None),
}
ORPHANS = ('ZZZ', 'YYY')

TICK_CHOICES: dict[InstrumentType, list[tuple[Tick, ...]]] = {
    T.EQUITY: [EQUITY_TICKS, PENNY, (Tick(D('0.05')),)],
    T.EQUITY_OPTION: [
        (Tick(D('0.01'), D(3)), Tick(D('0.05'))),
        (Tick(D('0.05'), D(3)), Tick(D('0.10'))),
        PENNY,
    ],
    T.FUTURE: [(Tick(D('0.25')),), (Tick(D('0.5')),), PENNY],
    T.FUTURE_OPTION: [(Tick(D('0.05')),)],
    T.CRYPTO: [PENNY],
    T.OTHER: [PENNY],
}
FACTORS = [D(x) for x in ('0.3', '0.5', '0.8', '0.9', '0.95', '0.99', '1', '1.02', '1.1', '1.5', '2.5')]
WORKING_STATUSES = [OrderStatus.LIVE] * 6 + [
    OrderStatus.RECEIVED,
    OrderStatus.ROUTED,
    OrderStatus.IN_FLIGHT,
    OrderStatus.CONTINGENT,
    OrderStatus.CANCEL_REQUESTED,
    OrderStatus.REPLACE_REQUESTED,
]
_ids = itertools.count(1)

# Strategies are built once: building them inside draws costs more than the planner itself.
BOOL = st.booleans()
DIE = st.integers(0, 9)
SMALL = st.integers(0, 3)
SHARE = st.integers(1, 150)  # percent of a position's size
HUMAN_SHARE = st.integers(1, 110)
HUMAN_COUNT = st.sampled_from([0, 0, 0, 1, 1, 2, 3])
FACTOR = st.sampled_from(FACTORS)
STATUS = st.sampled_from(WORKING_STATUSES)
OWN_STATUS = st.sampled_from(
    [OrderStatus.LIVE] * 8 + [OrderStatus.RECEIVED, OrderStatus.CONTINGENT, OrderStatus.CANCEL_REQUESTED]
)
OWN_TIF = st.sampled_from([TimeInForce.GTC] * 4 + [TimeInForce.GTC_EXT, TimeInForce.DAY])
STOP_TYPE = st.sampled_from([OrderType.STOP, OrderType.STOP, OrderType.STOP_LIMIT])
HUMAN_TYPE = st.sampled_from([OrderType.STOP, OrderType.STOP, OrderType.STOP_LIMIT, OrderType.LIMIT])
HUMAN_ID = st.sampled_from([None, 'my-own-tag', 'TG-not-ours'])
GAP = st.integers(1, 50)
SPREAD_TICKS = st.integers(0, 4)
QUOTE_MODE = st.sampled_from(['full', 'full', 'full', 'bidask', 'last', 'none'])


INDEX = st.integers(0, 10_000)
SIZE = st.integers(1, 400)
OPTION_SIZE = st.integers(1, 20)
SYMBOLS = st.lists(st.sampled_from(sorted(POOL)), unique=True, max_size=8)
ORPHAN_SYMBOLS = st.lists(st.sampled_from(ORPHANS), unique=True, max_size=2)


def _share(draw: st.DrawFn, size: int) -> Decimal:
    """A quantity from 1 to 1.5 x ``size``."""
    return D(max(1, size * draw(SHARE) // 100))


@dataclass(frozen=True)
class Scenario:  # not slotted: cached_property needs a __dict__
    """A random account plus everything ``plan`` needs, and the true tick table of every symbol."""

    holdings: tuple[Holding, ...]
    orders: tuple[WorkingOrder, ...]
    quotes: dict[str, QuoteView]
    instruments: dict[str, InstrumentView]
    config: TastyguardConfig
    truth_ticks: dict[str, tuple[Tick, ...]]
    spread_ticks: dict[str, tuple[Tick, ...]]
    absent_counts: dict[str, int] = field(default_factory=dict)
    human_cancels: frozenset[str] = frozenset()
    high_water: dict[str, Decimal] = field(default_factory=dict)

    @functools.cached_property
    def policy(self) -> AccountPolicy:
        """The account's policy book (built once per scenario)."""
        return account_policy(self.config, ACCOUNT)

    def inputs(self, holdings: Any = None, orders: Any = None, salt: str = 'run-1') -> PlanInputs:
        """The planner inputs, optionally with another set of holdings / orders (the model broker's)."""
        return PlanInputs(
            account_number=ACCOUNT,
            holdings=tuple(self.holdings if holdings is None else holdings),
            orders=tuple(self.orders if orders is None else orders),
            quotes=self.quotes,
            instruments=self.instruments,
            policy=self.policy,
            salt=salt,
            now=NOW,
            absent_counts=self.absent_counts,
            human_cancels=self.human_cancels,
            high_water=self.high_water,
        )


def _on_tick(price: Decimal, ticks: tuple[Tick, ...], direction: Rounding) -> Decimal:
    rounded = round_to_tick(price, ticks, direction) if price > 0 else D(0)
    return rounded if rounded > 0 else round_to_tick(D('1e-9'), ticks, Rounding.UP)


@st.composite
def distances(draw: st.DrawFn, percent_max: int = 60) -> str:
    """A distance as a config file writes it: ``'12%'`` or ``'3.5'``."""
    if draw(BOOL):
        return f'{1 + draw(INDEX) % percent_max}%'
    return str(D(1 + draw(INDEX) % 2000) / 100)


DISTANCE = distances()
DISTANCE_20, DISTANCE_5, DISTANCE_3 = distances(20), distances(5), distances(3)
KIND = st.sampled_from(['stop'] * 5 + ['stop_limit'] * 2 + ['alert_only', 'none'])
BASIS = st.sampled_from(['entry', 'entry', 'mark', 'high_water'])
BREACHED = st.sampled_from(['alert', 'clamp', 'skip'])
MULTIPLE = st.sampled_from(['1.5', '2', '3'])
TIF = st.sampled_from(['GTC', 'GTC', 'GTC Ext'])
HUMAN_CANCEL = st.sampled_from(['respect', 'replace'])
SPREAD_KIND = st.sampled_from(['stop_limit', 'alert_only'])
CRYPTO_KIND = st.sampled_from(['stop', 'alert_only'])
OVERRIDE_KIND = st.sampled_from(['none', 'stop', 'alert_only'])


@st.composite
def configs(draw: st.DrawFn, symbols: list[str]) -> TastyguardConfig:
    """A random but valid configuration for :data:`ACCOUNT`."""
    policy: dict[str, Any] = {
        'kind': draw(KIND),
        'distance': draw(DISTANCE),
        'basis': draw(BASIS),
        'when_breached': draw(BREACHED),
        'clamp_distance': draw(DISTANCE_20),
        'limit_offset': draw(DISTANCE_5),
        'trail_min_step': draw(DISTANCE_3),
        'credit_multiple': draw(MULTIPLE),
        'time_in_force': draw(TIF),
        'on_human_cancel': draw(HUMAN_CANCEL),
    }
    if draw(BOOL):
        policy['min_distance'] = f'{1 + draw(SMALL)}%'
    if draw(BOOL):
        policy['max_distance'] = f'{10 + draw(INDEX) % 30}%'
    policy['instrument_types'] = {
        'spread': {'kind': draw(SPREAD_KIND)},
        'equity_option': {'distance': draw(DISTANCE)},
        'crypto': {'kind': draw(CRYPTO_KIND)},
    }
    if symbols and draw(BOOL):
        policy['symbols'] = {symbols[draw(INDEX) % len(symbols)]: {'kind': draw(OVERRIDE_KIND)}}
    hands_off = [symbols[draw(INDEX) % len(symbols)]] if symbols and draw(DIE) == 0 else []
    data = {'environment': 'paper', 'accounts': [{'account_number': ACCOUNT, 'policy': policy}], 'hands_off': hands_off}
    return TastyguardConfig.model_validate(data)


def _order(
    draw: st.DrawFn, symbol: str, kind: InstrumentType, action: OrderAction, quantity: Decimal, **kw: Any
) -> WorkingOrder:
    remaining = quantity if draw(DIE) else max(D(1), quantity * draw(SHARE) // 150)  # sometimes partly filled
    leg = OrderLeg(symbol, kind, action, quantity, min(remaining, quantity))
    status = kw.pop('status', None) or draw(STATUS)
    tif = kw.pop('time_in_force', TimeInForce.GTC)
    return WorkingOrder(id=str(next(_ids)), status=status, time_in_force=tif, legs=(leg,), **kw)


@st.composite
def human_orders(draw: st.DrawFn, holding: Holding, current: Decimal, ticks: tuple[Tick, ...]) -> list[WorkingOrder]:
    """The person's orders on one position: stops, limits, OCOs; closing or not; any size, any status."""
    long = holding.is_long
    closing = OrderAction.SELL_TO_CLOSE if long else OrderAction.BUY_TO_CLOSE
    others = [OrderAction.BUY_TO_CLOSE if long else OrderAction.SELL_TO_CLOSE, OrderAction.BUY_TO_OPEN]
    orders: list[WorkingOrder] = []
    size = int(holding.size)
    ident = draw(HUMAN_ID)
    for _ in range(draw(HUMAN_COUNT)):
        action = closing if draw(DIE) else others[draw(BOOL)]
        quantity = max(D(1), D(size * draw(HUMAN_SHARE) // 100))
        price = _on_tick(current * draw(FACTOR), ticks, Rounding.NEAREST)
        order_type = draw(HUMAN_TYPE)
        trigger = price if order_type.is_stop else None
        limit = price if order_type is not OrderType.STOP else None
        source = 'tastyguard/0.1.0' if draw(DIE) < 2 else None
        orders.append(
            _order(
                draw,
                holding.symbol,
                holding.instrument_type,
                action,
                quantity,
                order_type=order_type,
                stop_trigger=trigger,
                price=limit,
                external_identifier=ident,
                source=source,
            )
        )
    if draw(DIE) == 0:  # an OCO pair: take-profit limit + stop, mutually exclusive
        quantity = min(D(size), _share(draw, size))
        complex_id = f'cx{next(_ids)}'
        stop = _on_tick(current * D('0.8') if long else current * D('1.2'), ticks, Rounding.NEAREST)
        target = _on_tick(current * D('1.2') if long else current * D('0.8'), ticks, Rounding.NEAREST)
        for order_type, trigger, limit in ((OrderType.LIMIT, None, target), (OrderType.STOP, stop, None)):
            orders.append(
                _order(
                    draw,
                    holding.symbol,
                    holding.instrument_type,
                    closing,
                    quantity,
                    order_type=order_type,
                    stop_trigger=trigger,
                    price=limit,
                    status=OrderStatus.LIVE,
                    complex_order_id=complex_id,
                    complex_order_tag='OCO::order',
                )
            )
    return orders


@st.composite
def own_orders(
    draw: st.DrawFn, holding: Holding, quote: QuoteView | None, ticks: tuple[Tick, ...]
) -> list[WorkingOrder]:
    """tastyguard's stops on one position: right or wrong size, side, type, duplicates; on tick."""
    orders: list[WorkingOrder] = []
    size = int(holding.size)
    for _ in range(draw(SMALL)):
        long = holding.is_long if draw(DIE) > 1 else not holding.is_long  # sometimes from before a flip
        market = market_reference(quote, long) if long == holding.is_long else None
        reference = market.price if market else holding.average_open_price
        gap = D(draw(GAP)) / 100
        raw = reference * (1 - gap) if long else reference * (1 + gap)
        trigger = round_to_tick(raw, ticks, Rounding.DOWN if long else Rounding.UP) if raw > 0 else D(0)
        if trigger <= 0 or (market and (trigger >= market.price if long else trigger <= market.price)):
            continue
        order_type = draw(STOP_TYPE)
        limit = None
        if order_type is OrderType.STOP_LIMIT:
            step = tick_for(trigger, ticks)
            limit = _on_tick(trigger - step if long else trigger + step, ticks, Rounding.DOWN if long else Rounding.UP)
        action = OrderAction.SELL_TO_CLOSE if long else OrderAction.BUY_TO_CLOSE
        quantity = _share(draw, size)
        status = draw(OWN_STATUS)
        tif = draw(OWN_TIF)
        orders.append(
            _order(
                draw,
                holding.symbol,
                holding.instrument_type,
                action,
                quantity,
                order_type=order_type,
                stop_trigger=trigger,
                price=limit,
                status=status,
                time_in_force=tif,
                external_identifier=f'tg-{next(_ids):08x}',
            )
        )
    return orders


@st.composite
def quotes(draw: st.DrawFn, symbol: str, current: Decimal, ticks: tuple[Tick, ...]) -> QuoteView | None:
    """A quote around ``current``: full, bid/ask only, last only, or missing."""
    mode = draw(QUOTE_MODE)
    if mode == 'none':
        return None
    bid = _on_tick(current, ticks, Rounding.DOWN)
    ask = _on_tick(bid + tick_for(bid, ticks) * draw(SPREAD_TICKS), ticks, Rounding.UP)
    if mode == 'last':
        return QuoteView(symbol, last=current)
    if mode == 'bidask':
        return QuoteView(symbol, bid=bid, ask=ask)
    return QuoteView(symbol, bid=bid, ask=ask, last=current, mark=(bid + ask) / 2)


PRICE_CENTS = {
    T.EQUITY_OPTION: st.integers(3, 2500),
    T.FUTURE_OPTION: st.integers(3, 2500),
    T.CRYPTO: st.integers(10000, 9000000),
}
OTHER_CENTS = st.integers(20, 60000)
FUTURE_QUARTERS = st.integers(400, 24000)


def _base_price(draw: st.DrawFn, kind: InstrumentType) -> Decimal:
    if kind is T.FUTURE:
        return D(draw(FUTURE_QUARTERS)) / 4
    return D(draw(PRICE_CENTS.get(kind, OTHER_CENTS))) / 100


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A random account (see the module docstring)."""
    symbols = draw(SYMBOLS)
    holdings: list[Holding] = []
    orders: list[WorkingOrder] = []
    quote_map: dict[str, QuoteView] = {}
    instruments: dict[str, InstrumentView] = {}
    truth: dict[str, tuple[Tick, ...]] = {}
    spread_ticks: dict[str, tuple[Tick, ...]] = {}
    for symbol in symbols:
        kind, underlying, root = POOL[symbol]
        option = kind in (T.EQUITY_OPTION, T.FUTURE_OPTION)
        size = draw(OPTION_SIZE if option else SIZE)
        quantity = D(size if draw(BOOL) else -size)
        entry = _base_price(draw, kind)
        multiplier = D(100) if option else D(50) if kind is T.FUTURE else D(1)
        expired = option and draw(DIE) == 0 and draw(BOOL)
        expires = NOW - timedelta(days=1) if expired else (NOW + timedelta(days=30) if option else None)
        holding = Holding(ACCOUNT, symbol, kind, underlying, quantity, entry, multiplier, expires, None, root)
        holdings.append(holding)
        ticks = TICK_CHOICES[kind][draw(SMALL) % len(TICK_CHOICES[kind])]
        if draw(DIE):
            tradeable = draw(DIE) > 0 or draw(BOOL)
            spread = (Tick(D('0.01')),) if option and draw(BOOL) else None
            instruments[symbol] = InstrumentView(symbol, ticks, tradeable=tradeable, spread_ticks=spread)
            spread_ticks[symbol] = spread or ticks
        elif kind is T.EQUITY:
            ticks = EQUITY_TICKS  # the planner's fallback for an equity without instrument data
        truth[symbol] = ticks
        current = _on_tick(entry * draw(FACTOR), ticks, Rounding.NEAREST)
        quote = draw(quotes(symbol, current, ticks))
        if quote is not None:
            quote_map[symbol] = quote
        orders += draw(human_orders(holding, current, ticks))
        orders += draw(own_orders(holding, quote, ticks))
    if draw(DIE) < 3:
        orders += draw(structure(holdings, quote_map, instruments, truth, spread_ticks))
    orders += draw(_multi_leg_orders(holdings, spread_ticks))
    absent: dict[str, int] = {}
    for symbol in draw(ORPHAN_SYMBOLS):
        absent[symbol] = 1 + draw(SMALL) % 3
        orphan = Holding(ACCOUNT, symbol, T.EQUITY, symbol, D(draw(OPTION_SIZE)), D('50.00'))
        orders += draw(own_orders(orphan, QuoteView(symbol, bid=D(50), ask=D('50.01')), PENNY))
        orders += draw(human_orders(orphan, D(50), PENNY))
    held = [h.symbol for h in holdings]
    cancels = frozenset(symbol for symbol in held if draw(DIE) == 0)
    high_water = {s: quote_map[s].last or D(0) for s in held if s in quote_map and draw(SMALL) == 0}
    config = draw(configs([*held, *{h.underlying_symbol for h in holdings}]))
    return Scenario(
        tuple(holdings),
        tuple(orders),
        quote_map,
        instruments,
        config,
        truth,
        spread_ticks,
        absent,
        cancels,
        {s: v for s, v in high_water.items() if v > 0},
    )


@st.composite
def _multi_leg_orders(
    draw: st.DrawFn, holdings: list[Holding], ticks: dict[str, tuple[Tick, ...]]
) -> list[WorkingOrder]:
    """Sometimes one of our multi-leg stop limits on two option positions of one underlying."""
    options = [h for h in holdings if h.instrument_type is T.EQUITY_OPTION]
    pairs = [(a, b) for a, b in itertools.combinations(options, 2) if a.underlying_symbol == b.underlying_symbol]
    if not pairs or draw(SMALL):
        return []
    first, second = sorted(pairs[draw(INDEX) % len(pairs)], key=lambda h: h.symbol)
    legs = tuple(
        OrderLeg(
            h.symbol,
            T.EQUITY_OPTION,
            OrderAction.SELL_TO_CLOSE if h.is_long else OrderAction.BUY_TO_CLOSE,
            h.size if draw(BOOL) else D(1),
            h.size if draw(BOOL) else D(1),
        )
        for h in (first, second)
    )
    schedule = ticks.get(first.symbol, PENNY)
    trigger = _on_tick(D(draw(GAP)) / 10, schedule, Rounding.NEAREST)
    status = OrderStatus.CANCEL_REQUESTED if draw(SMALL) == 0 else OrderStatus.LIVE
    return [
        WorkingOrder(
            str(next(_ids)),
            status,
            OrderType.STOP_LIMIT,
            TimeInForce.GTC,
            legs,
            trigger,
            trigger,
            f'tg-ml{next(_ids):06x}',
        )
    ]


STRUCTURE_LEGS = ('SSS   270115C00100000', 'SSS   270115C00105000', 'SSS   270115P00095000', 'SSS   270115P00090000')
LEG_COUNT = st.integers(2, 4)
UNITS = st.integers(1, 5)
LEG_CENTS = st.integers(5, 1500)


@st.composite
def structure(
    draw: st.DrawFn,
    holdings: list[Holding],
    quote_map: dict[str, QuoteView],
    instruments: dict[str, InstrumentView],
    truth: dict[str, tuple[Tick, ...]],
    spread_ticks: dict[str, tuple[Tick, ...]],
) -> list[WorkingOrder]:
    """A 2-4 leg option structure on SSS (directions alternate), with quotes and instrument data; sometimes
    our matching structure stop, sometimes a person's order on a leg. Mutates the maps it is given."""
    count = draw(LEG_COUNT)
    units = draw(UNITS)
    start_long = draw(BOOL)
    ticks = TICK_CHOICES[T.EQUITY_OPTION][draw(SMALL) % 3]
    spread = (Tick(D('0.01')),) if draw(BOOL) else None
    legs: list[Holding] = []
    for index, symbol in enumerate(STRUCTURE_LEGS[:count]):
        long = start_long == (index % 2 == 0)
        ratio = 2 if count == 2 and index == 1 and draw(SMALL) == 0 else 1
        size = units * ratio
        entry = D(draw(LEG_CENTS)) / 100
        holding = Holding(
            ACCOUNT, symbol, T.EQUITY_OPTION, 'SSS', D(size if long else -size), entry, D(100), NOW + timedelta(days=30)
        )
        legs.append(holding)
        instruments[symbol] = InstrumentView(symbol, ticks, spread_ticks=spread)
        truth[symbol] = ticks
        spread_ticks[symbol] = spread or ticks
        current = _on_tick(entry * draw(FACTOR), ticks, Rounding.NEAREST)
        bid = _on_tick(current, ticks, Rounding.DOWN)
        quote_map[symbol] = QuoteView(symbol, bid=bid, ask=_on_tick(bid + tick_for(bid, ticks), ticks, Rounding.UP))
    holdings += legs
    orders: list[WorkingOrder] = []
    if draw(SMALL) == 0:
        orders += draw(human_orders(legs[0], legs[0].average_open_price, ticks))
    if draw(SMALL) < 2:
        ordered = sorted(legs, key=lambda h: h.symbol)
        order_legs = tuple(
            OrderLeg(
                h.symbol,
                T.EQUITY_OPTION,
                OrderAction.SELL_TO_CLOSE if h.is_long else OrderAction.BUY_TO_CLOSE,
                h.size,
                h.size,
            )
            for h in ordered
        )
        trigger = _on_tick(D(draw(LEG_CENTS)) / 100, spread_ticks[ordered[0].symbol], Rounding.NEAREST)
        orders.append(
            WorkingOrder(
                str(next(_ids)),
                OrderStatus.LIVE,
                OrderType.STOP_LIMIT,
                TimeInForce.GTC,
                order_legs,
                trigger,
                trigger,
                f'tg-st{next(_ids):06x}',
            )
        )
    return orders
