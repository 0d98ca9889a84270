"""What changed at the broker since the ledger last saw each order: fills, partial fills, cancels (and by
whom), rejections, expirations.

Both ``ensure_stops`` and ``reconcile_orders`` read the live orders and move the ledger forward, so both
classify the transitions they consume with this one function; whichever runs first reports a change, and
the alerts' keys (per order) keep the other from repeating it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from tastyguard.broker import models as wire
from tastyguard.config.models import Severity
from tastyguard.jobs import tracking
from tastyguard.jobs.ownership import Verdict, is_ours
from tastyguard.notify.dedupe import AlertCandidate
from tastyguard.store.intents import Intent, IntentOperation, IntentState
from tastyguard.store.ledger import LedgerEntry

_COUNTED = frozenset({IntentState.SENT, IntentState.PENDING, IntentState.AMBIGUOUS})
"""Intents that may have changed an order: a refused or never-sent one did not."""


@dataclass
class Changes:
    """The classified transitions of one read of ``account``."""

    account: str
    alerts: list[AlertCandidate] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    person_cancels: dict[str, str] = field(default_factory=dict)  # symbol → what was cancelled
    reprotect: bool = False  # the broker ended one of our stops without a fill and without a person

    def add(self, kind: str, severity: Severity, order: wire.Order, text: str) -> None:
        """One event, keyed by the order so it is announced once."""
        key = f'{kind}:{self.account}:{order.id}'
        self.alerts.append(AlertCandidate(key, kind, severity, text, order.legs[0].symbol))
        self.events.append(text)


def describe(order: wire.Order, verdicts: Mapping[int, Verdict] | None = None) -> str:
    """``tastyguard Stop Sell to Close 100 AAPL @ 160.65 (order 100008)``."""
    leg = order.legs[0]
    trigger = f' @ {order.stop_trigger}' if order.stop_trigger is not None else ''
    owner = 'tastyguard' if is_ours(order, verdicts or {}) else "the person's"
    return f'{owner} {order.order_type} {leg.action} {leg.quantity} {leg.symbol}{trigger} (order {order.id})'


def cancelled_by(order: wire.Order, intents: Iterable[Intent]) -> str:
    """Who cancelled ``order``: ``tastyguard``, ``person`` or ``broker``.

    Only tastyguard's own cancel or replace that may really have happened counts (a refused or never-sent
    one does not), and a replacement counts only if it is the one our replace intent created; a person's
    edit of our stop is a person's cancel.
    """
    for intent in intents:
        if intent.target_order_id != order.id or intent.state not in _COUNTED:
            continue
        if intent.operation is IntentOperation.CANCEL:
            return 'tastyguard'
        if intent.operation is IntentOperation.REPLACE and (
            order.replacing_order_id is None or intent.order_id in (None, order.replacing_order_id)
        ):
            return 'tastyguard'
    if order.cancel_user_id or order.replacing_order_id is not None:
        return 'person'
    return 'broker'


def _who_cancelled(
    order: wire.Order,
    before: LedgerEntry,
    intent: Callable[[str], Intent | None] | None,
    intents: Callable[[], Sequence[Intent]],
    known: list[Sequence[Intent]],
) -> str:
    """:func:`cancelled_by`, from the one replace intent the ledger names when it settles it, else from all."""
    if before.closed_by_intent and intent is not None:
        named = intent(before.closed_by_intent)
        if named is not None and cancelled_by(order, [named]) == 'tastyguard':
            return 'tastyguard'
    if not known:
        known.append(intents())
    return cancelled_by(order, known[0])


def _baseline(order: wire.Order, previous: Mapping[int, LedgerEntry], now: datetime, ours: bool) -> LedgerEntry | None:
    """What the ledger knew; a first-seen order of ours that already ended is compared with "just sent"."""
    before = previous.get(int(order.id or 0))
    if before is None and ours and str(order.status) in ('Rejected', 'Expired'):
        return tracking.ledger_entry(order, None, now).model_copy(update={'status': 'Received', 'terminal': False})
    return before


def _cancelled(changes: Changes, order: wire.Order, what: str, who: str) -> None:
    """One of our orders ended as cancelled: by a person (a cancel or an edit), the broker, or us."""
    if who == 'person':
        changes.person_cancels[order.legs[0].symbol] = what
        if order.replacing_order_id is not None:
            text = f'a person edited {what}: it is now their order #{order.replacing_order_id}, which tastyguard '
            changes.add('stop_cancelled', Severity.WARNING, order, text + 'counts but never touches')
        else:
            changes.add('stop_cancelled', Severity.WARNING, order, f'a person cancelled {what}')
    elif who == 'broker':
        changes.reprotect = True
        changes.add('stop_cancelled', Severity.WARNING, order, f'the broker cancelled {what}; re-protecting')


def classify(
    account: str,
    orders: Sequence[wire.Order],
    previous: Mapping[int, LedgerEntry],
    intents: Callable[[], Sequence[Intent]],
    now: datetime,
    verdicts: Mapping[int, Verdict] | None = None,
    intent: Callable[[str], Intent | None] | None = None,
) -> Changes:
    """Every transition between ``previous`` (the ledger) and ``orders`` (just read).

    ``intents`` is called (once) only when a cancel needs attributing: reading every intent costs a query.
    ``intent`` reads one intent by key: a cancel that the ledger says tastyguard's replace was sent for is
    attributed from that intent alone when it counts (the resize of a stop at each fill then costs no query).
    ``verdicts`` are the ownership verdicts of this read (:mod:`tastyguard.jobs.ownership`): an order is
    reported as tastyguard's only while it is.
    """
    owners = verdicts or {}
    changes = Changes(account)
    known: list[Sequence[Intent]] = []
    for order in orders:
        if order.id is None or not order.legs:
            continue
        status, ours = str(order.status), is_ours(order, owners)
        before = _baseline(order, previous, now, ours)
        if before is None:
            continue
        filled, price = tracking.fills(order)
        what = describe(order, owners)
        at = f' at {price:.4f}'.rstrip('0').rstrip('.') if price is not None else ''
        if before.ours and not ours and status in tracking.WORKING:
            why = (owners[order.id].why if order.id in owners else None) or 'changed since tastyguard sent it'
            changes.person_cancels[order.legs[0].symbol] = what
            text = f"a person changed tastyguard's order {order.id} ({why}): {what} is theirs now; "
            changes.add('stop_edited', Severity.WARNING, order, text + 'tastyguard counts it but never touches it')
        elif status == 'Filled' and before.status != 'Filled':
            changes.add('stop_filled', Severity.WARNING if ours else Severity.INFO, order, f'filled{at}: {what}')
        elif filled > before.filled_quantity and status in tracking.WORKING:
            changes.add('partial_fill', Severity.WARNING, order, f'partially filled ({filled} so far){at}: {what}')
        elif status == 'Cancelled' and before.status != 'Cancelled' and ours:
            _cancelled(changes, order, what, _who_cancelled(order, before, intent, intents, known))
        elif status == 'Rejected' and before.status != 'Rejected' and ours:
            changes.reprotect = True
            reason = f': {order.reject_reason}' if order.reject_reason else ''
            changes.add('rejected', Severity.CRITICAL, order, f'the broker rejected {what}{reason}')
        elif status == 'Expired' and before.status != 'Expired' and ours:
            changes.reprotect = True
            changes.add('expired', Severity.WARNING, order, f'{what} expired; re-protecting')
    return changes
