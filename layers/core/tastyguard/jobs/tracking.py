"""Bookkeeping between runs: absent positions, the order ledger, and stops a person cancelled."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from decimal import Decimal

from tastyguard.broker import models as wire
from tastyguard.engine.types import Holding
from tastyguard.jobs.ownership import Verdict, has_own_prefix, is_ours, shape_of
from tastyguard.store.highwater import HighWaterStore
from tastyguard.store.ledger import LedgerEntry, OrderLedger
from tastyguard.store.snapshots import HeldPosition, PositionSnapshot

WORKING = frozenset({'Received', 'Routed', 'In Flight', 'Live', 'Contingent', 'Cancel Requested', 'Replace Requested'})
TERMINAL = frozenset({'Filled', 'Cancelled', 'Expired', 'Rejected', 'Removed', 'Partially Removed'})


def own_working_symbols(orders: Iterable[wire.Order], verdicts: Mapping[int, Verdict]) -> set[str]:
    """Symbols that have one of tastyguard's orders still working."""
    return {
        leg.symbol
        for order in orders
        if is_ours(order, verdicts) and str(order.status) in WORKING
        for leg in order.legs
    }


def next_absent_counts(previous: Mapping[str, int], watched: Iterable[str], held: Iterable[str]) -> dict[str, int]:
    """One more read: a watched symbol without a position counts up, anything else is forgotten."""
    present = set(held)
    return {symbol: previous.get(symbol, 0) + 1 for symbol in set(watched) if symbol not in present}


def fills(order: wire.Order) -> tuple[Decimal, Decimal | None]:
    """The quantity filled so far across every leg, and its average price (None before any fill)."""
    quantity = sum((fill.quantity for leg in order.legs for fill in leg.fills), Decimal(0))
    value = sum((fill.quantity * fill.fill_price for leg in order.legs for fill in leg.fills), Decimal(0))
    return quantity, (value / quantity if quantity else None)


def _state(order: wire.Order) -> str | None:
    """What the ledger records of ``order`` that can change, in one short string (None: no id or no time)."""
    if order.id is None or not order.legs or not order.updated_at:
        return None
    filled, _ = fills(order)
    return f'{int(order.updated_at)}/{order.status}/{filled}'


def orders_seen(orders: Iterable[wire.Order], verdicts: Mapping[int, Verdict]) -> dict[int, str]:
    """The digest a run stores with its snapshot once the ledger holds every order of its read."""
    digest: dict[int, str] = {}
    for order in orders:
        state = _state(order)
        if state is not None and order.id is not None:
            digest[order.id] = f'{state}/{"ours" if is_ours(order, verdicts) else "theirs"}'
    return digest


def settled_orders(
    orders: Iterable[wire.Order], digest: Mapping[int, str], split_symbols: Collection[str] = ()
) -> tuple[list[wire.Order], dict[int, Verdict]]:
    """A read split into the orders to judge against the ledger, and the verdicts of the rest.

    The rest are the orders exactly as the last run recorded them (same update time, status and filled
    quantity): no transition can be reported for them, their ledger entries would not change, and their
    ownership cannot change either (it depends on the order, its entry and the splits in force, and an order
    with an entry never asks the intents again), so reading their entries back would only cost time. They keep
    the verdict the digest recorded. Orders on a symbol with a split in force are always judged: a split that
    became known since can make the broker's adjustment of our order ours again.
    """
    judge: list[wire.Order] = []
    settled: dict[int, Verdict] = {}
    splits = frozenset(split_symbols)
    for order in orders:
        state = _state(order)
        recorded = digest.get(order.id) if order.id is not None else None
        if (
            order.id is not None
            and state is not None
            and recorded is not None
            and recorded.rsplit('/', 1)[0] == state
            and not any(leg.symbol in splits for leg in order.legs)
        ):
            settled[order.id] = Verdict(ours=recorded.endswith('/ours'))
        else:
            judge.append(order)
    return judge, settled


def entries_to_read(orders: Iterable[wire.Order]) -> set[int]:
    """The ledger entries judging ``orders`` needs: theirs, and those of the orders they replace."""
    wanted: set[int] = set()
    for order in orders:
        if order.id is not None:
            wanted.add(order.id)
        if order.replaces_order_id is not None:
            wanted.add(order.replaces_order_id)
    return wanted


def ledger_entry(
    order: wire.Order, previous: LedgerEntry | None, now: datetime, verdict: Verdict | None = None
) -> LedgerEntry:
    """The ledger's view of ``order`` as just read (``verdict``: its ownership; default by its identifier)."""
    if verdict is None:
        verdict = Verdict(ours=has_own_prefix(order), sent=shape_of(order) if has_own_prefix(order) else None)
    leg = order.legs[0]
    quantity = leg.quantity if leg.quantity is not None else Decimal(0)
    remaining = leg.remaining_quantity if leg.remaining_quantity is not None else quantity
    status = str(order.status)
    return LedgerEntry(
        account=order.account_number,
        order_id=int(order.id or 0),
        status=status,
        ours=verdict.ours,
        sent=verdict.sent,
        disowned_because=None if verdict.ours else verdict.why,
        symbol=leg.symbol,
        underlying_symbol=order.underlying_symbol,
        order_type=str(order.order_type),
        action=str(leg.action),
        quantity=quantity,
        remaining_quantity=remaining,
        filled_quantity=fills(order)[0],
        stop_trigger=order.stop_trigger,
        price=order.price,
        time_in_force=None if order.time_in_force is None else str(order.time_in_force),
        external_identifier=order.external_identifier,
        complex_order_id=order.complex_order_id,
        replaces_order_id=order.replaces_order_id,
        replacing_order_id=order.replacing_order_id,
        cancelled_by=order.cancel_user_id,
        reject_reason=order.reject_reason,
        updated_at_ms=int(order.updated_at or 0),
        terminal=status in TERMINAL,
        closed_by_intent=previous.closed_by_intent if previous else None,
        first_seen=previous.first_seen if previous else now,
        last_seen=now,
    )


def changed_entries(
    orders: Iterable[wire.Order],
    previous: Mapping[int, LedgerEntry],
    now: datetime,
    verdicts: Mapping[int, Verdict] | None = None,
) -> list[LedgerEntry]:
    """Ledger entries for the orders that are new or changed since the last run (or whose owner changed)."""
    entries: list[LedgerEntry] = []
    for order in orders:
        if order.id is None or not order.legs:
            continue
        before = previous.get(order.id)
        verdict = (verdicts or {}).get(order.id)
        if (
            before is not None
            and before.updated_at_ms == int(order.updated_at or 0)
            and before.status == str(order.status)
            and (verdict is None or (verdict.ours == before.ours and (not verdict.ours or before.sent is not None)))
        ):
            continue
        entries.append(ledger_entry(order, before, now, verdict))
    return entries


def remember_writes(
    ledger: OrderLedger,
    account: str,
    touched: Iterable[wire.Order],
    now: datetime,
    replaced: Mapping[int, str] | None = None,
) -> None:
    """Ledger entries for the orders a run's writes created, replaced or cancelled.

    ``replaced``: order id → the key of tastyguard's replace intent sent for it; kept on the replaced order's
    entry, so when the next run sees it cancelled, attributing the cancel reads that one intent.
    Reads back only those orders' entries (not the account's whole ledger), so what a fill's stop costs does
    not grow with the orders the account has seen.
    """
    orders = list(touched)
    targets = dict(replaced or {})
    previous = ledger.some(account, {*(order.id for order in orders if order.id is not None), *targets})
    entries = changed_entries(orders, previous, now)
    for order_id, key in targets.items():
        before = previous.get(order_id)
        if before is not None and before.closed_by_intent != key:
            entries.append(before.model_copy(update={'closed_by_intent': key}))
    ledger.save(entries)


def prune_human_cancels(recorded: Mapping[str, Decimal], holdings: Iterable[Holding]) -> dict[str, Decimal]:
    """Keep a person's cancel only while its position is unchanged (a trade means: protect again)."""
    quantities = {holding.symbol: holding.quantity for holding in holdings}
    return {symbol: qty for symbol, qty in recorded.items() if quantities.get(symbol) == qty}


def next_snapshot(
    base: PositionSnapshot,
    holdings: Iterable[Holding],
    *,
    taken_at: datetime,
    absent: Mapping[str, int],
    human_cancels: Mapping[str, Decimal],
    seen: Mapping[int, str] | None = None,
) -> PositionSnapshot:
    """``base`` updated with a new positions read (saved over ``base``'s version)."""
    return base.model_copy(
        update={
            'taken_at': taken_at,
            'positions': [
                HeldPosition(
                    symbol=h.symbol,
                    instrument_type=h.instrument_type.value,
                    underlying_symbol=h.underlying_symbol,
                    quantity=h.quantity,
                    average_open_price=h.average_open_price,
                    multiplier=h.multiplier,
                )
                for h in holdings
            ],
            'absent_counts': dict(absent),
            'human_cancels': dict(human_cancels),
            'orders_seen': dict(base.orders_seen if seen is None else seen),
        }
    )


def forget_closed(marks: HighWaterStore, account: str, previous: PositionSnapshot, holdings: Iterable[Holding]) -> None:
    """Clear the trailing marks of positions that closed since ``previous`` (whichever job sees it first)."""
    held = {holding.symbol: holding for holding in holdings}
    for position in previous.positions:
        now = held.get(position.symbol)
        if now is None or (now.quantity > 0) != (position.quantity > 0):
            marks.clear(account, position.symbol)
