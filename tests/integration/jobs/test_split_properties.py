"""A stateful property test against the paper broker: random splits and reverse splits (odd lots included).

Random long and short stock positions get tastyguard's stops; then, in random order, the broker splits a stock by a
random ratio overnight (treating working orders by any of its three policies: FINRA 5330 adjustment, cancel,
keep), tastyguard runs, the market opens. After every run: each position has exactly one stop of tastyguard's,
on the closing side, on a valid tick, strictly on the safe side of the new market, for exactly the new
quantity, at the policy's price measured from the new average open price; no stop of ours is left on a position
that is gone; and running again changes nothing.

``TG_PROPERTY_EXAMPLES`` raises the number of examples (default 10, about 25 seconds, some 25 splits).
"""

from __future__ import annotations

import os
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, ClassVar

import boto3
import pytest
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule, run_state_machine_as_test

from paperbroker.server import PaperBroker
from tastyguard.jobs.invocation import JobName
from tastyguard.store.schema import STATE_TABLE, create_tables
from tests.integration.jobs.conftest import Harness, broker_clock, make_harness

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXAMPLES = int(os.environ.get('TG_PROPERTY_EXAMPLES', '10'))
ACCOUNT = '5WT00001'
SYMBOLS = ('AAPL', 'KO', 'F')
RATIOS = ('2:1', '3:1', '3:2', '4:1', '5:4', '7:2', '10:1', '1:2', '1:3', '2:3', '1:5', '1:10')
ODD_LOTS = st.sampled_from([1, 3, 7, 33, 99, 101, 105, 250, 333, 1001, 1234])
CENT = Decimal('0.01')


def _tick(price: Decimal) -> Decimal:
    return Decimal('0.0001') if price < 1 else CENT


def _on_tick(price: Decimal) -> bool:
    return price % _tick(price) == 0


def _policy_stop(average: Decimal, long: bool) -> Decimal:
    """The built-in policy (10% from entry), rounded toward the market onto the equity tick table."""
    raw = average * (Decimal('0.9') if long else Decimal('1.1'))
    tick = _tick(raw)
    return (raw / tick).to_integral_value(rounding=ROUND_CEILING if long else ROUND_FLOOR) * tick


class SplitMachine(RuleBasedStateMachine):
    broker: ClassVar[PaperBroker]

    def __init__(self) -> None:
        super().__init__()
        _empty_state_table()
        self.broker.reset('empty', cash=5_000_000)
        # The breaker counts writes in windows of the wall clock: with its default of 6 writes per position, a few
        # splits of one symbol trip it or not depending on where a window ends, so the same example could pass
        # and fail (test_splits has the breaker's own case).
        self.harness: Harness = make_harness(
            self.broker,
            'live',
            clock=broker_clock(self.broker),
            accounts=[{'account_number': ACCOUNT}],
            safety={'max_order_writes': 5000, 'max_writes_per_symbol': 100},
        )
        self.symbols: list[str] = []
        self.ran = True

    # --- the world -------------------------------------------------------------------------------------------
    @initialize(
        holdings=st.lists(
            st.tuples(
                st.sampled_from(SYMBOLS),
                ODD_LOTS,
                st.booleans(),
                st.integers(min_value=2000, max_value=40000),
                st.integers(min_value=0, max_value=45),
            ),
            min_size=1,
            max_size=3,
            unique_by=lambda h: h[0],
        )
    )
    def seed(self, holdings: list[tuple[str, int, bool, int, int]]) -> None:
        admin = self.broker.admin
        for symbol, quantity, long, cents, gain in holdings:
            price = Decimal(cents) / 100
            # in profit, so the policy's stop is never through the market (a breach would place no stop at all)
            entry = (price * (1 - Decimal(gain) / 100 if long else 1 + Decimal(gain) / 100)).quantize(CENT)
            admin.add_position(
                ACCOUNT, symbol, quantity if long else -quantity, entry, bid=price, ask=price + CENT, last=price
            )
            self.symbols.append(symbol)
        self.run_jobs()

    @rule(data=st.data(), ratio=st.sampled_from(RATIOS), orders=st.sampled_from(('adjust', 'cancel', 'keep')))
    def split(self, data: st.DataObject, ratio: str, orders: str) -> None:
        symbol = data.draw(st.sampled_from(self.symbols))
        quote = next(q for q in self.broker.admin.state()['quotes'] if q['symbol'] == symbol)
        new, old = (int(part) for part in ratio.split(':'))
        after = Decimal(quote['bid']) * Decimal(old) / Decimal(new)
        if not Decimal(1) <= after <= Decimal(5000):
            return  # keep prices where the equity tick table is simple
        self.broker.admin.set_market_open(False)  # splits take effect overnight
        result = self.broker.admin.split(symbol, ratio, orders=orders)
        odd = any(p['cash-in-lieu'] != '0.0' for p in result['positions'])
        event(f'split, orders {orders}, {"odd lot" if odd else "whole shares"}')
        self.ran = False

    @rule()
    def run_jobs(self) -> None:
        self.harness.run(JobName.SYNC_POSITIONS, tick=self.harness.ctx.clock())
        self.harness.run(JobName.ENSURE_STOPS, tick=self.harness.ctx.clock())
        self.ran = True
        self._check()
        self.broker.admin.clear_requests()
        self.harness.run(JobName.ENSURE_STOPS, tick=self.harness.ctx.clock())
        assert self.harness.writes() == [], 'a second run must change nothing'

    @precondition(lambda self: self.ran)
    @rule()
    def open_market(self) -> None:
        self.broker.admin.set_market_open(True)
        self._check()  # nothing of ours triggers at the open

    # --- the property ------------------------------------------------------------------------------------------
    def _check(self) -> None:
        admin = self.broker.admin
        positions = {p['symbol']: p for p in admin.positions(ACCOUNT)}
        quotes = {q['symbol']: q for q in admin.state()['quotes']}
        ours: dict[str, list[dict[str, Any]]] = {}
        for order in self.harness.working(ACCOUNT):
            if str(order.get('external-identifier', '')).startswith('tg-'):
                ours.setdefault(order['legs'][0]['symbol'], []).append(order)
        assert set(ours) <= set(positions), f'stops of ours on gone positions: {set(ours) - set(positions)}'
        for symbol, position in positions.items():
            long = position['quantity-direction'] == 'Long'
            quantity = Decimal(position['quantity'])
            stops = ours.get(symbol, [])
            assert len(stops) == 1, f'{symbol}: {len(stops)} stops of ours'
            (stop,) = stops
            leg = stop['legs'][0]
            trigger = Decimal(stop['stop-trigger'])
            assert leg['action'] == ('Sell to Close' if long else 'Buy to Close')
            assert Decimal(str(leg['remaining-quantity'])) == quantity, f'{symbol}: covers {leg} of {quantity}'
            assert _on_tick(trigger), f'{symbol}: {trigger} is off tick'
            market = Decimal(quotes[symbol]['bid'] if long else quotes[symbol]['ask'])
            assert (trigger < market) if long else (trigger > market), f'{symbol}: {trigger} vs market {market}'
            assert trigger == _policy_stop(Decimal(position['average-open-price']), long), f'{symbol}: {stop}'


def _empty_state_table() -> None:
    """A fresh account history for each example (deleting items is much faster than recreating the table)."""
    create_tables(boto3.client('dynamodb'))  # once per test: later examples find the tables there
    table = boto3.resource('dynamodb').Table(STATE_TABLE.name)
    with table.batch_writer() as batch:
        for item in table.scan(ProjectionExpression='pk, sk')['Items']:
            batch.delete_item(Key={'pk': item['pk'], 'sk': item['sk']})


def test_every_stop_fits_the_split_position(paper_broker_server: PaperBroker, aws: None) -> None:
    SplitMachine.broker = paper_broker_server
    run_state_machine_as_test(
        SplitMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=10,
            deadline=None,
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],  # no slow "explain" tracing
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
