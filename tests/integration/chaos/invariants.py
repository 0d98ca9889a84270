"""The protection invariants, checked on the paper broker's own state and request log after a run.

Nothing here asks tastyguard what it did: the broker's orders, positions, quotes and the requests it
received (tastyguard's are the ones with its ``User-Agent``) are the evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tastyguard.broker.core import USER_AGENT

D = Decimal
ZERO = D(0)
WORKING = frozenset({'Received', 'Routed', 'In Flight', 'Live', 'Cancel Requested', 'Replace Requested', 'Contingent'})
PENDING = frozenset({'Cancel Requested', 'Replace Requested'})
CLOSING = {True: frozenset({'Sell to Close', 'Sell'}), False: frozenset({'Buy to Close', 'Buy'})}
_ORDER_PATH = re.compile(r'^/accounts/[^/]+/orders/(\d+)$')
_ORDERS = re.compile(r'^/accounts/[^/]+/orders$')


@dataclass(frozen=True)
class Market:
    """A quote as the broker holds it."""

    bid: Decimal | None
    ask: Decimal | None
    last: Decimal | None

    @classmethod
    def of(cls, quote: Mapping[str, Any] | None) -> Market:
        def value(key: str) -> Decimal | None:
            raw = (quote or {}).get(key)
            return None if raw in (None, 'NaN') else D(str(raw))

        return cls(value('bid-price'), value('ask-price'), value('last-price'))

    def triggers_sell_stop(self, trigger: Decimal) -> bool:
        """Would a sell stop at ``trigger`` trigger now, by any price the broker could judge it by?"""
        book = self.bid is not None or (self.ask is not None and self.ask > 0)
        prices = [self.bid if self.bid is not None else ZERO] if book else [self.last]
        if self.bid is not None and self.ask is not None and 0 < self.ask < self.bid:
            prices.append(self.ask)
        return any(p is not None and p <= trigger for p in prices)

    def triggers_buy_stop(self, trigger: Decimal) -> bool:
        """Would a buy stop at ``trigger`` trigger now (a missing ask: the bid or the last trade)?"""
        has_ask = self.ask is not None and self.ask > 0
        prices = [self.ask] if has_ask else [self.bid, self.last]
        if has_ask and self.bid is not None and self.ask is not None and self.bid > self.ask:
            prices.append(self.bid)
        return any(p is not None and p >= trigger for p in prices)


@dataclass
class Snapshot:
    """The broker's state for one account at one moment."""

    positions: dict[str, Decimal]
    orders: list[dict[str, Any]]
    quotes: dict[str, Market]

    @property
    def working(self) -> list[dict[str, Any]]:
        return [o for o in self.orders if o['status'] in WORKING]


def snapshot(admin: Any, account: str) -> Snapshot:
    """Read positions, orders and quotes through the admin API."""
    state = admin.state()
    mine = next(a for a in state['accounts'] if a['account']['account-number'] == account)
    positions: dict[str, Decimal] = {}
    for position in mine['positions']:
        sign = -1 if position['quantity-direction'] == 'Short' else 1
        quantity = sign * D(str(position['quantity']))
        if quantity:
            positions[position['symbol']] = quantity
    quotes = {str(q['symbol']): Market.of(q) for q in _quotes(state)}
    return Snapshot(positions, list(admin.orders(account)), quotes)


def _quotes(state: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    raw = state.get('quotes', [])
    return raw.values() if isinstance(raw, dict) else raw


def tastyguard_requests(requests: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The requests tastyguard's client sent (by its User-Agent)."""
    return [r for r in requests if r.get('user-agent') == USER_AGENT]


def order_writes(requests: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """POST/PUT/PATCH/DELETE on orders (dry-runs excluded)."""
    return [
        r
        for r in requests
        if r['method'] in ('POST', 'PUT', 'PATCH', 'DELETE') and '/orders' in r['path'] and 'dry-run' not in r['path']
    ]


def _remaining(leg: Mapping[str, Any]) -> Decimal:
    return D(str(leg.get('remaining-quantity', leg.get('quantity', 0))))


def _waiting(order: Mapping[str, Any]) -> bool:
    tag = str(order.get('complex-order-tag') or '')
    return order['status'] == 'Contingent' and tag.startswith(('OTO::', 'OTOCO::'))


def closing_quantity(orders: Iterable[Mapping[str, Any]], symbol: str, long: bool) -> Decimal:
    """What may still fill on the closing side: OCO siblings and a replace pair once, waiting children never."""
    groups: dict[str, Decimal] = {}
    for order in orders:
        if order['status'] not in WORKING or _waiting(order):
            continue
        for leg in order['legs']:
            if leg['symbol'] != symbol or leg['action'] not in CLOSING[long]:
                continue
            tag = str(order.get('complex-order-tag') or '')
            if order.get('complex-order-id') and tag.startswith(('OCO::', 'OTOCO::oco')):
                key = f'oco:{order["complex-order-id"]}'
            else:
                key = f'replace:{order.get("replaces-order-id") or order["id"]}'
            groups[key] = max(groups.get(key, ZERO), _remaining(leg))
    return sum(groups.values(), ZERO)


def stop_coverage(orders: Iterable[Mapping[str, Any]], symbol: str, long: bool) -> Decimal:
    """Working closing stops that protect now (OCO siblings once, waiting children never)."""
    stops = [
        o for o in orders if o['order-type'] in ('Stop', 'Stop Limit') and o['status'] not in PENDING | {'Received'}
    ]
    return closing_quantity(stops, symbol, long)


def on_tick(price: Decimal) -> bool:
    """The standard US equity schedule: 0.0001 below one dollar, 0.01 from one dollar."""
    tick = D('0.0001') if price < 1 else D('0.01')
    return price % tick == 0


@dataclass
class Violations:
    """What went wrong, in sentences (empty: every invariant held)."""

    found: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.found.append(text)

    def __bool__(self) -> bool:
        return bool(self.found)


def check_writes(
    writes: Sequence[Mapping[str, Any]],
    before: Snapshot,
    theirs: set[int],
    *,
    kill_switch: bool,
    into: Violations,
) -> None:
    """Every write tastyguard sent in one run: to its own orders only, closing-only, strict, ``tg-``, on tick,
    on the right side of the position and of the market, and none at all with the kill switch on."""
    for write in writes:
        where = f'{write["method"]} {write["path"]}'
        if kill_switch:
            into.add(f'{where} sent while the kill switch was engaged')
        target = _ORDER_PATH.match(write['path'])
        if target is not None and int(target.group(1)) in theirs:
            into.add(f"{where}: a write to a person's order #{target.group(1)}")
        if write['method'] in ('POST', 'PUT') and (target is not None or _ORDERS.match(write['path'])):
            _check_body(write.get('body') or {}, before, where, into)


def _check_body(body: Mapping[str, Any], before: Snapshot, where: str, into: Violations) -> None:
    if not str(body.get('external-identifier') or '').startswith('tg-'):
        into.add(f'{where}: no tg- external identifier')
    if not str(body.get('source') or '').startswith('tastyguard/'):
        into.add(f'{where}: source is {body.get("source")!r}')
    advanced = body.get('advanced-instructions') or {}
    if advanced.get('strict-position-effect-validation') is not True:
        into.add(f'{where}: strict position effect validation is not on')
    for key in ('stop-trigger', 'price'):
        if body.get(key) is not None and not on_tick(D(str(body[key]))):
            into.add(f'{where}: {key} {body[key]} is off tick')
    for leg in body.get('legs') or []:
        symbol, action = leg['symbol'], leg['action']
        held = before.positions.get(symbol, ZERO)
        if action not in CLOSING[True] | CLOSING[False] or action in ('Buy', 'Sell'):
            into.add(f'{where}: {action} on {symbol} is not a closing action')
            continue
        if held == 0 or action not in CLOSING[held > 0]:
            into.add(f'{where}: {action} {leg.get("quantity")} {symbol} does not close the position {held}')
        elif D(str(leg.get('quantity') or 0)) > abs(held):
            into.add(f'{where}: {action} {leg.get("quantity")} {symbol} is larger than the position {held}')
        trigger = body.get('stop-trigger')
        market = before.quotes.get(symbol)
        if trigger is None or market is None:
            continue
        long = action.startswith('Sell')
        fires = market.triggers_sell_stop(D(str(trigger))) if long else market.triggers_buy_stop(D(str(trigger)))
        if fires:
            into.add(f'{where}: a stop at {trigger} on {symbol} triggers on arrival ({market})')


def check_closing_cap(after: Snapshot, ours: set[int], into: Violations) -> None:
    """No position has more working closing quantity than its size because of tastyguard."""
    for symbol in {leg['symbol'] for o in after.working for leg in o['legs']}:
        held = after.positions.get(symbol, ZERO)
        long = held > 0
        mine = [o for o in after.working if int(o['id']) in ours]
        own = closing_quantity(mine, symbol, long) if held else closing_quantity(mine, symbol, True)
        own += ZERO if held else closing_quantity(mine, symbol, False)
        if own == 0:
            continue
        total = closing_quantity(after.working, symbol, long)
        if held == 0:
            into.add(f'{symbol}: no position, but tastyguard still has {own} working closing quantity')
        elif total > abs(held):
            into.add(f'{symbol}: working closing quantity {total} on a position of {held} (tastyguard has {own})')


def check_covered(after: Snapshot, explained: set[str], protectable: Iterable[str], into: Violations) -> None:
    """After a quiet run each protectable position is covered exactly once, or an alert says why."""
    for symbol in protectable:
        held = after.positions.get(symbol, ZERO)
        if held == 0 or symbol in explained:
            continue
        covered = stop_coverage(after.working, symbol, held > 0)
        if covered != abs(held):
            into.add(f'{symbol}: position {held} covered by {covered} stop quantity and no alert says why')
