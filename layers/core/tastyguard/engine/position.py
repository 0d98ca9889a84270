"""Planning one held position: report the person's orders, decide whether tastyguard protects it, and how.

A position is *managed* (tastyguard places and maintains its stop) unless one of these holds, checked in
this order: hands-off (``kind: none``: nothing is touched at all), a futures option (the broker takes no
stops), an unsupported instrument type, a leg of a multi-leg option structure (handled as a whole),
``kind: alert_only``, an expired contract, no tick table, an untradeable instrument, or a respected human
cancel. An unmanaged position never gets a new or larger stop, but tastyguard's own leftover stops on it are
still shrunk or cancelled so the closing quantity never exceeds the position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from tastyguard.config.effective import EffectivePolicy
from tastyguard.config.models import Severity
from tastyguard.config.policy import OnHumanCancel, SoftwareTrigger, StopKind
from tastyguard.engine.actions import (
    Action,
    Alert,
    AlertKind,
    CancelOrder,
    CoverageStatus,
    PositionCoverage,
    ReplaceStop,
    Report,
)
from tastyguard.engine.context import Context
from tastyguard.engine.coverage import Book, Entry, Tally, sort_orders, stop_coverage, tally
from tastyguard.engine.expiry import minutes_left
from tastyguard.engine.settle import Want, settle
from tastyguard.engine.trigger import (
    Market,
    NoStop,
    StopPrice,
    compute_stop,
    mark_price,
    market_reference,
    stop_level,
)
from tastyguard.engine.types import Holding, InstrumentType
from tastyguard.engine.wording import approx, money, order_text, position, qty, stop_text

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Blocker:
    """Why tastyguard does not place stops on a position: the alert to raise (if any) and the status."""

    alert: Alert | None
    alert_only: bool
    software: bool = False  # a level the streamer watches (the broker holds no stop for it)


def _report(holding: Holding, entry: Entry, closing: bool, waiting: bool = False) -> Report:
    order, _ = entry
    if waiting:
        what = 'waiting for its entry order to fill (counts for nothing until then)'
    elif not closing:
        what = 'not a closing order for this position (no coverage)'
    elif order.order_type.is_stop:
        what = 'a closing stop (counts as coverage)'
    else:
        what = 'a closing order (counts toward the closing cap)'
    text = f"{position(holding)}: {order_text(order, holding.symbol)} is a person's order, {what}; left alone"
    return Report(order.id, holding.symbol, text)


def software_stop(ctx: Context, holding: Holding, policy: EffectivePolicy) -> Blocker:
    """A position the broker holds no stop for (a futures option): the level the streamer watches instead."""
    long, label = holding.is_long, position(holding)
    mark = mark_price(ctx.inputs.quotes.get(holding.symbol))
    level = software_level(ctx, holding, policy, mark)
    if isinstance(level, NoStop):
        text = (
            f'{label}: tastytrade takes no stop orders on futures options, and {level.explanation}; protect it by hand'
        )
        return Blocker(ctx.alert(AlertKind.FUTURES_OPTION, Severity.WARNING, holding.symbol, text), alert_only=True)
    price, how = level
    side = 'bid' if long else 'ask'
    if policy.on_software_trigger is SoftwareTrigger.CLOSE_LIMIT:
        collar = policy.software_collar
        then = f'closes it with a limit order {collar} through the market (on_software_trigger: close_limit)'
    else:
        then = 'sends one critical alert (on_software_trigger: alert)'
    text = (
        f'{label}: software stop at {approx(price)} ({how}): tastytrade takes no stop orders on futures options, so '
        f'the streamer watches the {side} and, when it reaches the level, {then}'
    )
    return Blocker(ctx.alert(AlertKind.SOFTWARE_STOP, Severity.INFO, holding.symbol, text), True, software=True)


def software_level(
    ctx: Context, holding: Holding, policy: EffectivePolicy, mark: Decimal | None
) -> tuple[Decimal, str] | NoStop:
    """The level of a software stop: the policy's stop level, unrounded (no order carries it)."""
    return stop_level(
        policy,
        long=holding.is_long,
        option=True,
        entry=holding.average_open_price,
        mark=mark,
        high_water=ctx.inputs.high_water.get(holding.symbol),
    )


def blocker(ctx: Context, holding: Holding, policy: EffectivePolicy, in_structure: bool) -> Blocker | None:
    """Why tastyguard does not protect this position itself (None when it does)."""
    symbol = holding.symbol

    def block(kind: AlertKind, text: str, severity: Severity = Severity.WARNING, only: bool = False) -> Blocker:
        return Blocker(ctx.alert(kind, severity, symbol, f'{position(holding)}: {text}'), only)

    if holding.instrument_type is InstrumentType.FUTURE_OPTION:
        return software_stop(ctx, holding, policy)
    if holding.instrument_type is InstrumentType.OTHER:
        return block(AlertKind.UNPROTECTABLE, 'tastyguard cannot protect this instrument type; protect it by hand')
    if in_structure:
        if policy.kind is StopKind.STOP_LIMIT:
            return Blocker(None, alert_only=False)  # the structure planner protects the legs as a whole
        text = f'leg of a multi-leg option structure on {holding.underlying_symbol}; spreads are alert-only'
        return block(AlertKind.SPREAD, f'{text} (kind: {policy.kind})', only=True)
    if policy.kind is StopKind.ALERT_ONLY:
        source = policy.sources.get('kind', 'built-in default')
        return block(AlertKind.ALERT_ONLY, f'policy is alert_only (set by {source}); no stop placed', only=True)
    if holding.expires_at is not None and holding.expires_at <= ctx.inputs.now:
        return block(AlertKind.UNPROTECTABLE, 'expired; no stop placed', Severity.INFO)
    left = minutes_left(holding, policy, ctx.inputs.now)
    if left is not None:
        text = f'expires in {left} min: no new or larger stop this close to expiry (expiry_cutoff_minutes: '
        return block(AlertKind.EXPIRING, text + f'{policy.expiry_cutoff_minutes}); existing stops stay', Severity.INFO)
    if ctx.ticks(symbol, holding.instrument_type) is None:
        return block(AlertKind.UNPROTECTABLE, 'no instrument data (tick table), so no valid stop price exists')
    view = ctx.inputs.instruments.get(symbol)
    if view is not None and not view.tradeable:
        return block(AlertKind.UNPROTECTABLE, 'the instrument is not tradeable; no stop placed')
    if symbol in ctx.inputs.human_cancels and policy.on_human_cancel is OnHumanCancel.RESPECT:
        text = 'a person cancelled our stop; not placing another (on_human_cancel: respect)'
        return block(AlertKind.HUMAN_CANCELLED, text, Severity.INFO)
    return None


def plan_position(
    ctx: Context,
    holding: Holding,
    entries: Sequence[Entry],
    kept_multi_leg: frozenset[str],
    structure_policy: EffectivePolicy | None = None,
    planned_cover: Decimal | None = None,
) -> tuple[list[Action], PositionCoverage]:
    """The actions for one held position and its coverage (see the module docstring).

    ``structure_policy`` is set for a leg of a multi-leg structure: such a leg never keeps a single-leg
    stop of ours (a stop on one leg would break the structure). ``planned_cover`` is the quantity a
    structure stop placed in this plan will cover.
    """
    in_structure = structure_policy is not None
    policy = structure_policy or ctx.policy(holding)
    long, symbol, label = holding.is_long, holding.symbol, position(holding)
    quote = ctx.inputs.quotes.get(symbol)
    market = market_reference(quote, long)
    price = mark_price(quote) or (market.price if market else holding.average_open_price)
    book = sort_orders(entries, long, market.price if market else None, kept_multi_leg)
    actions: list[Action] = [_report(holding, e, True) for e in book.human_closing]
    actions += [_report(holding, e, False) for e in book.human_other]
    actions += [_report(holding, e, False, waiting=True) for e in book.human_waiting]
    protected_now = stop_coverage(book.others) + stop_coverage(book.own_active)

    def coverage(after: Decimal, status: CoverageStatus | None = None) -> PositionCoverage:
        if status is None:
            status = CoverageStatus.PARTIAL if after else CoverageStatus.UNPROTECTED
            status = CoverageStatus.PROTECTED if after >= holding.size else status
        quantity, multiplier = holding.quantity, holding.multiplier
        return PositionCoverage(
            symbol, holding.instrument_type, quantity, multiplier, price, protected_now, after, status
        )

    if policy.kind is StopKind.NONE:
        return actions, coverage(protected_now, CoverageStatus.HANDS_OFF)
    for order in book.own_wrong:
        text = f'{label}: our {order_text(order, symbol)} no longer closes this position (wrong side); cancelling'
        actions.append(CancelOrder(order.id, symbol, text))
    counts = tally(book, holding)
    block = blocker(ctx, holding, policy, in_structure)
    ticks = ctx.ticks(symbol, holding.instrument_type)
    stop: StopPrice | NoStop | None = None
    if block is None and ticks is not None and counts.want > 0:
        option = holding.instrument_type is InstrumentType.EQUITY_OPTION
        high = ctx.inputs.high_water.get(symbol)
        entry = holding.average_open_price
        stop = compute_stop(policy, long=long, option=option, entry=entry, quote=quote, ticks=ticks, high_water=high)
    managed = block is None
    target = min(counts.want, counts.room) if managed else min(counts.own_active, counts.want, counts.room)
    target = _ZERO if in_structure else target
    want = Want(
        target=target,
        managed=managed,
        stop=stop if isinstance(stop, StopPrice) else None,
        policy=policy,
        market=market.price if market else None,
        ticks=ticks,
    )
    triggered = frozenset(order.id for order, _ in book.own_triggered)
    own = settle(ctx, holding, book.own_changeable, want, _why_cancel(counts, managed, in_structure), triggered)
    actions += own.actions
    after = counts.others_cov + (target if target > 0 and own.protects else _ZERO) + (planned_cover or _ZERO)
    spent = _triggered_alerts(ctx, holding, book, own.actions, market)
    alerts = _alerts(ctx, holding, book, block, stop, counts, after)
    actions += [a for a in alerts if not (spent and a.kind is AlertKind.BREACHED)] + spent
    status = None
    if block is not None and block.alert_only:
        status = CoverageStatus.SOFTWARE_STOP if block.software else CoverageStatus.ALERT_ONLY
    return actions, coverage(after, status)


def _triggered_alerts(
    ctx: Context, holding: Holding, book: Book, actions: Sequence[Action], market: Market | None
) -> list[Alert]:
    """Tell the person about our stop limits that triggered without filling, and what tastyguard does."""
    alerts: list[Alert] = []
    for order, _ in book.own_triggered:
        what = order_text(order, holding.symbol)
        where = f'the {market.label} is {money(market.price)}' if market else 'the market is through it'
        text = f'{position(holding)}: our {what} triggered but its limit has not filled ({where}); '
        moved = next((a for a in actions if isinstance(a, ReplaceStop) and a.order_id == order.id), None)
        cancelled = any(isinstance(a, CancelOrder) and a.order_id == order.id for a in actions)
        if moved is not None and moved.spec.stop_trigger != order.stop_trigger:
            text += f're-placing it as {stop_text_of(moved)}'
            alerts.append(ctx.alert(AlertKind.STOP_TRIGGERING, Severity.WARNING, holding.symbol, text))
            continue
        if cancelled:
            text += 'cancelling it: another stop of ours protects the position'
            alerts.append(ctx.alert(AlertKind.STOP_TRIGGERING, Severity.WARNING, holding.symbol, text))
            continue
        resized = f'resizing it to {qty(moved.spec.quantity)}; ' if moved is not None else ''
        text += f'{resized}the position is not protected below that limit. tastyguard never sends a market exit: '
        text += 'exit by hand, or wait for the limit (when_breached: alert)'
        alerts.append(ctx.alert(AlertKind.STOP_TRIGGERING, Severity.CRITICAL, holding.symbol, text))
    return alerts


def stop_text_of(action: ReplaceStop) -> str:
    """The order a replace sends, as people read it."""
    spec = action.spec
    return stop_text(spec.legs[0].action, spec.quantity, spec.order_type, spec.stop_trigger, spec.limit_price)


def _why_cancel(counts: Tally, managed: bool, in_structure: bool) -> str:
    if in_structure:
        return 'a stop on one leg would break the multi-leg structure it belongs to'
    if counts.want <= 0:
        return 'other working stops already cover the position'
    if counts.room <= 0:
        return 'other closing orders already use the whole position'
    return 'tastyguard does not protect this position' if not managed else 'nothing left to cover'


def _holding_room(book: Book, symbol: str) -> str:
    """Our orders that hold closing quantity without being changeable now, as one phrase."""
    held = [order_text(order, symbol) for order, _ in book.own_fixed]
    return f'our order{"s" if len(held) > 1 else ""} {", ".join(held)}' if held else 'orders in flight'


def _alerts(
    ctx: Context,
    holding: Holding,
    book: Book,
    block: Blocker | None,
    stop: StopPrice | NoStop | None,
    counts: Tally,
    after: Decimal,
) -> list[Alert]:
    label, symbol, size = position(holding), holding.symbol, holding.size
    alerts: list[Alert] = []
    notice = block.alert if block is not None else None
    if notice is not None and (after < size or notice.kind is AlertKind.HUMAN_CANCELLED):
        alerts.append(notice)
    if counts.human_cap > size:
        text = f"the person's closing orders add up to {qty(counts.human_cap)}, more than the position; "
        text += 'tastyguard adds nothing and leaves them alone'
        alerts.append(ctx.alert(AlertKind.HUMAN_OVER_COVERAGE, Severity.WARNING, symbol, f'{label}: {text}'))
    elif counts.others_cap > size:
        text = f'{label}: closing orders add up to {qty(counts.others_cap)}, more than the position, while '
        text += f'{_holding_room(book, symbol)} settle; tastyguard waits for them'
        alerts.append(ctx.alert(AlertKind.BLOCKED_BY_PENDING_ORDERS, Severity.INFO, symbol, text))
    elif block is None and counts.want > counts.room:
        missing = qty(counts.want - counts.room)
        if counts.human_limits > 0:
            text = f"{label}: {missing} cannot get a stop: the person's closing orders leave room for only "
            text += f'{qty(counts.room)}; an OCO (take-profit + stop) would protect the rest'
            alerts.append(ctx.alert(AlertKind.BLOCKED_BY_HUMAN_ORDERS, Severity.WARNING, symbol, text))
        else:
            text = f'{label}: {missing} cannot get a stop yet: {_holding_room(book, symbol)} still hold the room'
            alerts.append(ctx.alert(AlertKind.BLOCKED_BY_PENDING_ORDERS, Severity.INFO, symbol, text))
    if block is None and isinstance(stop, NoStop):
        if after < counts.need:
            alerts.append(ctx.alert(stop.kind, stop.severity, symbol, f'{label}: {stop.explanation}'))
        elif stop.kind is AlertKind.BREACHED:
            text = f'{label}: {stop.explanation}; the existing stop stays'
            alerts.append(ctx.alert(stop.kind, Severity.INFO, symbol, text))
    if counts.need < size:
        text = f'{label}: the fraction {qty(size - counts.need)} cannot carry a stop order'
        alerts.append(ctx.alert(AlertKind.FRACTIONAL, Severity.INFO, symbol, text))
    return alerts
