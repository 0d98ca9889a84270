"""What the streamer does about a price decision (runs on the job thread, with the jobs' own code).

* :func:`persist_mark`: the high-water mark into DynamoDB (conditional, only ever favourable), so the fast
  path, the scheduled jobs and a restarted streamer all continue from it.
* :func:`act_on_software_stop`: confirm with a REST quote that the level is really crossed, then either one
  critical alert (``on_software_trigger: alert``) or one closing **limit** order ``software_collar`` through the
  market (``close_limit``; never a market order, strict position effect), placed through the executor and the
  intent log under the account lease, then a reconcile and a message saying what the broker did. The limit is
  rounded onto the instrument's tick table (a futures option's: its future's ``option-tick-sizes``), or not sent
  and alerted when there is none; it carries only what the working closing orders leave uncovered (the
  planner's coverage rules), and nothing but a message when that is nothing. Its ``tg-`` identifier is derived
  from the position's open time and, per attempt, from the identifier of the attempt before: while an attempt's
  order may still fill, crossings and socket drops send nothing more; once it ended without closing the
  position (rejected, cancelled, expired), the next crossing sends a new one (at most :data:`MAX_ATTEMPTS`).
* :func:`alert_structure`: an alert-only option structure's natural closing price reached its software stop:
  confirmed on REST quotes, one critical alert (a structure is never closed without a stop-limit policy).
* :func:`alert_level` and :func:`confirm_stop_through`: price-alert levels and broker stops already through
  the market, as de-duplicated alerts (re-sent per ``notifications.realert_after_minutes``).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from decimal import Decimal

from tastyguard.broker.errors import BrokerError
from tastyguard.config.models import Mode, Severity
from tastyguard.config.policy import SoftwareTrigger
from tastyguard.engine.actions import PlaceStop, Plan, StopLeg, StopSpec
from tastyguard.engine.coverage import closing_action, sort_orders, tally
from tastyguard.engine.identifiers import external_identifier
from tastyguard.engine.spread_stop import natural_price
from tastyguard.engine.types import Holding, OrderType, TimeInForce, WorkingOrder
from tastyguard.engine.wording import approx, cents, money, order_text
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.executor import Executor
from tastyguard.jobs.invocation import JobInvocation, JobName
from tastyguard.jobs.notices import account_label, action_line, decide
from tastyguard.jobs.reading import AccountRead, read_account
from tastyguard.jobs.registry import run as run_job
from tastyguard.jobs.results import ActionResult
from tastyguard.jobs.tracking import TERMINAL
from tastyguard.notify.dedupe import AlertCandidate
from tastyguard.notify.notice import Notice, NoticeSection
from tastyguard.store.intents import IntentState
from tastyguard.store.lease import AccountLease, LeaseUnavailableError
from tastyguard.streaming.prices import BrokerStop, Watched, WatchedStructure
from tastyguard.ticks import Rounding, round_to_tick

logger = logging.getLogger('tastyguard.streaming')

LEASE_WAIT_SECONDS = 20.0
MAX_ATTEMPTS = 3
"""Closing limits sent for one position whose orders ended without closing it, before tastyguard stops sending."""


def persist_mark(ctx: JobContext, watched: Watched, mark: Decimal) -> Decimal:
    """Raise the stored mark to ``mark`` (never lowers it); returns what is stored now."""
    stored = ctx.stores.high_water.raise_to(
        watched.account,
        watched.symbol,
        long=watched.long,
        price=mark,
        open_price=watched.entry,
        opened_at=watched.opened_at,
    )
    watched.persisted_mark = stored.price
    return stored.price


def announce(ctx: JobContext, account: str, candidates: Sequence[AlertCandidate], title: str) -> bool:
    """Publish ``candidates`` as one message if de-duplication lets any through; True when sent."""
    decided = decide(ctx, account, candidates, frozenset())
    due = [*decided.send, *decided.reminders]
    if not due:
        return False
    severity = max((c.severity for c in due), key=lambda s: s.rank)
    ctx.notifier.publish(
        Notice(
            kind='streamer',
            severity=severity,
            title=title,
            environment=ctx.environment,
            mode=ctx.mode_for(account).value,
            account=account_label(ctx, account),
            sections=[NoticeSection(title='Needs you', lines=[f'[{c.severity}] {c.message}' for c in due])],
            created_at=ctx.clock(),
        )
    )
    return True


def alert_level(ctx: JobContext, watched: Watched, level: str, price: Decimal) -> bool:
    """A price-alert level crossed."""
    key = f'price_level:{watched.account}:{watched.symbol}:{level}'
    text = f'{watched.symbol}: the market ({money(price)}) crossed your alert level {level}'
    candidate = AlertCandidate(key, 'price_level', Severity.WARNING, text, watched.symbol)
    return announce(ctx, watched.account, [candidate], f'{watched.symbol} crossed {level}')


def confirm_stop_through(ctx: JobContext, watched: Watched, stop: BrokerStop, price: Decimal) -> bool:
    """A working stop the market is through: alert only if the broker still shows it working (it did not fill)."""
    try:
        order = ctx.broker.get_order(watched.account, int(stop.order_id))
    except (BrokerError, ValueError) as error:
        logger.warning('could not read order %s: %s', stop.order_id, error)
        return False
    if str(order.status) in TERMINAL:
        return False  # it filled (or ended): reconcile reports it
    whose = 'tastyguard' if stop.ours else 'your'
    text = (
        f'{watched.symbol}: {whose} stop #{stop.order_id} at {money(stop.trigger)} is through the market '
        f'({money(price)}) and has not filled; the position may be unprotected until it does'
    )
    key = f'stop_through:{watched.account}:{stop.order_id}'
    candidate = AlertCandidate(key, 'stop_through', Severity.WARNING, text, watched.symbol)
    return announce(ctx, watched.account, [candidate], f'{watched.symbol}: a stop is through the market')


def alert_structure(ctx: JobContext, structure: WatchedStructure, seen: Decimal) -> bool:
    """An alert-only structure's natural closing price reached its software stop: confirm on REST quotes, alert.

    One critical alert per structure (its legs, level, the natural price, what to do); nothing is sent to the
    broker. A REST read that shows the structure changed, or a price not through the level (a stray tick),
    re-arms the watch instead.
    """
    shape, account = structure.shape, structure.account
    legs = set(structure.leg_symbols)
    read = read_account(ctx.broker, ctx.stores.instruments, account, only=lambda h: [x for x in h if x.symbol in legs])
    held = {h.symbol: h for h in read.holdings if h.symbol in legs}
    if set(held) != legs or any(held[s].is_long != long for s, _, long in shape.legs):
        logger.info('%s: the structure changed since it was watched; the next rebuild watches it', structure.symbol)
        return False
    price = natural_price(shape, read.quotes)
    if price is None or not (price <= shape.level if shape.debit else price >= shape.level):
        logger.info('%s: REST quotes put the %s at %s, not through %s; still watching', structure.symbol, shape.side,
                    price, shape.level)  # fmt: skip
        structure.fired = False
        return False
    legs_text = ' / '.join(f'{"+" if h.is_long else "-"}{h.size.normalize()} {h.symbol.strip()}' for h in held.values())
    moved = 'fell' if shape.debit else 'rose'
    text = (
        f'{structure.symbol} structure {legs_text}: the {shape.side} to close {moved} to {cents(price)} per unit, '
        f'through its software stop at {cents(shape.level)} ({shape.how}; the stream saw {cents(seen)}); spreads are '
        'alert-only, so tastyguard sent nothing: close it yourself if you want out (or set the spread policy to '
        'stop_limit for a broker-held multi-leg stop)'
    )
    key = f'software_stop_hit:{account}:{structure.symbol}:{shape.entry}:{"/".join(sorted(legs))}'
    candidate = AlertCandidate(key, 'software_stop_hit', Severity.CRITICAL, text, structure.symbol)
    return announce(ctx, account, [candidate], f'{structure.symbol}: structure software stop reached')


def act_on_software_stop(ctx: JobContext, watched: Watched, level: Decimal, seen: Decimal) -> list[ActionResult]:
    """The market reached a software stop's level (see the module docstring); returns what was sent."""
    account, symbol = watched.account, watched.symbol
    lease = AccountLease(ctx.stores.state, account, f'{ctx.owner}:software:{uuid.uuid4().hex[:8]}', ctx.lease_duration)
    if not _take(lease):
        logger.warning('%s: the account is busy; the software stop of %s waits for the next quote', account, symbol)
        watched.software_fired = False
        return []
    rows: list[ActionResult] = []
    try:
        read = read_account(
            ctx.broker, ctx.stores.instruments, account, only=lambda h: [x for x in h if x.symbol == symbol]
        )
        holding = next((h for h in read.holdings if h.symbol == symbol), None)
        quote = read.quotes.get(symbol)
        price = (quote.bid if watched.long else quote.ask) if quote is not None else None
        if holding is None or price is None or price <= 0:
            logger.info('%s: no position or no REST price; the software stop stands down', symbol)
            return []
        if not (price <= level if watched.long else price >= level):
            logger.info('%s: the REST quote %s is not through %s (a stray tick); still watching', symbol, price, level)
            watched.software_fired = False
            return []
        policy = watched.policy
        where = f'{"bid" if watched.long else "ask"} {money(price)}'
        what = f'{symbol} {"long" if watched.long else "short"} {holding.size.normalize()}'
        if policy.on_software_trigger is SoftwareTrigger.ALERT:
            text = (
                f'{what}: the software stop at {approx(level)} is reached ({where}); tastytrade holds no stop '
                'order for it, so nothing was sent: close it by hand if you want out (or set on_software_trigger: '
                'close_limit to have tastyguard send a closing limit order)'
            )
            key = f'software_stop_hit:{account}:{symbol}:{watched.opened_at.isoformat() if watched.opened_at else ""}'
            candidate = AlertCandidate(key, 'software_stop_hit', Severity.CRITICAL, text, symbol)
            announce(ctx, account, [candidate], f'{symbol}: software stop reached')
            return []
        rows = _close_with_limit(ctx, watched, read, holding, price, level, where)
    finally:
        lease.release()
    if rows:
        run_job(ctx, JobInvocation(job=JobName.RECONCILE_ORDERS, account=account, event_id=f'software:{uuid.uuid4()}'))
    return rows


def _close_with_limit(
    ctx: JobContext, watched: Watched, read: AccountRead, holding: Holding, price: Decimal, level: Decimal, where: str
) -> list[ActionResult]:
    account, symbol, policy = watched.account, watched.symbol, watched.policy
    what = f'{symbol} {"long" if watched.long else "short"} {holding.size.normalize()}'
    opened = watched.opened_at.isoformat() if watched.opened_at else str(watched.entry)
    view = read.instruments.get(symbol)
    ticks = view.ticks if view is not None and view.ticks else watched.ticks
    collar = policy.software_collar.of(price)
    raw = price - collar if watched.long else price + collar
    if not ticks:
        text = (
            f'{what}: the software stop at {approx(level)} is reached ({where}), but tastyguard has no tick table for '
            "it (its future's option-tick-sizes could not be read), so no valid closing price exists and nothing was "
            'sent: close it by hand now'
        )
        _alert(ctx, account, symbol, f'software_stop_hit:{account}:{symbol}:{opened}:no_ticks', text)
        return []
    limit = round_to_tick(raw, ticks, Rounding.DOWN if watched.long else Rounding.UP)
    if limit <= 0:
        text = (
            f'{symbol}: the software stop at {approx(level)} is reached ({where}), but a limit {collar} through the '
            'market would be at or below zero; close it by hand'
        )
        _alert(ctx, account, symbol, f'software_stop_hit:{account}:{symbol}', text)
        return []
    action = closing_action(watched.long)
    size, working = _uncovered(read, holding, price)
    if size <= 0:
        orders = ', '.join(order_text(order, symbol) for order in working)
        ours = all(order.is_ours for order in working)
        whose = "tastyguard's own closing limit" if ours else 'working closing orders'
        text = (
            f'{what}: the software stop at {approx(level)} is reached ({where}), but the whole position is already '
            f'taken by {whose} ({orders}), so tastyguard sent nothing more (a second exit could open a new position): '
            'if they will not fill at this market, cancel or change them, or close the position by hand'
        )
        _alert(ctx, account, symbol, f'software_stop_hit:{account}:{symbol}:{opened}:covered', text)
        return []
    ident = _identifier(ctx, read, account, symbol, action.value, size, opened)
    if ident is None:
        text = (
            f'{what}: the software stop at {approx(level)} is reached ({where}), but the last {MAX_ATTEMPTS} closing '
            'orders tastyguard sent for it ended without closing it, so it sends no more: close it by hand now'
        )
        _alert(ctx, account, symbol, f'software_stop_hit:{account}:{symbol}:{opened}:attempts', text)
        return []
    spec = StopSpec(
        legs=(StopLeg(symbol, watched.instrument_type, action, size),),
        order_type=OrderType.LIMIT,
        stop_trigger=limit,
        limit_price=limit,
        price_effect=None,
        time_in_force=TimeInForce.DAY,
        external_identifier=ident,
    )
    rest = f' ({(holding.size - size).normalize()} already covered by working closing orders)' if working else ''
    reason = (
        f'{symbol}: the software stop at {approx(level)} is reached ({where}); closing with {action.value} '
        f'{size.normalize()} Limit @ {money(limit)}{rest} ({policy.software_collar} through the market; '
        'on_software_trigger: close_limit)'
    )
    plan = Plan(account, f'software:{opened}', (PlaceStop(symbol, spec, reason),), ())
    mode = ctx.mode_for(account)
    executor = Executor(ctx, account, mode=mode, run_id=uuid.uuid4().hex[:12], read=read, blocked=set())
    rows = [_after_routing(ctx, account, row) for row in executor.execute(plan, into=[])]
    if executor.touched:
        from tastyguard.jobs import tracking  # noqa: PLC0415

        tracking.remember_writes(ctx.stores.ledger, account, executor.touched, ctx.clock(), executor.replaced)
    if any(row.result == 'rejected' for row in rows):
        watched.software_fired = False  # the next crossing tries again, under a new identifier
    lines = [reason, *(action_line(row) for row in rows)]
    severity = Severity.CRITICAL if mode is Mode.LIVE else Severity.WARNING
    ctx.notifier.publish(
        Notice(
            kind='streamer',
            severity=severity,
            title=f'{symbol}: software stop reached, closing with a limit order',
            environment=ctx.environment,
            mode=mode.value,
            account=account_label(ctx, account),
            sections=[NoticeSection(title='What the broker did', lines=lines)],
            created_at=ctx.clock(),
        )
    )
    return rows


def _alert(ctx: JobContext, account: str, symbol: str, key: str, text: str) -> None:
    candidate = AlertCandidate(key, 'software_stop_hit', Severity.CRITICAL, text, symbol)
    announce(ctx, account, [candidate], f'{symbol}: software stop reached')


def _uncovered(read: AccountRead, holding: Holding, price: Decimal) -> tuple[Decimal, list[WorkingOrder]]:
    """How much the closing limit may carry, as the planner counts it (:mod:`tastyguard.engine.coverage`): the
    position less every working closing order that may still fill (the person's take-profit, our earlier limit
    after a partial fill); and those orders."""
    symbol = holding.symbol
    entries = [(order, leg) for order in read.working for leg in order.legs if leg.symbol == symbol]
    multi_leg = frozenset(order.id for order, _ in entries if order.is_ours and len(order.legs) > 1)
    book = sort_orders(entries, holding.is_long, price, multi_leg)
    counts = tally(book, holding)
    size = max(Decimal(0), min(counts.need, counts.room - counts.own_active))
    working = {order.id: order for order, _ in (*book.others, *book.own_changeable)}
    return size, list(working.values())


def _identifier(
    ctx: JobContext, read: AccountRead, account: str, symbol: str, side: str, size: Decimal, opened: str
) -> str | None:
    """The closing limit's identifier: one per attempt, so a retry of an attempt finds its intent and never sends
    twice, while an attempt whose order ended (rejected, cancelled, expired) makes way for the next one, derived
    from the earlier identifier. None after :data:`MAX_ATTEMPTS` ended attempts."""
    salt = f'software:{opened}'
    for _ in range(MAX_ATTEMPTS):
        key = external_identifier(
            account_number=account, symbol=symbol, side=side, purpose='software-close', quantity=size,
            trigger=None, salt=salt,
        )  # fmt: skip
        if not _attempt_ended(ctx, read, account, key):
            return key
        salt = f'software:{opened}:after:{key}'
    return None


def _attempt_ended(ctx: JobContext, read: AccountRead, account: str, key: str) -> bool:
    """True when the attempt under ``key`` can no longer fill: refused, never arrived, or its order is terminal."""
    intent = ctx.stores.intents.get(account, key)
    if intent is None:
        return False
    if intent.state in (IntentState.REJECTED, IntentState.NOT_FOUND):
        return True
    if intent.state is not IntentState.SENT or intent.order_id is None:
        return False  # never sent (skipped: send now) or still unknown (the executor resolves it)
    order = next((o for o in read.orders if o.id == intent.order_id), None)
    if order is None:
        try:
            order = ctx.broker.get_order(account, intent.order_id)
        except BrokerError as error:
            logger.warning('could not read order %s: %s', intent.order_id, error)
            return False  # unknown: the executor reports it as sent, and nothing is sent twice
    return order.status.is_terminal


def _after_routing(ctx: JobContext, account: str, row: ActionResult) -> ActionResult:
    """A placed order read back once: tastytrade accepts an order (Routed) that the venue may still reject."""
    if row.result != 'placed' or row.order_id is None:
        return row
    try:
        order = ctx.broker.get_order(account, int(row.order_id))
    except (BrokerError, ValueError) as error:
        logger.warning('could not read order %s back: %s', row.order_id, error)
        return row
    if not order.status.is_terminal or str(order.status) == 'Filled':
        return row
    why = f': {order.reject_reason}' if order.reject_reason else ''
    detail = f'the broker accepted it, then it was {order.status} without a fill{why}; the next crossing tries again'
    return row.model_copy(update={'result': 'rejected', 'detail': detail})


def _take(lease: AccountLease) -> bool:
    deadline = time.monotonic() + LEASE_WAIT_SECONDS
    while True:
        try:
            lease.acquire()
            return True
        except LeaseUnavailableError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.5)
