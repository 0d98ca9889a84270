"""Which ``tg-`` orders are still tastyguard's: an order is ours only while it is what tastyguard sent.

The ``tg-`` external identifier says who *created* an order, not who owns it now. tastytrade keeps the
external identifier when anyone edits an order (a replace, ``PUT`` or ``PATCH``, makes a new order that
inherits it), so a person who turns tastyguard's stop into a take-profit limit leaves an order that still
looks like ours. Treating it as ours would let tastyguard resize or cancel a person's order, or wait forever
for "its" order to become a stop again. The rules, in order:

1. The ledger already decided for this order id: a person's order stays the person's; ours stays ours only
   while its shape (type, trigger, limit, time in force, legs and their quantities) equals what tastyguard
   sent (:class:`~tastyguard.store.ledger.SentShape`), or as the broker adjusted it for a split (the same order,
   its quantity times the ratio of known splits, or its quantity times and its prices divided by one ratio). An
   entry from before shapes were kept adopts the order's current shape.
2. First sight of the order id: ours if an intent of ours created it (the intent's order id is this one, or
   it is still unresolved) and, when the intent's request can be read, the order still has its shape. An
   intent that created *another* order under this identifier means this one is a copy or a person's
   replacement: the person's.
3. No intent (intents expire after 30 days; the state table may be new): the person's if another order with
   this identifier is known or this order replaces one of ours; otherwise it is adopted as ours (an order of
   an earlier tastyguard installation, such as the paper broker's demo stops).

The verdicts go into the planner's view (:attr:`~tastyguard.engine.types.WorkingOrder.authored`) and the
ledger (``ours`` and ``sent``), so a disowned order is never touched again.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from tastyguard.broker import models as wire
from tastyguard.engine.corporate import Split
from tastyguard.engine.types import EQUITY_TICKS, OWN_PREFIX
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.recognition import MAX_RATIO_TERM
from tastyguard.store.intents import Intent, IntentOperation, IntentState
from tastyguard.store.ledger import LedgerEntry, SentLeg, SentShape
from tastyguard.ticks import tick_for

_ROUNDINGS = (ROUND_FLOOR, ROUND_CEILING)


def _adjusted_quantities(quantity: Decimal, ratios: Sequence[Decimal]) -> set[Decimal]:
    """Every quantity a broker can make of ``quantity`` by adjusting it for at least one of ``ratios`` (oldest
    first), rounding to whole units either way after each split it adjusts for: 1 share, 7:2 then 2:1, is 3
    then 6 (or 4 then 8), never the 7 of one rounding at the end."""
    untouched = {quantity}
    adjusted: set[Decimal] = set()
    for ratio in ratios:
        scaled = {q * ratio for q in untouched | adjusted}
        adjusted |= {q.to_integral_value(rounding=r) for q in scaled for r in _ROUNDINGS}
    return adjusted


def _tick(price: Decimal) -> Decimal:
    return tick_for(price, EQUITY_TICKS)  # splits adjust stock orders, priced on the equity schedule


def _ratios_between(before: Decimal, after: Decimal) -> list[Fraction]:
    """Every ratio ``a:b`` (terms at most :data:`MAX_RATIO_TERM`) that divides ``before`` into ``after``
    within one tick of rounding either way."""
    if before <= 0 or after <= 0:
        return []
    low = Fraction(before) / (Fraction(after) + Fraction(_tick(after)))
    high = Fraction(before) / max(Fraction(after) - Fraction(_tick(after)), Fraction(1, 10**6))
    found: list[Fraction] = []
    for old in range(1, MAX_RATIO_TERM + 1):
        first, last = math.ceil(low * old), math.floor(high * old)
        found += [Fraction(new, old) for new in range(max(first, 1), min(last, MAX_RATIO_TERM) + 1)]
    return sorted({r for r in found if r != 1})


def _split_signature(sent: SentShape, now: SentShape) -> bool:
    """An order changed as only a broker's split adjustment changes it, whether or not the split is known (a split
    on a symbol no longer held leaves no transaction): every price divided by one ratio ``a:b`` and every leg's
    quantity multiplied by it, rounded down to whole shares as FINRA Rule 5330 has it. A quantity must change
    too, so a person who only moves a trigger is never taken for a split (and rounding down only keeps a person
    who doubles a 1-share stop at some new trigger from passing as one)."""
    if all(b.quantity == a.quantity for b, a in zip(sent.legs, now.legs, strict=True)):
        return False
    pairs = [(b, a) for b, a in ((sent.stop_trigger, now.stop_trigger), (sent.price, now.price)) if b != a]
    if not pairs or any(b is None or a is None for b, a in pairs):
        return False
    before, after = pairs[0]
    assert before is not None and after is not None
    for ratio in _ratios_between(before, after):
        factor = Decimal(ratio.numerator) / Decimal(ratio.denominator)
        if all(a is not None and b is not None and abs(b / factor - a) <= _tick(a) for b, a in pairs[1:]) and all(
            x.quantity == (y.quantity * factor).to_integral_value(rounding=ROUND_FLOOR)
            for y, x in zip(sent.legs, now.legs, strict=True)
        ):
            return True
    return False


_CREATING = frozenset({IntentOperation.PLACE, IntentOperation.REPLACE})
_MAY_EXIST = frozenset({IntentState.SENT, IntentState.PENDING, IntentState.AMBIGUOUS})


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether one order is tastyguard's, the shape it was sent with, and why it is not (when it is not)."""

    ours: bool
    sent: SentShape | None = None
    why: str | None = None


PERSONS = Verdict(ours=False)


def has_own_prefix(order: wire.Order) -> bool:
    """The order carries a ``tg-`` external identifier (created by tastyguard, or inherited from it)."""
    return bool(order.external_identifier) and str(order.external_identifier).startswith(OWN_PREFIX)


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def shape_of(order: wire.Order) -> SentShape:
    """What an order at the broker looks like, in the terms tastyguard compares."""
    return SentShape(
        order_type=str(order.order_type),
        stop_trigger=order.stop_trigger,
        price=order.price,
        time_in_force=None if order.time_in_force is None else str(order.time_in_force),
        legs=tuple(
            SentLeg(symbol=leg.symbol, action=str(leg.action), quantity=leg.quantity or Decimal(0))
            for leg in order.legs
        ),
    )


def shape_of_request(request: Mapping[str, Any]) -> SentShape | None:
    """The shape of an order request as the intent log kept it (None when it cannot be read)."""
    legs = request.get('legs')
    if not isinstance(legs, list) or not legs or 'order-type' not in request:
        return None
    parsed: list[SentLeg] = []
    for leg in legs:
        quantity = _decimal(leg.get('quantity')) if isinstance(leg, dict) else None
        if quantity is None:
            return None
        parsed.append(SentLeg(symbol=str(leg.get('symbol')), action=str(leg.get('action')), quantity=quantity))
    return SentShape(
        order_type=str(request['order-type']),
        stop_trigger=_decimal(request.get('stop-trigger')),
        price=_decimal(request.get('price')),
        time_in_force=None if request.get('time-in-force') is None else str(request['time-in-force']),
        legs=tuple(parsed),
    )


def differences(sent: SentShape, now: SentShape) -> list[str]:
    """What a person changed, as short phrases (empty: nothing)."""
    changed: list[str] = []
    for name in ('order_type', 'stop_trigger', 'price', 'time_in_force'):
        before, after = getattr(sent, name), getattr(now, name)
        if before != after:
            changed.append(f'{name.replace("_", " ")} {before if before is not None else "-"} → {after}')
    if sent.legs != now.legs:
        changed.append('legs or quantity')
    return changed


class Ownership:
    """Verdicts for the orders of one read (intents are read at most once, and only when needed)."""

    def __init__(
        self,
        previous: Mapping[int, LedgerEntry],
        intents: Callable[[], Sequence[Intent]],
        splits: Mapping[str, Sequence[Decimal]] | None = None,
        everything: Callable[[], Mapping[int, LedgerEntry]] | None = None,
    ) -> None:
        self._previous = previous
        self._load_intents = intents
        self._splits = splits or {}
        self._everything = everything
        self._whole: Mapping[int, LedgerEntry] | None = None
        self._intents: dict[str, list[Intent]] | None = None
        self.verdicts: dict[int, Verdict] = {}

    def _split_adjusted(self, sent: SentShape, now: SentShape) -> bool:
        """The broker's own adjustment of a working order for a split (FINRA Rule 5330): the same order, its
        quantity multiplied by the ratio of some of the splits in force (rounded either way after each), or by the
        ratio its prices were divided by (:func:`_split_signature`), its type and time in force unchanged."""
        if (
            sent.order_type != now.order_type
            or sent.time_in_force != now.time_in_force
            or len(sent.legs) != len(now.legs)
        ):
            return False
        if any(b.symbol != a.symbol or b.action != a.action for b, a in zip(sent.legs, now.legs, strict=True)):
            return False
        known = all(
            after.quantity in _adjusted_quantities(before.quantity, self._splits.get(before.symbol, ()))
            for before, after in zip(sent.legs, now.legs, strict=True)
        )
        return known or _split_signature(sent, now)

    def _intents_for(self, key: str) -> list[Intent]:
        if self._intents is None:
            self._intents = {}
            for intent in self._load_intents():
                if intent.operation in _CREATING and intent.state in _MAY_EXIST:
                    self._intents.setdefault(intent.key, []).append(intent)
        return self._intents.get(key, [])

    def decide(self, orders: Sequence[wire.Order], others: Sequence[wire.Order] = ()) -> dict[int, Verdict]:
        """Verdicts for every order with an id (orders without a ``tg-`` identifier are the person's).

        ``others``: the rest of the same read, judged elsewhere but counted when looking for copies.
        """
        by_identifier: dict[str, set[int]] = {}
        for entry in self._previous.values():
            if entry.external_identifier:
                by_identifier.setdefault(entry.external_identifier, set()).add(entry.order_id)
        for order in (*orders, *others):
            if order.id is not None and order.external_identifier:
                by_identifier.setdefault(order.external_identifier, set()).add(order.id)
        for order in orders:
            if order.id is None:
                continue
            if not has_own_prefix(order):
                self.verdicts[order.id] = PERSONS
                continue
            self.verdicts[order.id] = self._decide(order, by_identifier)
        return self.verdicts

    def _decide(self, order: wire.Order, by_identifier: Mapping[str, set[int]]) -> Verdict:
        assert order.id is not None and order.external_identifier is not None
        now = shape_of(order)
        entry = self._previous.get(order.id)
        if entry is not None:
            if not entry.ours:
                if entry.sent is not None and self._split_adjusted(entry.sent, now):
                    return Verdict(ours=True, sent=now)  # judged before the split was known: the broker's doing
                return Verdict(ours=False, sent=entry.sent, why=entry.disowned_because)
            if entry.sent is None:
                return Verdict(ours=True, sent=now)
            changed = differences(entry.sent, now)
            if changed and self._split_adjusted(entry.sent, now):
                return Verdict(ours=True, sent=now)  # the broker adjusted it for a split: still ours
            if changed:
                return Verdict(
                    ours=False, sent=entry.sent, why=f'changed since tastyguard sent it ({"; ".join(changed)})'
                )
            return Verdict(ours=True, sent=entry.sent)
        intents = self._intents_for(order.external_identifier)
        for intent in intents:
            if intent.order_id == order.id or (intent.order_id is None and intent.state.unresolved):
                sent = shape_of_request(intent.request)
                changed = differences(sent, now) if sent is not None else []
                if changed:
                    return Verdict(ours=False, why=f'changed since tastyguard sent it ({"; ".join(changed)})')
                return Verdict(ours=True, sent=sent or now)
        if intents:
            return Verdict(ours=False, why="a copy or a person's replacement of tastyguard's order")
        replaced = self._previous.get(order.replaces_order_id) if order.replaces_order_id is not None else None
        if replaced is not None and replaced.ours:
            return Verdict(ours=False, why=f"a person's replacement of tastyguard's order #{replaced.order_id}")
        if len(by_identifier.get(order.external_identifier, set())) > 1 or self._known_elsewhere(order):
            return Verdict(ours=False, why="a copy or a person's replacement of tastyguard's order")
        return Verdict(ours=True, sent=now)

    def _known_elsewhere(self, order: wire.Order) -> bool:
        """Another order with this identifier in the whole ledger (read only when the caller passed part of it
        and an order of unknown origin needs it: rare, so a run normally reads just the entries it judges)."""
        if self._everything is None:
            return False
        if self._whole is None:
            self._whole = self._everything()
        return any(
            entry.external_identifier == order.external_identifier and entry.order_id != order.id
            for entry in self._whole.values()
        )


def decide(
    orders: Sequence[wire.Order],
    previous: Mapping[int, LedgerEntry],
    intents: Callable[[], Sequence[Intent]],
    splits: Mapping[str, Sequence[Decimal]] | None = None,
    *,
    others: Sequence[wire.Order] = (),
    everything: Callable[[], Mapping[int, LedgerEntry]] | None = None,
) -> dict[int, Verdict]:
    """Verdicts for ``orders`` (see the module docstring); ``splits``: symbol → the ratios of its splits in force.

    ``previous`` may be the entries of ``orders`` only (and of the orders they replace): then ``others`` are the
    rest of the read and ``everything`` reads the whole ledger, for the rare order whose origin only it can tell.
    """
    return Ownership(previous, intents, splits, everything).decide(orders, others)


def is_ours(order: wire.Order, verdicts: Mapping[int, Verdict]) -> bool:
    """True when ``order`` is tastyguard's by its verdict (an order without one: by its identifier)."""
    verdict = verdicts.get(order.id) if order.id is not None else None
    return verdict.ours if verdict is not None else has_own_prefix(order)


def lazy_intents(ctx: JobContext, account: str) -> Callable[[], Sequence[Intent]]:
    """The account's intents, read from the store on first call and then reused (one query per run)."""
    loaded: list[Sequence[Intent]] = []

    def load() -> Sequence[Intent]:
        if not loaded:
            loaded.append(ctx.stores.intents.all(account))
        return loaded[0]

    return load


def split_factors(splits: Iterable[Split]) -> dict[str, list[Decimal]]:
    """Symbol → the ratios of the splits in force, oldest first (for :func:`decide`)."""
    factors: dict[str, list[Decimal]] = {}
    for split in sorted(splits, key=lambda s: s.effective_at):
        factors.setdefault(split.symbol, []).append(split.factor)
    return factors
