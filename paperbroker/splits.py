"""Stock splits and reverse splits: positions, average open prices, quotes, options and working orders.

A split by ratio *r* (new shares per old share: ``2:1`` → 2, ``1:10`` → 0.1) changes no economic value:

* **Positions**: quantity × *r*; a fractional share is paid out in cash at the post-split price ("cash in
  lieu", a ``Money Movement`` / ``Cash In Lieu`` transaction), so the position keeps whole shares (a short
  pays for its fraction). The average open price becomes the old one ÷ *r*, so the cost basis of the whole
  shares is unchanged; the position keeps its ``created-at``. Two ``Receive Deliver`` transactions record it as
  tastytrade does (sub-type ``Forward Split`` / ``Reverse Split``): ``Forward split: Close 54.0 TQQQ`` and
  ``Forward split: Open 108.0 TQQQ``, both valued at the old cost basis.
* **Quotes** are divided by *r* onto the tick table (bid down, ask up), and streamed.
* **Options** on the stock: an integer forward split (2:1, 3:1...) gives *r* contracts per contract at
  strike ÷ *r* (the OCC standard adjustment), under the new OCC symbol. Other ratios make OCC issue adjusted
  contracts with a non-standard deliverable, which the paper broker does not emulate: such a split is refused
  while option positions on the stock exist.
* **Working orders**, by the ``orders`` choice: ``adjust`` (default) follows FINRA Rule 5330 (Adjustment of
  Orders): on a forward split a single-leg stock order's quantity is multiplied by *r* (rounded down to whole
  shares) and its stop trigger and limit divided by *r* (rounded down to the tick); on a reverse split open
  orders are cancelled. Multi-leg orders with a leg on the stock and orders on its (old) option contracts are
  cancelled. ``cancel``: every working order on the stock and its options is cancelled by the broker (what many
  brokers do on any corporate action). ``keep``: nothing is changed, so the orders keep their pre-split
  quantities and prices (the hazard a guardian must repair).

Apply a split with the market closed (``/_paper/market``) to model the usual overnight corporate action: with the
market open, kept orders are checked against the new prices at once, as they would be at the next open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any

from paperbroker.amounts import ZERO, fmt, fmt_qty, money
from paperbroker.core import Core
from paperbroker.instruments import Equity, EquityOption, Tick, occ_symbol, tick_for
from paperbroker.lifecycle import Lifecycle
from paperbroker.model import Order, Position, Quote, Transaction

ORDER_MODES = ('adjust', 'cancel', 'keep')
_RATIO = re.compile(r'^\s*(\d+(?:\.\d+)?)\s*(?::|-for-|/|for)\s*(\d+(?:\.\d+)?)\s*$', re.IGNORECASE)


def parse_ratio(raw: object) -> Fraction:
    """``'2:1'``, ``'3-for-2'``, ``'1:10'``, ``2``, ``'0.1'`` → new shares per old share."""
    text = str(raw).strip() if isinstance(raw, int | float | str) and not isinstance(raw, bool) else ''
    match = _RATIO.match(text)
    try:
        ratio = Fraction(match[1]) / Fraction(match[2]) if match else Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f'"ratio" must look like "2:1", "3:2" or "1:10" (new:old shares), not {raw!r}') from None
    if ratio <= 0 or ratio == 1:
        raise ValueError(f'"ratio" must be positive and not 1:1, not {raw!r}')
    return ratio


@dataclass
class SplitResult:
    """What one split did (the admin API answers with it)."""

    symbol: str
    ratio: Fraction
    positions: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            'symbol': self.symbol,
            'ratio': f'{self.ratio.numerator}:{self.ratio.denominator}',
            'kind': 'Forward Split' if self.ratio > 1 else 'Reverse Split',
            'positions': self.positions,
            'orders': self.orders,
        }


def _decimal(value: Fraction) -> Decimal:
    return Decimal(value.numerator) / Decimal(value.denominator)


def _on_tick(price: Decimal, ticks: list[Tick], rounding: str) -> Decimal:
    tick = tick_for(price, ticks)
    return ((price / tick).to_integral_value(rounding=rounding) * tick).normalize()


class Splits:
    """Applies splits to the whole broker (every account holding or trading the stock)."""

    def __init__(self, core: Core, life: Lifecycle) -> None:
        self.core = core
        self.life = life

    def apply(self, symbol: str, ratio: Fraction, orders: str = 'adjust') -> SplitResult:
        """Split ``symbol`` by ``ratio``; ``ValueError`` names what is wrong (nothing is changed then)."""
        state = self.core.state
        instrument = state.registry.get(symbol)
        if not isinstance(instrument, Equity):
            raise ValueError(f'{symbol!r} is not a stock the paper broker knows (set a quote for it first)')
        if orders not in ORDER_MODES:
            raise ValueError(f'"orders" must be one of {", ".join(ORDER_MODES)}')
        options = [
            p
            for p in state.positions.values()
            if p.quantity != 0 and isinstance(state.registry.get(p.symbol), EquityOption)
            and p.underlying_symbol == symbol
        ]  # fmt: skip
        whole = ratio.denominator == 1
        if options and not whole:
            raise ValueError(
                f'a {ratio.numerator}:{ratio.denominator} split makes OCC issue adjusted {symbol} options with a '
                'non-standard deliverable, which the paper broker does not emulate; close the option positions '
                f'({", ".join(sorted({p.symbol for p in options}))}) first or use an integer forward ratio'
            )
        for position in options:
            option = state.registry.get(position.symbol)
            assert isinstance(option, EquityOption)
            if (option.strike * 1000 / _decimal(ratio)) % 1:
                raise ValueError(f'{position.symbol}: strike {option.strike} / {ratio} has no OCC symbol')
        result = SplitResult(instrument.symbol, ratio)
        now = self.core.now()
        self._orders(symbol, ratio, orders, result)
        quotes = [self._scale_quote(symbol, ratio, instrument.ticks, now)]
        for position in sorted(state.positions.values(), key=lambda p: (p.account_number, p.symbol)):
            if position.quantity != 0 and position.symbol == symbol:
                result.positions.append(self._split_position(position, ratio, now))
        for position in sorted(options, key=lambda p: (p.account_number, p.symbol)):
            result.positions.append(self._split_option(position, ratio, now, quotes))
        self.life.evaluate_symbols({q.symbol for q in quotes if q is not None})
        for quote in quotes:
            if quote is not None:
                self.core.hub.quote_changed(quote.symbol)
        for number in sorted({entry['account-number'] for entry in result.positions}):
            self.core.emit_balance(number)
        return result

    # --- positions -----------------------------------------------------------------------------------------
    def _split_position(self, position: Position, ratio: Fraction, now: datetime) -> dict[str, Any]:
        state = self.core.state
        old_qty, old_avg = position.quantity, position.average_open_price
        exact = _decimal(Fraction(old_qty) * ratio)
        kept = exact.to_integral_value(rounding=ROUND_DOWN)
        fraction = exact - kept
        new_avg = money(old_avg / _decimal(ratio), 6).normalize()
        quote = state.quotes.get(position.symbol)
        price = (quote.last if quote and quote.last is not None else quote.mark if quote else None) or new_avg
        position.quantity, position.average_open_price, position.updated_at = kept, new_avg, now
        self._split_rows(position, ratio, old_qty, old_avg, kept, new_avg, now)
        cash = ZERO
        if fraction:
            cash = money(fraction * price, 2)
            position.realized_day_gain += (price - new_avg) * fraction
            state.accounts[position.account_number].cash += cash
            state.transactions.append(
                Transaction(
                    id=state.new_transaction_id(), account_number=position.account_number,
                    transaction_type='Money Movement', sub_type='Cash In Lieu',
                    description=f'Cash in lieu of {fmt_qty(abs(fraction))} {position.symbol} shares', executed_at=now,
                    value=cash, net_value=cash, symbol=position.symbol, instrument_type='Equity',
                    underlying_symbol=position.symbol, quantity=abs(fraction), price=price,
                )
            )  # fmt: skip
        self.core.emit_position(position)
        return {
            'account-number': position.account_number,
            'symbol': position.symbol,
            'old-quantity': fmt_qty(old_qty),
            'new-quantity': fmt_qty(kept),
            'old-average-open-price': fmt(old_avg),
            'new-average-open-price': fmt(new_avg),
            'cash-in-lieu': fmt(cash),
        }

    def _split_option(
        self, position: Position, ratio: Fraction, now: datetime, quotes: list[Quote | None]
    ) -> dict[str, Any]:
        state = self.core.state
        option = state.registry.get(position.symbol)
        assert isinstance(option, EquityOption)
        factor = _decimal(ratio)
        symbol = occ_symbol(option.root, option.expiration, option.option_type, option.strike / factor)
        new = state.registry.ensure(symbol, 'Equity Option')
        old_quote = state.quotes.get(position.symbol)
        if old_quote is not None and new.symbol not in state.quotes:
            scaled = Quote(new.symbol, updated_at=now)
            for name in ('bid', 'ask', 'last', 'prev_close', 'open', 'high', 'low'):
                value = getattr(old_quote, name)
                rounding = ROUND_FLOOR if name == 'bid' else ROUND_CEILING if name == 'ask' else ROUND_HALF_EVEN
                setattr(scaled, name, None if value is None else _on_tick(value / factor, new.ticks, rounding))
            state.quotes[new.symbol] = scaled
            quotes.append(scaled)
        old_qty, old_avg = position.quantity, position.average_open_price
        new_qty, new_avg = old_qty * factor, money(old_avg / factor, 6).normalize()
        position.quantity, position.updated_at = ZERO, now
        target = state.positions.get((position.account_number, new.symbol))
        if target is None or target.quantity == 0:
            target = Position(
                position.account_number, new.symbol, new.instrument_type, new.underlying_symbol, ZERO, new_avg,
                new.multiplier, position.created_at, now,
            )  # fmt: skip
            state.positions[(position.account_number, new.symbol)] = target
        target.quantity, target.average_open_price, target.updated_at = new_qty, new_avg, now
        self._split_rows(position, ratio, old_qty, old_avg, new_qty, new_avg, now, opened=target)
        self.core.emit_position(position)
        self.core.emit_position(target)
        return {
            'account-number': position.account_number,
            'symbol': position.symbol,
            'new-symbol': new.symbol,
            'old-quantity': fmt_qty(old_qty),
            'new-quantity': fmt_qty(new_qty),
            'old-average-open-price': fmt(old_avg),
            'new-average-open-price': fmt(new_avg),
            'cash-in-lieu': '0.0',
        }

    def _split_rows(
        self,
        position: Position,
        ratio: Fraction,
        old_qty: Decimal,
        old_avg: Decimal,
        new_qty: Decimal,
        new_avg: Decimal,
        now: datetime,
        opened: Position | None = None,
    ) -> None:
        state = self.core.state
        kind = 'Forward Split' if ratio > 1 else 'Reverse Split'
        label = kind.split(maxsplit=1)[0]
        long = old_qty > 0
        basis = abs(old_qty) * old_avg * position.multiplier
        rows = [
            (position, 'Sell to Close' if long else 'Buy to Close', abs(old_qty), old_avg, basis if long else -basis),
        ]
        if new_qty:
            target = opened or position
            rows.append(
                (target, 'Buy to Open' if long else 'Sell to Open', abs(new_qty), new_avg, -basis if long else basis)
            )
        for where, action, quantity, price, value in rows:
            verb = 'Close' if action.endswith('Close') else 'Open'
            state.transactions.append(
                Transaction(
                    id=state.new_transaction_id(), account_number=position.account_number,
                    transaction_type='Receive Deliver', sub_type=kind,
                    description=f'{label} split: {verb} {quantity:.1f} {where.symbol}', executed_at=now, value=value,
                    net_value=value, symbol=where.symbol, instrument_type=where.instrument_type,
                    underlying_symbol=where.underlying_symbol, action=action, quantity=quantity, price=price,
                )
            )  # fmt: skip

    # --- quotes and orders ---------------------------------------------------------------------------------
    def _scale_quote(self, symbol: str, ratio: Fraction, ticks: list[Tick], now: datetime) -> Quote | None:
        quote = self.core.state.quotes.get(symbol)
        if quote is None:
            return None
        factor = _decimal(ratio)
        for name in ('bid', 'ask', 'last', 'prev_close', 'open', 'high', 'low'):
            value = getattr(quote, name)
            if value is not None:
                rounding = ROUND_FLOOR if name == 'bid' else ROUND_CEILING if name == 'ask' else ROUND_HALF_EVEN
                setattr(quote, name, _on_tick(value / factor, ticks, rounding))
        quote.volume = (quote.volume * factor).to_integral_value(rounding=ROUND_DOWN)
        quote.updated_at = now
        return quote

    def _orders(self, symbol: str, ratio: Fraction, mode: str, result: SplitResult) -> None:
        if mode == 'keep':
            return
        state = self.core.state
        for order in sorted(state.orders.values(), key=lambda o: o.id or 0):
            if not (order.working or order.status == 'Contingent'):
                continue
            on_stock = any(leg.symbol == symbol for leg in order.legs)
            on_options = any(
                isinstance(state.registry.get(leg.symbol), EquityOption) and order.underlying_symbol == symbol
                for leg in order.legs
            )
            if not (on_stock or on_options):
                continue
            adjustable = mode == 'adjust' and ratio > 1 and on_stock and len(order.legs) == 1
            if adjustable and self._adjust(order, ratio):
                result.orders.append({'id': order.id, 'action': 'adjusted'})
                continue
            self.life.finish_cancel(order, None)
            result.orders.append({'id': order.id, 'action': 'cancelled'})

    def _adjust(self, order: Order, ratio: Fraction) -> bool:
        """FINRA 5330 on a forward split: more shares, lower prices (rounded down); False: cancel it instead."""
        instrument = self.core.state.registry.get(order.legs[0].symbol)
        assert isinstance(instrument, Equity)
        leg = order.legs[0]
        factor = _decimal(ratio)
        remaining = (leg.remaining * factor).to_integral_value(rounding=ROUND_DOWN)
        if remaining <= 0:
            return False
        filled = leg.quantity - leg.remaining
        leg.quantity, leg.remaining = filled + remaining, remaining
        order.size = leg.quantity
        if order.stop_trigger is not None:
            order.stop_trigger = _on_tick(order.stop_trigger / factor, instrument.ticks, ROUND_FLOOR)
        if order.price is not None:
            order.price = _on_tick(order.price / factor, instrument.ticks, ROUND_FLOOR)
        self.core.touch(order)
        self.core.emit_order(order)
        return True
