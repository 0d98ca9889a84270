"""Applying a plan at the broker, per mode, with an intent recorded before every write.

* ``observe``: nothing is sent; every write is reported as planned.
* ``shadow``: every intended order is dry-run at the broker (``/orders/dry-run``); the result is what live
  mode would have done. Nothing is submitted.
* ``live``: writes pass the gate (kill switch, circuit breaker), are recorded as intents, then sent.

An ambiguous write (timeout, dropped connection, 5xx) is looked up by its external identifier at once; if
the broker does not show it yet, its group gets no further writes this run and the next run resolves the
intent before anything is sent again. A retry of the same run derives the same identifiers, finds the
intents it already wrote, and never sends twice.

Writes are grouped by the quantity they cover, not by the symbol they are planned under: a structure stop
(planned under the underlying's name) shares a group with the cancel of a single-leg stop on any of its legs.
A group's writes pass the circuit breaker together at the first one, and a write that did not go through
(an unresolved or refused cancel, an ambiguous place) holds back the rest of its group.

tastytrade answers a cancel with ``Cancel Requested``, and a fill can still win until the cancel is confirmed.
When a later write of the group needs the quantity the cancel frees, the order is read again a few times over
a bounded wait: confirmed cancelled, the group goes on; filled, or still pending, the rest of the group waits
for the next run (which plans again from what the broker then holds).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import Decimal

from tastyguard.broker import builders
from tastyguard.broker import models as wire
from tastyguard.broker.errors import AmbiguousOrderError, BrokerError, OrderRejectedError, ReauthorizationRequired
from tastyguard.broker.orders_api import new_york_today
from tastyguard.config.models import Mode
from tastyguard.engine.actions import Action, Alert, CancelOrder, PlaceStop, Plan, ReplaceStop, Report, StopSpec
from tastyguard.engine.types import OrderType
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.gate import WriteGate
from tastyguard.jobs.orders import new_order
from tastyguard.jobs.reading import AccountRead
from tastyguard.jobs.results import ActionResult
from tastyguard.jobs.tracking import TERMINAL
from tastyguard.store.intents import Intent, IntentOperation, IntentState
from tastyguard.ticks import TickLike

logger = logging.getLogger('tastyguard.jobs')

CANCEL_CONFIRM_WAITS = (0.0, 0.25, 0.5, 1.0)
"""Seconds before each read of an order whose cancel was only requested, while a later write of its group waits
for the quantity it frees (1.75 s in all)."""
CANCEL_WAIT_BUDGET = 10.0
"""Seconds one run may spend waiting for cancels; past it a requested cancel holds its group back at once (a plan
with many of them must not run into the function's timeout)."""
_UNRESOLVED = 'an earlier order write for this symbol is still unresolved at the broker'


def describe(action: Action) -> ActionResult:
    """An action as a result row, before anything happened."""
    if isinstance(action, PlaceStop | ReplaceStop):
        spec = action.spec
        return ActionResult(
            kind='place' if isinstance(action, PlaceStop) else 'replace',
            symbol=action.symbol,
            quantity=spec.quantity,
            stop_trigger=None if spec.order_type is OrderType.LIMIT else spec.stop_trigger,
            limit_price=spec.limit_price,
            order_type=spec.order_type.value,
            action=spec.legs[0].action.value,
            reason=action.reason,
            result='planned',
            order_id=action.order_id if isinstance(action, ReplaceStop) else None,
            external_identifier=spec.external_identifier,
        )
    if isinstance(action, CancelOrder):
        return ActionResult(
            kind='cancel', symbol=action.symbol, reason=action.reason, result='planned', order_id=action.order_id
        )
    if isinstance(action, Alert):
        return ActionResult(
            kind='alert',
            symbol=action.symbol,
            reason=action.reason,
            result='raised',
            severity=action.severity.value,
            alert=action.kind.value,
        )
    return ActionResult(
        kind='report', symbol=action.symbol, reason=action.reason, result='left alone', order_id=action.order_id
    )


def _done(row: ActionResult, result: str, *, detail: str | None = None, order_id: str | None = None) -> ActionResult:
    update: dict[str, object] = {'result': result}
    if detail is not None:
        update['detail'] = detail
    if order_id is not None:
        update['order_id'] = order_id
    return row.model_copy(update=update)


class Executor:
    """Applies one account's plan in one run."""

    def __init__(
        self, ctx: JobContext, account: str, *, mode: Mode, run_id: str, read: AccountRead, blocked: set[str]
    ) -> None:
        self._ctx = ctx
        self._account = account
        self.mode = mode
        self._run_id = run_id
        self._read = read
        self.blocked = blocked
        self.gate = WriteGate(ctx, account, mode)
        self.touched: list[wire.Order] = []  # orders the broker returned for this run's writes (for the ledger)
        self.replaced: dict[int, str] = {}  # order id → the key of the replace intent sent for it (for the ledger)
        self._groups: dict[str, frozenset[str]] = {}  # symbol → every symbol whose writes cover the same quantity
        self._planned: dict[str, Counter[str]] = {}  # writes per group (and symbol) in this plan, not yet admitted
        # per group: the writes the breaker already counted and that are not sent yet, and the window they count in
        self._unsent: dict[str, tuple[Counter[str], int]] = {}
        self._relied_on: set[str] = set()  # cancels whose freed quantity a later write of the plan needs
        self._held_back: dict[str, str] = {}  # symbol → why the rest of its group waits for the next run
        self._waited = 0.0  # seconds this run spent waiting for requested cancels

    def execute(self, plan: Plan, into: list[ActionResult]) -> list[ActionResult]:
        """Apply ``plan``, appending each action's outcome to ``into`` as it happens (so a crash keeps them)."""
        writes = plan.writes
        self._groups = self._group(writes)
        self._planned = {}
        for write in writes:
            self._planned.setdefault(self._key(write.symbol), Counter())[write.symbol] += 1
        self._relied_on = {
            write.order_id
            for index, write in enumerate(writes)
            if isinstance(write, CancelOrder)
            and any(
                isinstance(later, PlaceStop | ReplaceStop) and self._key(later.symbol) == self._key(write.symbol)
                for later in writes[index + 1 :]
            )
        }
        try:
            for action in plan.actions:
                into.append(self._one(action))
        finally:
            self._release_unsent()
        return into

    def _release_unsent(self) -> None:
        """Writes the breaker counted at their group's first write but that were held back never happened: take
        them back, so the next run that sends them is not counted twice (and cannot trip the breaker for them)."""
        for unsent, window in self._unsent.values():
            left = Counter({symbol: n for symbol, n in unsent.items() if n > 0})
            if left:
                self.gate.release(left, window)
        self._unsent = {}

    def _group(self, writes: Iterable[CancelOrder | PlaceStop | ReplaceStop]) -> dict[str, frozenset[str]]:
        """Every symbol of the plan's writes with the symbols its quantity is shared with: an action's own symbol,
        its order's legs and the legs of the order it cancels or replaces, merged across actions."""
        legs = {order.id: {leg.symbol for leg in order.legs} for order in self._read.working}
        groups: dict[str, frozenset[str]] = {}
        for action in writes:
            members = {action.symbol}
            if isinstance(action, PlaceStop | ReplaceStop):
                members.update(leg.symbol for leg in action.spec.legs)
            if isinstance(action, CancelOrder | ReplaceStop):
                members.update(legs.get(action.order_id, ()))
            merged = frozenset(members.union(*(groups.get(symbol, frozenset()) for symbol in members)))
            groups.update(dict.fromkeys(merged, merged))
        return groups

    def _members(self, symbol: str) -> frozenset[str]:
        return self._groups.get(symbol) or frozenset({symbol})

    def _key(self, symbol: str) -> str:
        """The group's name (its smallest symbol: the underlying's for a structure and its legs)."""
        return min(self._members(symbol))

    def _hold_back(self, symbol: str, why: str = _UNRESOLVED) -> None:
        """No more writes this run for ``symbol``'s group: they assumed a write that did not go through."""
        for member in self._members(symbol):
            self.blocked.add(member)
            self._held_back.setdefault(member, why)

    def _admit(self, symbol: str) -> str | None:
        """The breaker admits all of a group's writes in this plan at its first one: a cancel and the place that
        follows it (a replacement the broker cannot do in one request, or the structure stop that takes over a
        leg's quantity) are counted together, so the breaker can refuse them before the cancel, never trip between
        the two and leave the position naked."""
        key = self._key(symbol)
        unsent = self._unsent.get(key)
        if unsent is not None and unsent[0].total() > 0:
            counts = unsent[0]
            counts[symbol if counts[symbol] > 0 else next(s for s, n in counts.items() if n > 0)] -= 1
            return None
        writes = self._planned.pop(key, None) or Counter({symbol: 1})
        blocked = self.gate.admit(writes)
        if blocked is None:
            left = Counter(writes)
            left[symbol] -= 1
            self._unsent[key] = (left, self.gate.last_window)
        return blocked

    def _one(self, action: Action) -> ActionResult:
        row = describe(action)
        if isinstance(action, Alert | Report):
            return row
        held = sorted(self._members(action.symbol) & self.blocked)
        if held:
            return _done(row, 'deferred', detail=self._held_back.get(held[0], _UNRESOLVED))
        if self.mode is Mode.OBSERVE:
            return row
        if isinstance(action, CancelOrder):
            return self._shadow_cancel(row) if self.mode is Mode.SHADOW else self._cancel(action, row)
        try:
            order = new_order(action.spec, self._ticks(action.spec))
        except builders.InvalidOrderError as error:
            logger.error('refusing to send an invalid order for %s: %s', action.symbol, error)
            return _done(row, 'invalid', detail=f'not sent: {error}')
        if self.mode is Mode.SHADOW:
            return self._dry_run(action, order, row)
        return self._send(action, order, row)

    def _ticks(self, spec: StopSpec) -> Sequence[TickLike] | None:
        view = self._read.instruments.get(spec.legs[0].symbol)
        if view is None:
            return None
        return view.spread_ticks or view.ticks if len(spec.legs) > 1 else view.ticks

    # -- shadow ------------------------------------------------------------------------------------------
    def _dry_run(self, action: PlaceStop | ReplaceStop, order: wire.NewOrder, row: ActionResult) -> ActionResult:
        broker = self._ctx.broker
        try:
            if isinstance(action, ReplaceStop):
                response = broker.dry_run_replace_order(self._account, int(action.order_id), order)
            else:
                response = broker.dry_run_order(self._account, order)
        except ReauthorizationRequired:
            raise
        except OrderRejectedError as error:
            return _done(
                row, 'dry_run_rejected', detail=f'the broker would reject it: {", ".join(error.codes) or error}'
            )
        except BrokerError as error:
            return _done(row, 'dry_run_failed', detail=f'dry-run failed: {error}')
        warnings = '; '.join(f'{w.code}: {w.message}' if w.code else str(w.message) for w in response.warnings)
        return _done(row, 'dry_run_ok', detail=f'broker warnings: {warnings}' if warnings else None)

    def _shadow_cancel(self, row: ActionResult) -> ActionResult:
        return _done(row, 'would_cancel')

    # -- live --------------------------------------------------------------------------------------------
    def _intent(
        self, key: str, operation: IntentOperation, symbol: str, request: dict[str, object], target: str | None
    ) -> Intent:
        now = self._ctx.clock()
        return Intent(
            account=self._account,
            key=key,
            operation=operation,
            symbol=symbol,
            request=request,
            target_order_id=None if target is None else int(target),
            run_id=self._run_id,
            mode=self.mode.value,
            environment=self._ctx.environment,
            created_at=now,
            updated_at=now,
        )

    def _send(self, action: PlaceStop | ReplaceStop, order: wire.NewOrder, row: ActionResult) -> ActionResult:
        intents = self._ctx.stores.intents
        replacing = isinstance(action, ReplaceStop)
        key = action.spec.external_identifier
        operation = IntentOperation.REPLACE if replacing else IntentOperation.PLACE
        target = action.order_id if isinstance(action, ReplaceStop) else None
        intent, created = intents.begin(self._intent(key, operation, action.symbol, order.to_wire(), target))
        if not created:
            outcome = self._earlier_attempt(intent, row)
            if outcome is not None:
                return outcome
        held_back = self._trail_limit_reached(action)
        if held_back is not None:
            intents.update(intent, IntentState.SKIPPED, error=held_back)
            return _done(row, 'deferred', detail=held_back)
        blocked = self._admit(action.symbol)
        if blocked is not None:
            intents.update(intent, IntentState.SKIPPED, error=blocked)
            return _done(row, 'blocked', detail=blocked)
        broker = self._ctx.broker
        try:
            if isinstance(action, ReplaceStop):
                placed = broker.replace_order(self._account, int(action.order_id), order)
            else:
                placed = broker.place_order(self._account, order).order
        except ReauthorizationRequired as error:
            intents.update(intent, IntentState.REJECTED, error=str(error))
            raise
        except AmbiguousOrderError as error:
            intents.update(intent, IntentState.AMBIGUOUS, error=str(error))
            return self._resolve_now(intent, row)
        except BrokerError as error:
            intents.update(intent, IntentState.REJECTED, error=str(error))
            codes = ', '.join(error.codes)
            return _done(row, 'rejected', detail=f'the broker refused it ({codes or error.status}): {error.message}')
        intents.update(intent, IntentState.SENT, order_id=placed.id)
        self.touched.append(placed)
        if target is not None:
            self.replaced[int(target)] = key
        return _done(row, 'replaced' if replacing else 'placed', order_id=str(placed.id))

    def _trail_limit_reached(self, action: PlaceStop | ReplaceStop) -> str | None:
        """A trailing move beyond ``trail_max_moves`` in the breaker's window waits for the next window (so a fast
        market never trips the per-position breaker, which would need a person to reset it)."""
        if not isinstance(action, ReplaceStop) or action.trail_limit is None:
            return None
        breaker = self._ctx.stores.breaker
        minutes = breaker.window_seconds // 60
        moves = breaker.writes_on(self._account, action.symbol)
        if moves >= action.trail_limit:
            return (
                f'the trailing stop already moved {moves} times within {minutes} minutes (trail_max_moves '
                f'{action.trail_limit}); it moves again in the next window'
            )
        budget = breaker.max_writes // 2  # the other half stays for new stops (fills) and resizes
        used = breaker.writes_on(self._account)
        if used >= budget:
            return (
                f'the account made {used} order writes within {minutes} minutes; trailing moves wait once half '
                f'of the circuit breaker budget (safety.max_order_writes {breaker.max_writes}) is used, so a fast '
                'market never trips it; it moves again in the next window'
            )
        return None

    def _earlier_attempt(self, intent: Intent, row: ActionResult) -> ActionResult | None:
        """A retry of the same run met its own intent: never send twice. None means "send now"."""
        if intent.state is IntentState.SENT:
            ended = next((o for o in self._read.orders if o.id == intent.order_id and o.status.is_terminal), None)
            if ended is not None and str(ended.status) != 'Filled':
                # Not sent again under the same identifier; the caller derives a new one for a new attempt.
                why = f': {ended.reject_reason}' if ended.reject_reason else ''
                return _done(
                    row,
                    'rejected',
                    order_id=str(intent.order_id),
                    detail=f'sent by an earlier attempt, and the broker shows it {ended.status} without a fill{why}',
                )
            return _done(
                row, 'already_sent', order_id=str(intent.order_id), detail='sent by an earlier attempt of this run'
            )
        if intent.state is IntentState.REJECTED:
            return _done(row, 'rejected', detail=f'an earlier attempt of this run was refused: {intent.error}')
        if intent.state.unresolved:
            return self._resolve_now(intent, row)
        if intent.state is IntentState.SKIPPED:
            return None  # never sent: safe to send now
        return _done(
            row, 'deferred', detail='an earlier attempt with this identifier was lost; the next run decides again'
        )

    def _resolve_now(self, intent: Intent, row: ActionResult) -> ActionResult:
        """Look an ambiguous order up at once; block the symbol for this run if the broker does not show it."""
        try:
            found = self._ctx.broker.find_order_by_external_id(
                self._account,
                intent.key,
                since=new_york_today(intent.created_at),  # a New York date
            )
        except BrokerError as error:
            logger.warning('could not look up %s: %s', intent.key, error)
            found = None
        if found is not None and found.id is not None:
            self._ctx.stores.intents.update(intent, IntentState.SENT, order_id=found.id)
            self.touched.append(found)
            if intent.operation is IntentOperation.REPLACE and intent.target_order_id is not None:
                self.replaced[int(intent.target_order_id)] = intent.key
            done = 'replaced' if intent.operation is IntentOperation.REPLACE else 'placed'
            return _done(
                row, done, order_id=str(found.id), detail='confirmed by looking it up after the response was lost'
            )
        self._hold_back(intent.symbol)
        return _done(
            row,
            'ambiguous',
            detail='the broker did not answer clearly and does not show the order yet; '
            'nothing more is sent for this symbol until the next run has looked it up',
        )

    def _cancel(self, action: CancelOrder, row: ActionResult) -> ActionResult:
        done = self._try_cancel(action, row)
        if done.result == 'filled':
            self._hold_back(
                action.symbol,
                f'our order #{action.order_id} filled before its cancel was confirmed: the position changed, so '
                'nothing more is sent for it this run; the next run plans again',
            )
        elif done.result == 'cancel_pending':
            self._hold_back(
                action.symbol,
                f'waits for the cancel of our order #{action.order_id}, which the broker has not confirmed yet '
                '(it can still fill); the next run plans again',
            )
        elif done.result not in ('cancelled', 'blocked'):  # a blocked gate stays blocked for the rest of the run
            # The plan's later writes on this group assumed the cancel; without it they could over-cover.
            self._hold_back(action.symbol)
        return done

    def _try_cancel(self, action: CancelOrder, row: ActionResult) -> ActionResult:
        intents = self._ctx.stores.intents
        key = f'cancel:{action.order_id}:{self._run_id}'
        intent, _ = intents.begin(self._intent(key, IntentOperation.CANCEL, action.symbol, {}, action.order_id))
        blocked = self._admit(action.symbol)
        if blocked is not None:
            intents.update(intent, IntentState.SKIPPED, error=blocked)
            return _done(row, 'blocked', detail=blocked)
        try:
            cancelled = self._ctx.broker.cancel_order(self._account, int(action.order_id))
        except ReauthorizationRequired as error:
            intents.update(intent, IntentState.REJECTED, error=str(error))
            raise
        except OrderRejectedError as error:
            intents.update(intent, IntentState.REJECTED, error=str(error))
            return _done(row, 'not_cancelled', detail=f'the broker says it can no longer be changed: {error.message}')
        except AmbiguousOrderError as error:
            intents.update(intent, IntentState.AMBIGUOUS, error=str(error))
            return _done(row, 'ambiguous', detail='the cancel may not have arrived; the next run reads the order again')
        except BrokerError as error:
            intents.update(intent, IntentState.REJECTED, error=str(error))
            return _done(row, 'rejected', detail=f'the broker refused the cancel: {error}')
        intents.update(intent, IntentState.SENT, order_id=cancelled.id)
        if action.order_id not in self._relied_on:
            self.touched.append(cancelled)
            return _done(row, 'cancelled')
        final = self._confirm_cancel(action, cancelled)
        self.touched.append(final)
        if final.status is wire.OrderStatus.FILLED or _filled(final) > self._filled_at_read(action.order_id):
            return _done(row, 'filled', detail=f'it filled before the cancel landed ({final.status})')
        if not final.is_terminal:
            return _done(
                row,
                'cancel_pending',
                detail=f'the cancel was requested but the broker still shows the order {final.status}',
            )
        confirmed = None if final is cancelled else f'confirmed {final.status} by reading the order again'
        return _done(row, 'cancelled', detail=confirmed)

    def _confirm_cancel(self, action: CancelOrder, answer: wire.Order) -> wire.Order:
        """The order as the broker holds it after a short, bounded wait for a cancel that is only requested (a later
        write of the plan needs the quantity it frees). The last answer when a read fails."""
        order = answer
        for wait in CANCEL_CONFIRM_WAITS:
            if order.is_terminal or self._waited + wait > CANCEL_WAIT_BUDGET:
                break
            if wait:
                self._ctx.sleep(wait)
                self._waited += wait
            try:
                order = self._ctx.broker.get_order(self._account, int(action.order_id))
            except ReauthorizationRequired:
                raise
            except BrokerError as error:
                logger.warning('could not read order %s after its cancel: %s', action.order_id, error)
                break
        return order

    def _filled_at_read(self, order_id: str) -> Decimal:
        """What of ``order_id`` had filled when this run read the orders (a fill since then changed the position)."""
        return next((_filled(o) for o in self._read.orders if str(o.id) == order_id), Decimal(0))


def _filled(order: wire.Order) -> Decimal:
    return sum((leg.filled_quantity for leg in order.legs), Decimal(0))


def resolve_intents(ctx: JobContext, account: str) -> tuple[set[str], list[str]]:
    """Settle every unresolved intent of ``account`` before planning.

    Returns the symbols that must get no write this run (their earlier write is still unknown) and notes.
    """
    blocked: set[str] = set()
    notes: list[str] = []
    store = ctx.stores.intents
    now = ctx.clock()
    for intent in store.unresolved(account):
        try:
            if intent.operation is IntentOperation.CANCEL and intent.target_order_id is not None:
                order = ctx.broker.get_order(account, intent.target_order_id)
                gone = str(order.status) in TERMINAL or str(order.status) == 'Cancel Requested'
                store.update(intent, IntentState.SENT if gone else IntentState.NOT_FOUND, order_id=order.id)
                continue
            # the search takes New York dates: after 19:00 New York the UTC date is already the next day
            found = ctx.broker.find_order_by_external_id(account, intent.key, since=new_york_today(intent.created_at))
        except BrokerError as error:
            blocked.add(intent.symbol)
            notes.append(
                f'{intent.symbol or intent.key}: could not look up an earlier write ({error}); no writes this run'
            )
            continue
        if found is not None and found.id is not None:
            store.update(intent, IntentState.SENT, order_id=found.id)
            notes.append(f'{intent.symbol or intent.key}: an earlier write was found at the broker (order {found.id})')
        elif now - intent.updated_at >= ctx.ambiguous_grace:
            store.update(intent, IntentState.NOT_FOUND, error='not at the broker after the grace period')
            notes.append(f'{intent.symbol or intent.key}: an earlier write never reached the broker')
        else:
            blocked.add(intent.symbol or intent.key)
            notes.append(f'{intent.symbol or intent.key}: an earlier write is not visible yet; no writes this run')
    return blocked, notes
