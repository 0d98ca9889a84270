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
from tastyguard.config.policy import OnHumanCancel, StopKind
from tastyguard.engine.actions import (
    Action,
    Alert,
    AlertKind,
    CancelOrder,
    CoverageStatus,
    PlaceStop,
    PositionCoverage,
    Report,
)
from tastyguard.engine.context import Context
from tastyguard.engine.coverage import Entry, Tally, sort_orders, stop_coverage, tally
from tastyguard.engine.expiry import minutes_left
from tastyguard.engine.settle import Want, settle
from tastyguard.engine.trigger import NoStop, StopPrice, compute_stop, mark_price, market_reference
from tastyguard.engine.types import Holding, InstrumentType
from tastyguard.engine.wording import order_text, position, qty

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Blocker:
    """Why tastyguard does not place stops on a position: the alert to raise (if any) and the status."""

    alert: Alert | None
    alert_only: bool


def _report(holding: Holding, entry: Entry, closing: bool) -> Report:
    order, _ = entry
    if not closing:
        what = 'not a closing order for this position (no coverage)'
    elif order.order_type.is_stop:
        what = 'a closing stop (counts as coverage)'
    else:
        what = 'a closing order (counts toward the closing cap)'
    text = f"{position(holding)}: {order_text(order, holding.symbol)} is a person's order, {what}; left alone"
    return Report(order.id, holding.symbol, text)


def blocker(ctx: Context, holding: Holding, policy: EffectivePolicy, in_structure: bool) -> Blocker | None:
    """Why tastyguard does not protect this position itself (None when it does)."""
    symbol = holding.symbol

    def block(kind: AlertKind, text: str, severity: Severity = Severity.WARNING, only: bool = False) -> Blocker:
        return Blocker(ctx.alert(kind, severity, symbol, f'{position(holding)}: {text}'), only)

    if holding.instrument_type is InstrumentType.FUTURE_OPTION:
        text = 'tastytrade takes no stop orders on futures options; protect it in the streamer or by hand'
        return block(AlertKind.FUTURES_OPTION, text, only=True)
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
    own = settle(ctx, holding, book.own_active, want, _why_cancel(counts, managed, in_structure))
    actions += own
    has_ours = target > 0 and (bool(book.own_active) or any(isinstance(a, PlaceStop) for a in own))
    after = counts.others_cov + (target if has_ours else _ZERO) + (planned_cover or _ZERO)
    actions += _alerts(ctx, holding, block, stop, counts, after)
    return actions, coverage(after, CoverageStatus.ALERT_ONLY if block is not None and block.alert_only else None)


def _why_cancel(counts: Tally, managed: bool, in_structure: bool) -> str:
    if in_structure:
        return 'a stop on one leg would break the multi-leg structure it belongs to'
    if counts.want <= 0:
        return 'other working stops already cover the position'
    if counts.room <= 0:
        return 'other closing orders already use the whole position'
    return 'tastyguard does not protect this position' if not managed else 'nothing left to cover'


def _alerts(
    ctx: Context,
    holding: Holding,
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
        text = f'{label}: closing orders add up to {qty(counts.others_cap)} while some of ours are being cancelled '
        text += 'or replaced; waiting for them to settle'
        alerts.append(ctx.alert(AlertKind.BLOCKED_BY_PENDING_ORDERS, Severity.INFO, symbol, text))
    elif block is None and counts.want > counts.room:
        missing = qty(counts.want - counts.room)
        if counts.human_limits > 0:
            text = f"{label}: {missing} cannot get a stop: the person's closing orders leave room for only "
            text += f'{qty(counts.room)}; an OCO (take-profit + stop) would protect the rest'
            alerts.append(ctx.alert(AlertKind.BLOCKED_BY_HUMAN_ORDERS, Severity.WARNING, symbol, text))
        else:
            text = f'{label}: {missing} cannot get a stop yet: orders being cancelled or replaced still hold the room'
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
