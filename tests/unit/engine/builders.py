"""Small builders for the planner's example tests: positions, orders, quotes, a policy, one call to plan."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tastyguard.config import TastyguardConfig, account_policy
from tastyguard.engine import plan
from tastyguard.engine.actions import Alert, AlertKind, CancelOrder, PlaceStop, Plan, ReplaceStop, Report
from tastyguard.engine.types import (
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
from tastyguard.ticks import PENNY, Tick

ACCOUNT = '5WX01234'
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
D = Decimal
OPTION_TICKS = (Tick(D('0.01'), D(3)), Tick(D('0.05')))
_ids = itertools.count(100)


def stock(symbol: str, quantity: str | int, entry: str) -> Holding:
    """An equity position (negative quantity: short)."""
    return Holding(ACCOUNT, symbol, InstrumentType.EQUITY, symbol, D(quantity), D(entry))


def option(symbol: str, underlying: str, quantity: str | int, entry: str) -> Holding:
    """An equity option position (multiplier 100, expiring in a month)."""
    return Holding(
        ACCOUNT, symbol, InstrumentType.EQUITY_OPTION, underlying, D(quantity), D(entry), D(100), NOW + timedelta(30)
    )


def future(symbol: str, quantity: str | int, entry: str, root: str = '/ES') -> Holding:
    """A futures position (multiplier 50)."""
    return Holding(ACCOUNT, symbol, InstrumentType.FUTURE, symbol, D(quantity), D(entry), D(50), None, None, root)


def order(
    symbol: str,
    action: OrderAction,
    quantity: str | int,
    *,
    trigger: str | None = None,
    price: str | None = None,
    ours: bool = True,
    order_type: OrderType | None = None,
    status: OrderStatus = OrderStatus.LIVE,
    tif: TimeInForce = TimeInForce.GTC,
    order_id: str | None = None,
    remaining: str | int | None = None,
    instrument_type: InstrumentType = InstrumentType.EQUITY,
    **extra: Any,
) -> WorkingOrder:
    """A single-leg order; a stop when ``trigger`` is given, else a limit. ``ours`` sets a ``tg-`` identifier."""
    if order_type is None:
        order_type = (OrderType.STOP_LIMIT if price else OrderType.STOP) if trigger else OrderType.LIMIT
    oid = order_id or str(next(_ids))
    left = D(quantity if remaining is None else remaining)
    return WorkingOrder(
        id=oid,
        status=status,
        order_type=order_type,
        time_in_force=tif,
        legs=(OrderLeg(symbol, instrument_type, action, D(quantity), left),),
        stop_trigger=D(trigger) if trigger else None,
        price=D(price) if price else None,
        external_identifier=extra.pop('external_identifier', f'tg-test{oid}' if ours else None),
        **extra,
    )


def sell_stop(symbol: str, quantity: str | int, trigger: str, **kw: Any) -> WorkingOrder:
    """A Sell to Close stop (ours unless ``ours=False``)."""
    return order(symbol, OrderAction.SELL_TO_CLOSE, quantity, trigger=trigger, **kw)


def buy_stop(symbol: str, quantity: str | int, trigger: str, **kw: Any) -> WorkingOrder:
    """A Buy to Close stop (ours unless ``ours=False``)."""
    return order(symbol, OrderAction.BUY_TO_CLOSE, quantity, trigger=trigger, **kw)


def quote(symbol: str, bid: str | None, ask: str | None, last: str | None = None) -> QuoteView:
    """A quote (mark = mid when both sides are given)."""
    mark = (D(bid) + D(ask)) / 2 if bid and ask else None
    return QuoteView(symbol, D(bid) if bid else None, D(ask) if ask else None, D(last) if last else None, mark)


def config(policy: Mapping[str, Any] | None = None, **top: Any) -> TastyguardConfig:
    """A one-account configuration with this account policy."""
    account = {'account_number': ACCOUNT, 'policy': dict(policy or {})}
    return TastyguardConfig.model_validate({'environment': 'paper', 'accounts': [account], **top})


def inputs(
    holdings: Iterable[Holding],
    orders: Iterable[WorkingOrder] = (),
    quotes: Iterable[QuoteView] = (),
    *,
    policy: Mapping[str, Any] | None = None,
    cfg: TastyguardConfig | None = None,
    ticks: Mapping[str, tuple[Tick, ...]] | None = None,
    spread_ticks: tuple[Tick, ...] | None = None,
    salt: str = '2026-03-02T15:00:00Z',
    **kw: Any,
) -> PlanInputs:
    """Planner inputs; every held symbol gets instrument data (``ticks`` by symbol, else penny / option ticks)."""
    holdings = tuple(holdings)
    instruments = {}
    for h in holdings:
        default = OPTION_TICKS if h.instrument_type is InstrumentType.EQUITY_OPTION else PENNY
        schedule = (ticks or {}).get(h.symbol, default)
        instruments[h.symbol] = InstrumentView(h.symbol, schedule, spread_ticks=spread_ticks)
    instruments.update(kw.pop('instruments', {}))
    return PlanInputs(
        account_number=ACCOUNT,
        holdings=holdings,
        orders=tuple(orders),
        quotes={q.symbol: q for q in quotes},
        instruments=instruments,
        policy=account_policy(cfg or config(policy), ACCOUNT),
        salt=salt,
        now=kw.pop('now', NOW),
        **kw,
    )


def run(*args: Any, **kw: Any) -> Plan:
    """``plan(inputs(...))``."""
    return plan(inputs(*args, **kw))


def places(result: Plan) -> list[PlaceStop]:
    """The new stops of a plan."""
    return [a for a in result.actions if isinstance(a, PlaceStop)]


def replaces(result: Plan) -> list[ReplaceStop]:
    """The replacements of a plan."""
    return [a for a in result.actions if isinstance(a, ReplaceStop)]


def cancels(result: Plan) -> list[CancelOrder]:
    """The cancels of a plan."""
    return [a for a in result.actions if isinstance(a, CancelOrder)]


def alerts(result: Plan, kind: AlertKind | None = None) -> list[Alert]:
    """The alerts of a plan (of one kind)."""
    return [a for a in result.alerts if kind is None or a.kind is kind]


def reports(result: Plan) -> list[Report]:
    """The reports of a plan."""
    return list(result.reports)


def coverage(result: Plan, symbol: str) -> Any:
    """The coverage result of one symbol."""
    return next(c for c in result.coverage if c.symbol == symbol)
