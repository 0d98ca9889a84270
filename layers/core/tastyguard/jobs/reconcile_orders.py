"""``reconcile_orders``: compare the broker's orders with the ledger, classify what changed, fix what is safe.

What it notices, per order since the last run: fills and partial fills, cancels (and by whom: tastyguard,
a person, or the broker), rejections, expirations, and tastyguard stop-limits that triggered but did not
fill. Orders that dropped off ``/orders/live`` are looked up one by one (a bounded number per run).

What it fixes itself: ambiguous writes are settled by looking them up, and when one of tastyguard's stops
ended without a fill and without a person's hand (the broker cancelled, rejected or expired it), the
account's protection is re-planned and applied right away under the same lease (``ensure_stops``). Everything
else is reported: a person's cancel is remembered and respected per ``on_human_cancel``. An order that ended
with its contract (our stop on an option that expired or was assigned) is not announced on its own: the
event's message names it (:mod:`tastyguard.jobs.overnight`).
"""

from __future__ import annotations

from collections.abc import Mapping

from tastyguard.broker import models as wire
from tastyguard.broker.errors import BrokerError, NotFoundError
from tastyguard.calendar import NEW_YORK
from tastyguard.config.models import Severity
from tastyguard.jobs import mapping, overnight, ownership, tracking
from tastyguard.jobs.changes import Changes, classify, describe
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.ensure_stops import ensure_stops
from tastyguard.jobs.executor import resolve_intents
from tastyguard.jobs.invocation import JobInvocation
from tastyguard.jobs.outcome import Outcome
from tastyguard.jobs.ownership import Verdict, is_ours
from tastyguard.jobs.reading import quotes_for
from tastyguard.store.ledger import LedgerEntry
from tastyguard.store.snapshots import PositionSnapshot

ALERT_KINDS = frozenset(
    {'stop_filled', 'partial_fill', 'stop_cancelled', 'stop_edited', 'rejected', 'expired', 'triggered_unfilled'}
)
MAX_LOOKUPS = 25
"""Orders looked up one by one per run (the rest wait for the next run)."""


def _triggered_unfilled(
    ctx: JobContext, changes: Changes, orders: list[wire.Order], owners: Mapping[int, Verdict]
) -> None:
    """tastyguard stop-limits whose trigger the market crossed while the order still works."""
    stop_limits = [
        o for o in orders if is_ours(o, owners) and str(o.order_type) == 'Stop Limit' and str(o.status) == 'Live'
    ]
    if not stop_limits:
        return
    pairs = [(o.legs[0].symbol, mapping.instrument_type(o.legs[0].instrument_type)) for o in stop_limits]
    quotes, _ = quotes_for(ctx.broker, pairs)
    for order in stop_limits:
        quote = quotes.get(order.legs[0].symbol)
        if quote is None or order.stop_trigger is None:
            continue
        selling = str(order.legs[0].action).startswith('Sell')
        market = quote.bid if selling else quote.ask
        if market is None:
            continue
        crossed = market <= order.stop_trigger if selling else market >= order.stop_trigger
        if crossed:
            changes.add(
                'triggered_unfilled',
                Severity.CRITICAL,
                order,
                f'triggered but not filled (market {market}, limit {order.price}): {describe(order, owners)} — '
                'the position may be unprotected; tastyguard never sends a market exit on its own',
            )


def reconcile_orders(
    ctx: JobContext, invocation: JobInvocation, account: str, run_id: str, outcome: Outcome
) -> Outcome:
    """Classify, fix the safe cases, report the rest (see the module docstring)."""
    _, notes = resolve_intents(ctx, account)
    outcome.notes.extend(notes)
    orders = ctx.broker.live_orders(account)
    previous = ctx.stores.ledger.all(account)
    seen = {order.id for order in orders}
    missing = [e for e in previous.values() if not e.terminal and e.order_id not in seen][:MAX_LOOKUPS]
    gone: list[LedgerEntry] = []
    for entry in missing:
        try:
            orders.append(ctx.broker.get_order(account, entry.order_id))
        except NotFoundError:
            gone.append(entry.model_copy(update={'terminal': True, 'status': 'Unknown', 'last_seen': ctx.clock()}))
        except BrokerError as error:
            outcome.notes.append(f'order {entry.order_id}: lookup failed ({error}); next run tries again')
    intents = ownership.lazy_intents(ctx, account)
    latest = ctx.stores.snapshots.latest(account)
    splits = ownership.split_factors(overnight.splits(latest)) if latest else {}
    owners = ownership.decide(orders, previous, intents, splits)
    changes = classify(
        account, orders, previous, intents, ctx.clock(), owners, lambda key: ctx.stores.intents.get(account, key)
    )
    _triggered_unfilled(ctx, changes, orders, owners)
    ctx.stores.ledger.save([*tracking.changed_entries(orders, previous, ctx.clock(), owners), *gone])
    if changes.person_cancels:
        _remember_person_cancels(ctx, account, changes.person_cancels)
    if changes.reprotect:
        outcome.notes.append("re-planned protection after the broker ended one of tastyguard's stops")
        ensure_stops(ctx, invocation, account, run_id, outcome)
    # After the re-plan, which recognises the expirations and assignments behind ended orders: fold those in.
    snapshot = ctx.stores.snapshots.latest(account)
    today = ctx.clock().astimezone(NEW_YORK).date()
    for text in overnight.fold_order_changes(changes, snapshot.events if snapshot else (), today):
        outcome.notes.append(f'{text} (the contract ended: told with its expiration or assignment)')
    outcome.alerts.extend(changes.alerts)
    outcome.events.extend(changes.events)
    return outcome


def _remember_person_cancels(ctx: JobContext, account: str, cancels: dict[str, str]) -> None:
    snapshot = ctx.stores.snapshots.latest(account) or PositionSnapshot(account=account, taken_at=ctx.clock())
    quantities = snapshot.by_symbol()
    recorded = dict(snapshot.human_cancels)
    for symbol in cancels:
        if symbol in quantities:
            recorded[symbol] = quantities[symbol].quantity
    ctx.stores.snapshots.save(snapshot.model_copy(update={'human_cancels': recorded}))
