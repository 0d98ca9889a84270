"""Where a stop goes: the trigger (and limit) for one position under its effective policy.

Steps: the market reference (the price the broker triggers the stop at: see :func:`market_reference`) →
the basis (entry, mark, or high water) → the raw trigger (distance below a long, above a short; a short
option at a multiple of the credit) → the breach check (``when_breached``) or the min/max guards → tick
rounding toward the market, never onto or through it. A stop that the broker would trigger on arrival is
never the result: it is a breach.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tastyguard.config.distance import Distance
from tastyguard.config.effective import EffectivePolicy
from tastyguard.config.models import Severity
from tastyguard.config.policy import Basis, StopKind, TrailPrice, WhenBreached
from tastyguard.engine.actions import AlertKind
from tastyguard.engine.types import QuoteView
from tastyguard.engine.wording import approx, money
from tastyguard.ticks import Rounding, TickLike, round_to_tick, tick_for

_ZERO = Decimal(0)
_TWO = Decimal(2)
_TINY = Decimal('1e-12')


@dataclass(frozen=True, slots=True)
class Market:
    """The price a stop is checked against, and what it was (``bid``, ``ask``, ``last`` or ``mark``)."""

    price: Decimal
    label: str


@dataclass(frozen=True, slots=True)
class StopPrice:
    """A valid stop: trigger (and limit for a stop limit), on tick and on the safe side of the market."""

    trigger: Decimal
    limit: Decimal | None
    explanation: str


@dataclass(frozen=True, slots=True)
class NoStop:
    """Why no stop can be placed, as an alert."""

    kind: AlertKind
    severity: Severity
    explanation: str


def _positive(value: Decimal | None) -> Decimal | None:
    return value if value is not None and value > 0 else None


def market_reference(quote: QuoteView | None, long: bool) -> Market | None:
    """The price the broker triggers a stop at: the bid for a long's sell stop, the ask for a short's buy stop.

    When the quote has a book (a bid or an ask), the book decides and the last trade is ignored (it may be
    hours old):

    * a long with a zero or missing bid is judged against a bid of **0** (nobody is buying: any sell stop
      would trigger at once, so every stop is a breach);
    * a short with a zero or missing ask is judged against the highest price seen (bid, last, mark): the
      broker then triggers on the last trade, and a buy stop above all of them cannot trigger on arrival;
    * a crossed quote (bid above ask) is judged against the side that triggers sooner (the lower of the two
      for a long, the higher for a short).

    Only a quote without any book falls back to the last trade, then the mark. None: no usable price.
    """
    if quote is None:
        return None
    bid = quote.bid if quote.bid is not None and quote.bid >= 0 else None
    ask = _positive(quote.ask)
    last, mark = _positive(quote.last), _positive(quote.mark)
    if bid is None and ask is None:
        for label, value in (('last', last), ('mark', mark)):
            if value is not None:
                return Market(value, label)
        return None
    crossed = bid is not None and ask is not None and bid > ask
    if long:
        if crossed and ask is not None:
            return Market(ask, 'ask of a crossed quote')
        if bid is None or bid == 0:
            return Market(bid if bid is not None else _ZERO, 'bid')
        return Market(bid, 'bid')
    if crossed and bid is not None:
        return Market(bid, 'bid of a crossed quote')
    if ask is not None:
        return Market(ask, 'ask')
    seen = [(value, label) for label, value in (('bid', bid), ('last', last), ('mark', mark)) if value]
    if not seen:
        return None
    price, label = max(seen)
    return Market(price, f'{label} (no ask)')


def mark_price(quote: QuoteView | None) -> Decimal | None:
    """The mark, else the mid of a sane book (a zero bid counts), else the last price."""
    if quote is None:
        return None
    if quote.mark is not None and quote.mark > 0:
        return quote.mark
    bid, ask = quote.bid, _positive(quote.ask)
    if bid is not None and ask is not None and 0 <= bid <= ask:
        return (bid + ask) / _TWO
    return _positive(quote.last)


def trail_reference(quote: QuoteView | None, long: bool, how: TrailPrice) -> Decimal | None:
    """The price that moves a trailing mark, or None when this quote must not move it.

    Only a sane quote counts: no missing or zero side that ``how`` needs, never a crossed book (bid above
    ask). ``bid_ask`` is the bid for a long and the ask for a short (the price the position could be closed
    at), ``mark`` the mid, ``last`` the last trade (with a sane book when there is one).
    """
    if quote is None:
        return None
    bid, ask = _positive(quote.bid), _positive(quote.ask)
    if bid is not None and ask is not None and bid > ask:
        return None  # crossed: one side is wrong, and a mark must never move on a wrong price
    if how is TrailPrice.BID_ASK:
        return bid if long else ask
    if how is TrailPrice.MARK:
        return (bid + ask) / _TWO if bid is not None and ask is not None else None
    return _positive(quote.last)


def tighter(candidate: Decimal, than: Decimal, long: bool) -> bool:
    """True when ``candidate`` is closer to the market than ``than`` (higher for a long's sell stop)."""
    return candidate > than if long else candidate < than


def safe_side(price: Decimal, market: Decimal, ticks: tuple[TickLike, ...], long: bool) -> Decimal:
    """Round ``price`` toward the market onto a tick, but keep it strictly on the stop's side of ``market``.

    A long's sell stop rounds up, but never to or above the market (then: the largest tick below it; 0 when
    there is none); a short's buy stop rounds down, but never to or below the market.
    """
    if long:
        rounded = round_to_tick(price, ticks, Rounding.UP) if price > 0 else _ZERO
        if rounded >= market:
            rounded = round_to_tick(market - _TINY, ticks, Rounding.DOWN) if market > _TINY else _ZERO
        return rounded
    rounded = round_to_tick(price, ticks, Rounding.DOWN)
    return rounded if rounded > market else round_to_tick(market + _TINY, ticks, Rounding.UP)


def _market_text(market: Market) -> str:
    text = f'{market.label} {money(market.price)}'
    if market.price == 0:
        text += ' (nobody is bidding: any sell stop would trigger at once and sell at any price)'
    return text


def _basis(
    policy: EffectivePolicy, long: bool, entry: Decimal, mark: Decimal | None, high: Decimal | None
) -> tuple[Decimal | None, str]:
    if policy.basis is Basis.ENTRY:
        return (entry if entry > 0 else None), 'entry'
    if policy.basis is Basis.MARK:
        return mark, 'mark'
    # the mark counts only while no high-water mark exists: the stored one follows the policy's trail_price
    seen = [price for price in (entry, high if high is not None else mark) if price is not None and price > 0]
    if not seen:
        return None, 'high water'
    return (max(seen) if long else min(seen)), ('high water' if long else 'low water')


def _distance_text(distance: Distance, long: bool) -> str:
    return f'{distance} {"below" if long else "above"}'


def stop_level(
    policy: EffectivePolicy,
    *,
    long: bool,
    option: bool,
    entry: Decimal,
    mark: Decimal | None,
    high_water: Decimal | None = None,
) -> tuple[Decimal, str] | NoStop:
    """The unrounded stop level and how it was derived, before any check against the market.

    What a software stop watches (a level the broker cannot hold a stop for) and what :func:`compute_stop` starts
    from: the distance below a long's (above a short's) basis, a short option at a multiple of its premium.
    """
    basis, basis_name = _basis(policy, long, entry, mark, high_water)
    if basis is None:
        return NoStop(AlertKind.UNPROTECTABLE, Severity.WARNING, f'no {basis_name} price to measure the stop from')
    if option and not long:
        how = f'{money(policy.credit_multiple.normalize())}x the {basis_name} premium {approx(basis)}'
        return basis * policy.credit_multiple, how
    raw = basis - policy.distance.of(basis) if long else basis + policy.distance.of(basis)
    return raw, f'{_distance_text(policy.distance, long)} {basis_name} {approx(basis)}'


def compute_stop(
    policy: EffectivePolicy,
    *,
    long: bool,
    option: bool,
    entry: Decimal,
    quote: QuoteView | None,
    ticks: tuple[TickLike, ...],
    high_water: Decimal | None = None,
) -> StopPrice | NoStop:
    """The stop for a position under ``policy`` (see the module docstring), or why there is none."""
    market = market_reference(quote, long)
    if market is None:
        return NoStop(
            AlertKind.NO_QUOTE, Severity.WARNING, 'no quote, so the stop cannot be checked against the market'
        )
    level = stop_level(policy, long=long, option=option, entry=entry, mark=mark_price(quote), high_water=high_water)
    if isinstance(level, NoStop):
        return level
    raw, how = level
    breached = raw >= market.price if long else raw <= market.price
    if breached:
        through = f'the stop {approx(raw)} ({how}) is already through the {_market_text(market)}'
        if policy.when_breached is WhenBreached.ALERT:
            return NoStop(AlertKind.BREACHED, Severity.CRITICAL, f'{through}; no order (when_breached: alert)')
        if policy.when_breached is WhenBreached.SKIP:
            return NoStop(AlertKind.BREACHED, Severity.INFO, f'{through}; no order (when_breached: skip)')
        gap = policy.clamp_distance.of(market.price)
        raw = market.price - gap if long else market.price + gap
        how = f'{through}; clamped to {_distance_text(policy.clamp_distance, long)} the {market.label}'
    else:
        raw, how = _guard(policy, raw, how, market, long)
    if raw <= 0:
        return NoStop(AlertKind.UNPROTECTABLE, Severity.WARNING, f'{how}: that puts the stop at or below zero')
    trigger = safe_side(raw, market.price, ticks, long)
    if trigger <= 0:
        return NoStop(AlertKind.UNPROTECTABLE, Severity.WARNING, f'{how}: the stop rounds to zero on this tick table')
    tick = money(tick_for(trigger, ticks))
    toward = round_to_tick(raw, ticks, Rounding.UP if long else Rounding.DOWN)
    if trigger == toward:
        how += f', rounded {"up" if long else "down"} to tick {tick}'
    else:
        how += f', kept one tick {"below" if long else "above"} the {market.label} {money(market.price)} (tick {tick})'
    limit = limit_price(policy, trigger, ticks, long) if policy.kind is StopKind.STOP_LIMIT else None
    return StopPrice(trigger, limit, how)


def _guard(policy: EffectivePolicy, raw: Decimal, how: str, market: Market, long: bool) -> tuple[Decimal, str]:
    """Clamp the stop's distance from the market into [min_distance, max_distance]."""
    gap = market.price - raw if long else raw - market.price
    for name, guard in (('min_distance', policy.min_distance), ('max_distance', policy.max_distance)):
        if guard is None:
            continue
        limit = guard.of(market.price)
        if gap < limit if name == 'min_distance' else gap > limit:
            verb = 'widened' if name == 'min_distance' else 'tightened'
            moved = market.price - limit if long else market.price + limit
            where = f'{_distance_text(guard, long)} the {market.label} {money(market.price)}'
            return moved, f'{how}; {verb} to {name} ({where})'
    return raw, how


def limit_price(policy: EffectivePolicy, trigger: Decimal, ticks: tuple[TickLike, ...], long: bool) -> Decimal:
    """A stop limit's limit: ``limit_offset`` past the trigger, rounded away from the market (reachable).

    A long's limit below a cheap trigger never goes below the smallest tick.
    """
    offset = policy.limit_offset.of(trigger)
    if long:
        raw = trigger - offset
        floor = round_to_tick(_TINY, ticks, Rounding.UP)
        return max(round_to_tick(raw, ticks, Rounding.DOWN) if raw > 0 else floor, floor)
    return round_to_tick(trigger + offset, ticks, Rounding.UP)


def trail_step(policy: EffectivePolicy, reference: Decimal) -> Decimal:
    """The smallest move worth a replace for a trailing stop (``trail_min_step`` of ``reference``)."""
    return policy.trail_min_step.of(reference)
