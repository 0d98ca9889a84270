"""Events that change positions without an order: expirations, assignments, exercises, splits.

``sync_positions`` and ``ensure_stops`` both call :func:`observe` on every positions read. When the change since
the last snapshot could be such an event (an option shrank or vanished, a stock or futures position appeared,
a stock position's quantity and price moved in opposite directions), one transactions read names it
(:mod:`tastyguard.jobs.recognition`); a failed read raises, so the cycle is skipped rather than an event missed.
A recognised event is remembered in the snapshot until ``ensure_stops`` has acted on it and :func:`announce`d
it, once, with what tastyguard did. Meanwhile:

* the positions it removed count as confirmed gone, so tastyguard's stops on them are cancelled on this read
  instead of after two (the transaction is the proof the two-read rule waits for);
* a delivered position without an average open price is planned from the delivery price (the strike), also
  after the announcement while the event is kept;
* a symbol-scoped run widens its scope to every position the event touched (:func:`touched`), so the message
  says what was done about each of them, never "no position left" for one it did not plan;
* a split keeps the person's "respect my cancel" for the position, moves the trailing high-water mark by the
  ratio, and makes the planner re-derive every pre-split stop of ours (:mod:`tastyguard.engine.corporate`);
* order changes it explains (our stop on an option that expired or was assigned ended with it) are folded into
  its message instead of being announced as separate surprises.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from tastyguard.calendar import NEW_YORK
from tastyguard.config.models import Severity
from tastyguard.engine.actions import CoverageStatus, Plan
from tastyguard.engine.corporate import Split, review
from tastyguard.engine.types import Holding, PlanInputs, WorkingOrder
from tastyguard.jobs import mapping, recognition
from tastyguard.jobs.changes import Changes
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.event_text import describe
from tastyguard.jobs.notices import action_line
from tastyguard.jobs.reading import AccountRead
from tastyguard.jobs.results import ActionResult
from tastyguard.notify.dedupe import AlertCandidate
from tastyguard.store.position_events import EventKind, PositionEvent
from tastyguard.store.snapshots import PositionSnapshot, SnapshotConflictError

logger = logging.getLogger('tastyguard.jobs')

LOOKBACK = timedelta(days=4)
"""How far before the last snapshot the transactions read starts (a weekend and a holiday)."""
EVENT_KINDS = frozenset(kind.value for kind in EventKind)
"""The alert kinds of event announcements (one-shot: sent once, never "waiting for you")."""
_SEVERITY = {
    EventKind.EXPIRATION: Severity.INFO,
    EventKind.CASH_SETTLEMENT: Severity.INFO,
    EventKind.ASSIGNMENT: Severity.WARNING,
    EventKind.EXERCISE: Severity.WARNING,
    EventKind.SPLIT: Severity.WARNING,
}
_WRITES = ('place', 'replace', 'cancel')
_FAILED = frozenset({'rejected', 'ambiguous', 'invalid', 'dry_run_rejected', 'not_cancelled', 'blocked', 'deferred'})
_FOLDED = frozenset({'expired', 'stop_cancelled', 'rejected'})


@dataclass(frozen=True)
class Observed:
    """The snapshot to continue with (events merged) and what this read recognised."""

    snapshot: PositionSnapshot
    recognised: tuple[PositionEvent, ...] = ()

    @property
    def explained(self) -> frozenset[str]:
        """Symbols whose change since the last read an event recognised now accounts for."""
        return frozenset(symbol for event in self.recognised for symbol in event.symbols)


def observe(ctx: JobContext, account: str, snapshot: PositionSnapshot, holdings: Sequence[Holding]) -> Observed:
    """Recognise the events behind the change from ``snapshot`` to ``holdings`` (see the module docstring)."""
    now = ctx.clock()
    events = [event for event in snapshot.events if not event.expired(now)]
    before = snapshot.by_symbol()
    current = {holding.symbol: holding for holding in holdings}
    found: list[PositionEvent] = []
    if snapshot.positions and recognition.needs_explaining(before, current):
        since = snapshot.taken_at.astimezone(NEW_YORK).date() - LOOKBACK
        rows = ctx.broker.transactions(account, start_date=since)
        known = {event.event_id for event in events}
        held = {symbol: position.quantity for symbol, position in before.items()}
        found = [
            event
            for event in recognition.from_transactions(rows, now, held)
            if event.event_id not in known and recognition.explains(event, before, current)
        ]
        excluded = {symbol for event in found for symbol in event.symbols}
        excluded |= recognition.traded_symbols(rows, snapshot.taken_at)
        found += [
            event
            for event in recognition.splits_from_positions(before, current, excluded, now)
            if event.event_id not in known
        ]
    if not found and len(events) == len(snapshot.events):
        return Observed(snapshot)
    updated = snapshot.model_copy(
        update={
            'events': [*events, *found],
            'human_cancels': _scaled_cancels(snapshot.human_cancels, found),
            'absent_counts': _confirmed_gone(snapshot.absent_counts, found, current),
        }
    )
    for event in found:
        logger.info('%s: recognised %s (%s)', account, event.kind, event.event_id)
        if event.kind is EventKind.SPLIT:
            _scale_high_water(ctx, account, event, current.get(event.symbol))
    return Observed(updated, tuple(found))


def _scaled_cancels(cancels: dict[str, Decimal], found: Iterable[PositionEvent]) -> dict[str, Decimal]:
    """A person's respected cancel survives a split: it was recorded at the old quantity."""
    scaled = dict(cancels)
    for event in found:
        if event.kind is EventKind.SPLIT and scaled.get(event.symbol) == event.quantity and event.new_quantity:
            scaled[event.new_symbol or event.symbol] = event.new_quantity  # an option's: the adjusted contract
            if event.new_symbol:
                del scaled[event.symbol]
    return scaled


def _confirmed_gone(
    counts: dict[str, int], found: Iterable[PositionEvent], current: dict[str, Holding]
) -> dict[str, int]:
    """Positions an event removed count as already absent once, so this read confirms them (two reads)."""
    confirmed = dict(counts)
    for event in found:
        for symbol in event.symbols:
            if symbol not in current:
                confirmed[symbol] = max(confirmed.get(symbol, 0), 1)
    return confirmed


def _scale_high_water(ctx: JobContext, account: str, event: PositionEvent, holding: Holding | None) -> None:
    """A trailing mark is a price: after a split it is the old mark ÷ the ratio (the gain stays trailed)."""
    ratio = event.ratio
    mark = ctx.stores.high_water.get(account, event.symbol)
    if mark is None or ratio is None or holding is None:
        return
    price = mark.price * Decimal(ratio.denominator) / Decimal(ratio.numerator)
    ctx.stores.high_water.clear(account, event.symbol)
    ctx.stores.high_water.raise_to(
        account, event.symbol, long=holding.is_long, price=price, open_price=holding.average_open_price
    )


def splits(snapshot: PositionSnapshot) -> list[Split]:
    """The stock splits still in force for the planner (an option's old contract is simply gone)."""
    return [
        Split(event.symbol, ratio, event.occurred_at)
        for event in snapshot.events
        if event.kind is EventKind.SPLIT and not option_split(event) and (ratio := event.ratio) is not None
    ]


def option_split(event: PositionEvent) -> bool:
    """A split event on an option contract (the old one closed, its adjusted contract opened)."""
    return event.kind is EventKind.SPLIT and mapping.option_details(event.symbol) is not None


def touched(snapshot: PositionSnapshot, holdings: Iterable[Holding], orders: Iterable[WorkingOrder]) -> set[str]:
    """Every symbol the events not yet announced touched: what a symbol-scoped run that announces them must plan.

    An event's own symbols (the option and what it delivered); for a split also every position and working order on
    the split stock (its options are adjusted with it, and orders on the old contracts are cancelled or kept).
    """
    pending = [event for event in snapshot.events if event.announced_at is None]
    symbols = {symbol for event in pending for symbol in event.symbols}
    split = {event.underlying_symbol for event in pending if event.kind is EventKind.SPLIT}
    if split:
        symbols |= {h.symbol for h in holdings if h.underlying_symbol in split or h.symbol in split}
        legs = {leg.symbol for order in orders for leg in order.legs}
        symbols |= {symbol for symbol in legs if symbol.split(maxsplit=1)[0] in split}
    return symbols


def with_delivery_basis(inputs: PlanInputs, snapshot: PositionSnapshot) -> PlanInputs:
    """Plan a delivered position that shows no average open price from its delivery price (never from zero).

    Also after the event is announced, while it is kept: every later run (the delivered stock's own fast-path
    run among them) must plan the position as the announcing run did, not from zero.
    """
    prices = {
        delivery.symbol: delivery.price
        for event in snapshot.events
        for delivery in event.deliveries
        if delivery.price > 0
    }
    if not prices:
        return inputs
    holdings = [
        replace(h, average_open_price=prices[h.symbol]) if h.symbol in prices and h.average_open_price <= 0 else h
        for h in inputs.holdings
    ]
    return replace(inputs, holdings=holdings)


def contract_ended(symbol: str, today: date, events: Iterable[PositionEvent]) -> bool:
    """An option whose expiration date has come, or that an event removed."""
    details = mapping.option_details(symbol)
    if details is not None and details.expiration <= today:
        return True
    return any(
        event.symbol == symbol and (event.kind is not EventKind.SPLIT or option_split(event)) for event in events
    )


def fold_order_changes(changes: Changes, events: Iterable[PositionEvent], today: date) -> list[str]:
    """Drop the order alerts an ended contract explains (its event's message covers them); return them."""
    known = list(events)
    folded: list[str] = []
    kept: list[AlertCandidate] = []
    for alert in changes.alerts:
        symbol = alert.symbol or ''
        person = alert.kind == 'stop_cancelled' and symbol in changes.person_cancels
        if alert.kind in _FOLDED and not person and contract_ended(symbol, today, known):
            folded.append(alert.message)
        else:
            kept.append(alert)
    if folded:
        changes.alerts[:] = kept
        changes.events[:] = [event for event in changes.events if event not in folded]
    return folded


def announce(
    ctx: JobContext,
    account: str,
    plan: Plan,
    read: AccountRead,
    rows: Sequence[ActionResult],
    snapshot: PositionSnapshot,
) -> list[AlertCandidate]:
    """One message per recognised event not yet announced, with what this run did about it; marks them announced.

    ``snapshot`` is the one this run saved (under the account lease no one else writes it meanwhile).
    """
    pending = [event for event in snapshot.events if event.announced_at is None]
    if not pending:
        return []
    ledger = ctx.stores.ledger.all(account)
    ours = frozenset(order.id for order in read.working if order.is_ours)
    candidates: list[AlertCandidate] = []
    for event in pending:
        lines = [describe(event)]
        lines += [
            _order_line(e.ours, e.order_type, e.order_id, e.status, e.terminal, old_contract=option_split(event))
            for e in sorted(ledger.values(), key=lambda e: e.order_id)
            if e.symbol == event.symbol and (event.kind is not EventKind.SPLIT or option_split(event))
        ]
        lines += _what_we_did(event, plan, rows, ours)
        lines += _review(event, read)
        severity = _SEVERITY[event.kind]
        if any(r.kind in _WRITES and r.result in _FAILED and r.symbol in event.symbols for r in rows):
            severity = Severity.CRITICAL
        candidates.append(
            AlertCandidate(
                f'event:{account}:{event.event_id}', event.kind.value, severity, '; '.join(lines), event.symbol
            )
        )
    _mark_announced(ctx, account, {event.event_id for event in pending})
    return candidates


def _order_line(ours: bool, order_type: str, order_id: int, status: str, terminal: bool, *, old_contract: bool) -> str:
    who = f"{'tastyguard' if ours else 'the person'}'s {order_type} #{order_id}"
    if old_contract:  # a split option: the broker cancels (or keeps) orders on the old contract
        return f'{who} on the old contract {"ended (" + status + ")" if terminal else "was still working on it"}'
    return f'{who} on it {"ended with it (" + status + ")" if terminal else "ends with the contract"}'


def _what_we_did(event: PositionEvent, plan: Plan, rows: Sequence[ActionResult], ours: frozenset[str]) -> list[str]:
    lines: list[str] = []
    split = [event.new_symbol or event.symbol] if event.kind is EventKind.SPLIT else []
    targets = [d.symbol for d in event.deliveries] + split
    writes = [r for r in rows if r.kind in _WRITES and r.symbol in event.symbols]
    lines += [f'tastyguard: {action_line(row)}' for row in writes]
    if event.kind is EventKind.SPLIT:  # a report on an order of ours: its adjusted stop kept (engine.corporate)
        kept = [r for r in rows if r.kind == 'report' and r.symbol == event.symbol and r.order_id in ours]
        lines += [f'tastyguard: {row.reason}' for row in kept]
    coverage = {cover.symbol: cover for cover in plan.coverage}
    for symbol in dict.fromkeys(targets):
        if any(r.symbol == symbol and r.kind == 'place' for r in writes):
            continue
        cover = coverage.get(symbol)
        if cover is None:
            lines.append(f'{symbol}: no position left')
        elif cover.status is CoverageStatus.PROTECTED:
            lines.append(
                f'{symbol} is protected ({cover.protected_after} of {abs(cover.quantity)} under working stops)'
            )
        else:
            reasons = [r.reason for r in rows if r.kind == 'alert' and r.symbol == symbol]
            why = f': {reasons[0]}' if reasons else ''
            lines.append(f'{symbol} is {cover.status.value.replace("_", " ")}{why}')
    return lines


def _review(event: PositionEvent, read: AccountRead) -> list[str]:
    ratio = event.ratio
    if event.kind is not EventKind.SPLIT or ratio is None or option_split(event):
        return []
    split = Split(event.symbol, ratio, event.occurred_at)
    holding = next((h for h in read.holdings if h.symbol == event.symbol), None)
    quote = read.quotes.get(event.symbol)
    found = [review(split, order, holding, quote) for order in read.working if not order.is_ours]
    return [f'needs you: {text}' for text in found if text]


def _mark_announced(ctx: JobContext, account: str, ids: set[str]) -> None:
    for _ in range(3):
        latest = ctx.stores.snapshots.latest(account)
        if latest is None:
            return
        now = ctx.clock()
        events = [e.model_copy(update={'announced_at': now}) if e.event_id in ids else e for e in latest.events]
        try:
            ctx.stores.snapshots.save(latest.model_copy(update={'events': events}))
            return
        except SnapshotConflictError:
            continue
    logger.warning('%s: could not mark %d events announced (snapshot kept changing)', account, len(ids))
