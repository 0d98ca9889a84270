"""Option expiration at the session close, early exercise and assignment.

At the configured close (:mod:`paperbroker.sessions`) of an expiration date, for every contract expiring that day:

1. **Working orders** on it end: an order whose every leg expires becomes ``Expired`` (as a Day order does at the
   close); an order with a leg on something that lives on (a calendar spread, a covered-call combo) is
   ``Cancelled`` by the broker (no cancel user), because it can no longer trade as a whole.
2. **Positions** settle by OCC's exercise-by-exception rule: a long at least $0.01 in the money (against the
   underlying's last trade, else its mark) is exercised, a short as far in the money is assigned (the paper
   broker assigns every short in full), everything else expires worthless. The holder's instruction
   (``/_paper/expiration-instructions``) overrides it: ``exercise`` (a long out of the money), ``expire`` (a
   long in the money left unexercised, or a short that happens not to be assigned), ``assign`` (a short
   assigned although out of the money). See :mod:`paperbroker.settlement` for what settles and how.
3. Everything changed is streamed: ``Order`` for each ended order, ``CurrentPosition`` for the option (quantity 0,
   direction ``Zero``) and for the delivered stock or future, and ``AccountBalance``.

Only closes the virtual clock crosses while the broker runs are settled automatically (a position seeded on an
already past expiration waits for ``POST /_paper/expirations``, which settles everything expiring up to a date at
once). Early exercise and assignment settle one position at once; the account's closing orders on the option
that the remaining position can no longer back are cancelled by the broker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from decimal import Decimal

from paperbroker.clock import ny_date
from paperbroker.core import Core
from paperbroker.lifecycle import Lifecycle
from paperbroker.model import Order, Position
from paperbroker.sessions import close_of
from paperbroker.settlement import ITM_THRESHOLD, Settled, intrinsic, option_of, settle_option, underlying_price

INSTRUCTIONS = ('exercise', 'expire', 'assign')


class Expirations:
    """Settles expiring options (called on every clock tick) and early exercises and assignments."""

    def __init__(self, core: Core, life: Lifecycle) -> None:
        self.core = core
        self.life = life

    def run_due(self) -> list[Settled]:
        """Settle the expiration dates whose session close the clock crossed since the last call."""
        state = self.core.state
        now = self.core.now()
        since = state.expirations_checked_at
        state.expirations_checked_at = now
        if since is None or now <= since:
            return []
        days: list[date] = []
        day = ny_date(since)
        while day <= ny_date(now):
            if since < close_of(day, self.core.settings) <= now:
                days.append(day)
            day += timedelta(days=1)
        settled: list[Settled] = []
        for day in days:
            settled += self.expire(day, only_that_day=True)
        return settled

    def expire(self, through: date, *, only_that_day: bool = False) -> list[Settled]:
        """Settle every contract expiring on ``through`` (or on any day up to it): orders, then positions."""

        def expiring(symbol: str) -> bool:
            option = option_of(self.core.state, symbol)
            if option is None:
                return False
            return option.expiration == through if only_that_day else option.expiration <= through

        self._end_orders(expiring)
        state = self.core.state
        due = [
            p
            for p in sorted(state.positions.values(), key=lambda p: (p.account_number, p.symbol))
            if p.quantity != 0 and expiring(p.symbol)
        ]
        settled = [self._settle_at_expiry(position) for position in due]
        self._emit(settled)
        return settled

    def exercise_early(self, account_number: str, symbol: str, quantity: Decimal | None, outcome: str) -> Settled:
        """Exercise (a long) or assign (a short) ``quantity`` contracts now; ``ValueError`` says what is wrong."""
        state = self.core.state
        position = state.positions.get((account_number, symbol))
        if position is None or position.quantity == 0:
            raise ValueError(f'no open {symbol} position in {account_number}')
        if option_of(state, symbol) is None:
            raise ValueError(f'{symbol} is a {position.instrument_type}, not an option')
        long = position.quantity > 0
        if outcome == 'exercise' and not long:
            raise ValueError(f'{symbol} is a short position in {account_number}: it can be assigned, not exercised')
        if outcome == 'assign' and long:
            raise ValueError(f'{symbol} is a long position in {account_number}: it can be exercised, not assigned')
        held = abs(position.quantity)
        size = held if quantity is None else quantity
        if size <= 0 or size != size.to_integral_value() or size > held:
            raise ValueError(f'quantity must be a whole number of contracts from 1 to {held:f}')
        result = settle_option(state, position, outcome, size, self.core.now())
        self._cancel_unbacked(position)
        self._emit([result])
        return result

    # --- helpers -------------------------------------------------------------------------------------------
    def _settle_at_expiry(self, position: Position) -> Settled:
        state = self.core.state
        option = option_of(state, position.symbol)
        assert option is not None
        price = underlying_price(state, option)
        in_the_money = price is not None and intrinsic(option, price) >= ITM_THRESHOLD
        long = position.quantity > 0
        outcome = ('exercise' if long else 'assign') if in_the_money else 'expire'
        instruction = state.instructions.pop((position.account_number, position.symbol), None)
        if instruction == 'expire' or (instruction == 'exercise' and long) or (instruction == 'assign' and not long):
            outcome = instruction
        return settle_option(state, position, outcome, abs(position.quantity), self.core.now())

    def _end_orders(self, expiring: Callable[[str], bool]) -> None:
        for order in sorted(self.core.state.orders.values(), key=lambda o: o.id or 0):
            if not (order.working or order.status == 'Contingent'):
                continue
            hits = [expiring(leg.symbol) for leg in order.legs]
            if not any(hits):
                continue
            if all(hits):
                self.life.set_status(order, 'Expired')
                self.life.after_terminal(order)
            else:
                self.life.finish_cancel(order, None)

    def _cancel_unbacked(self, position: Position) -> None:
        """After an early exercise or assignment: cancel closing orders on the option the position cannot back."""
        left = abs(position.quantity)
        for order in self._closing_orders(position):
            leg = next(leg for leg in order.legs if leg.symbol == position.symbol)
            if leg.remaining > left or left == 0:
                self.life.finish_cancel(order, None)

    def _closing_orders(self, position: Position) -> Iterable[Order]:
        for order in sorted(self.core.state.orders.values(), key=lambda o: o.id or 0):
            if order.account_number != position.account_number:
                continue
            if not (order.working or order.status == 'Contingent'):
                continue
            if any(leg.symbol == position.symbol and leg.is_closing for leg in order.legs):
                yield order

    def _emit(self, settled: list[Settled]) -> None:
        accounts: list[str] = []
        for result in settled:
            for position in result.positions:
                self.core.emit_position(position)
            if result.account_number not in accounts:
                accounts.append(result.account_number)
        for number in accounts:
            self.core.emit_balance(number)
