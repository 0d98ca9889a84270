"""Random sequences of SDK calls on a paper account: cash, positions and the ledger must always add up.

A hypothesis state machine deposits, withdraws (including too much), buys, sells and moves the market through
the tastyware SDK's ``PaperSession``, and after every step checks the broker against a model kept here:

* positions are exactly the shares bought minus the shares sold, per symbol;
* every trade's value is the quantity times the touch (ask for buys, bid for sells), fees are never negative;
* cash is the deposits plus the trades' values minus the fees, and equals the ledger's sum of net values;
* net liquidating value is cash plus the positions at their marks.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Coroutine
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from paperbroker.server import PaperBroker

with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    from tastytrade import Account
    from tastytrade.order import FillBehavior, InstrumentType, Leg, MarketOrder, OrderAction, OrderStatus
    from tastytrade.paper import PaperSession
    from tastytrade.utils import TastytradeError

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.filterwarnings('ignore::DeprecationWarning')]
START = {'AAPL': ('190.20', '190.24'), 'KO': ('61.50', '61.52'), 'F': ('10.50', '10.51')}  # bid, ask
SYMBOLS = tuple(START)
T = TypeVar('T')
CENT = Decimal('0.01')


def test_random_sdk_sessions_always_add_up(tastyware_paper_broker: PaperBroker) -> None:
    broker = tastyware_paper_broker
    # One loop and one session for every example (a new session costs a TLS context: slow when shrinking).
    loop = asyncio.new_event_loop()
    paper = PaperSession(broker.tastyware_api_key)

    class PaperAccountMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.loop, self.paper = loop, paper
            self.deposits = Decimal(10_000)
            self.account: Account = self.run(self.paper.create_account('Random', initial_deposit=10_000))
            self.held = dict.fromkeys(SYMBOLS, 0)
            self.trade_value = Decimal(0)
            broker.admin.set_quotes([{'symbol': s, 'bid': bid, 'ask': ask} for s, (bid, ask) in START.items()])
            self.quotes = {s: (Decimal(bid), Decimal(ask)) for s, (bid, ask) in START.items()}

        def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
            return self.loop.run_until_complete(coroutine)

        def teardown(self) -> None:
            self.run(self.paper.delete_account(self.account))

        @rule(cents=st.integers(min_value=1, max_value=500_000))
        def deposit(self, cents: int) -> None:
            amount = Decimal(cents) * CENT
            self.run(self.paper.deposit(self.account, amount))
            self.deposits += amount

        @rule(cents=st.integers(min_value=1, max_value=2_000_000))
        def withdraw(self, cents: int) -> None:
            amount = Decimal(cents) * CENT
            cash = self.run(self.account.get_balances(self.paper)).cash_balance
            if amount > cash:
                with pytest.raises(TastytradeError, match='insufficient_funds'):
                    self.run(self.paper.deposit(self.account, -amount))
                return
            self.run(self.paper.deposit(self.account, -amount))
            self.deposits -= amount

        @rule(symbol=st.sampled_from(SYMBOLS), quantity=st.integers(min_value=1, max_value=40))
        def buy(self, symbol: str, quantity: int) -> None:
            self._trade(symbol, quantity, OrderAction.BUY_TO_OPEN)

        @precondition(lambda self: any(self.held.values()))
        @rule(data=st.data())
        def sell(self, data: st.DataObject) -> None:
            symbol = data.draw(st.sampled_from([s for s, q in self.held.items() if q]))
            quantity = data.draw(st.integers(min_value=1, max_value=self.held[symbol]))
            self._trade(symbol, quantity, OrderAction.SELL_TO_CLOSE)

        @rule(symbol=st.sampled_from(SYMBOLS), cents=st.integers(min_value=100, max_value=50_000))
        def move_market(self, symbol: str, cents: int) -> None:
            bid = Decimal(cents) * CENT
            ask = bid + CENT
            broker.admin.set_quote(symbol, bid=bid, ask=ask)
            self.quotes[symbol] = (bid, ask)

        def _trade(self, symbol: str, quantity: int, action: OrderAction) -> None:
            leg = Leg(instrument_type=InstrumentType.EQUITY, symbol=symbol, action=action, quantity=quantity)
            order = MarketOrder(legs=[leg], behavior=FillBehavior.IMMEDIATE)
            placed = self.run(self.account.place_order(self.paper, order, dry_run=False))
            assert self.run(self.account.get_order(self.paper, placed.order.id)).status == OrderStatus.FILLED
            bid, ask = self.quotes[symbol]
            buying = action == OrderAction.BUY_TO_OPEN
            self.held[symbol] += quantity if buying else -quantity
            self.trade_value += -quantity * ask if buying else quantity * bid

        @invariant()
        def positions_are_what_was_bought_minus_what_was_sold(self) -> None:
            positions = self.run(self.account.get_positions(self.paper))
            assert {p.symbol: int(p.quantity) for p in positions} == {s: q for s, q in self.held.items() if q}

        @invariant()
        def cash_is_deposits_plus_trades_minus_fees_and_matches_the_ledger(self) -> None:
            ledger = self.run(self.account.get_history(self.paper, page_offset=None))
            trades = [t for t in ledger if t.transaction_type == 'Trade']
            fees = sum((t.value - t.net_value for t in trades), Decimal(0))
            assert fees >= 0
            assert sum((t.value for t in trades), Decimal(0)) == self.trade_value
            balances = self.run(self.account.get_balances(self.paper))
            assert balances.cash_balance == self.deposits + self.trade_value - fees
            assert balances.cash_balance == sum((t.net_value for t in ledger), Decimal(0))
            marks = sum((q * (self.quotes[s][0] + self.quotes[s][1]) / 2 for s, q in self.held.items()), Decimal(0))
            assert balances.net_liquidating_value == balances.cash_balance + marks

    try:
        run_state_machine_as_test(
            PaperAccountMachine,
            settings=settings(
                max_examples=8,
                stateful_step_count=12,
                deadline=None,
                # No shrinking: each step is a few HTTP round trips, and shrinking could outlast the test's
                # timeout; a failing run of at most 12 steps is printed as it happened.
                phases=[Phase.explicit, Phase.reuse, Phase.generate],
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
            ),
        )
    finally:
        loop.run_until_complete(paper._client.aclose())
        loop.close()
