"""Recognising position events from transactions and position reads (pure), and how messages name them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tastyguard.broker.models.transactions import Transaction
from tastyguard.config.models import Severity
from tastyguard.engine.types import Holding, InstrumentType
from tastyguard.jobs.changes import Changes
from tastyguard.jobs.event_text import describe
from tastyguard.jobs.overnight import fold_order_changes
from tastyguard.jobs.recognition import (
    explains,
    from_transactions,
    needs_explaining,
    plausible_split,
    splits_from_positions,
    traded_symbols,
)
from tastyguard.notify.dedupe import AlertCandidate
from tastyguard.store.position_events import EventKind
from tastyguard.store.snapshots import HeldPosition

pytestmark = pytest.mark.unit

D = Decimal
NOW = datetime(2026, 12, 14, 14, 0, tzinfo=UTC)
AT = datetime(2026, 12, 11, 21, 1, tzinfo=UTC)
PUT = 'SPY   261211P00570000'
ACCOUNT = '5WT00001'


def tx(tx_id: int, sub_type: str, symbol: str, quantity: str, **extra: Any) -> Transaction:
    row = {
        'id': tx_id,
        'account-number': ACCOUNT,
        'transaction-type': extra.pop('type', 'Receive Deliver'),
        'transaction-sub-type': sub_type,
        'symbol': symbol,
        'quantity': quantity,
        'executed-at': extra.pop('at', AT).isoformat(),
        **{k.replace('_', '-'): v for k, v in extra.items()},
    }
    return Transaction.model_validate(row)


def held(symbol: str, quantity: str, price: str, kind: str = 'Equity') -> HeldPosition:
    return HeldPosition(symbol=symbol, instrument_type=kind, quantity=D(quantity), average_open_price=D(price))


def holding(symbol: str, quantity: str, price: str) -> Holding:
    return Holding(ACCOUNT, symbol, InstrumentType.EQUITY, symbol, D(quantity), D(price))


def test_an_assignment_is_paired_with_its_delivery() -> None:
    rows = [
        tx(2, 'Buy to Open', 'SPY', '300.0', action='Buy to Open', instrument_type='Equity', price='570.0'),
        tx(
            1, 'Assignment', PUT, '3.0', action='Buy to Close', instrument_type='Equity Option', underlying_symbol='SPY'
        ),
        tx(3, 'Trade', 'SPY', '10', type='Trade', action='Buy to Open', instrument_type='Equity'),
    ]

    (event,) = from_transactions(rows, NOW, {})

    assert (event.kind, event.event_id, event.quantity, event.strike) == (EventKind.ASSIGNMENT, 'tx:1', D(-3), D(570))
    assert [(d.symbol, d.quantity, d.price) for d in event.deliveries] == [('SPY', D(300), D(570))]
    assert describe(event) == 'SPY 12/11/26 570 put (short 3) was assigned: bought 300 SPY at 570.00'


def test_a_delivery_across_zero_is_netted_into_one() -> None:
    rows = [
        tx(
            1, 'Assignment', PUT, '3.0', action='Buy to Close', instrument_type='Equity Option', underlying_symbol='SPY'
        ),
        tx(2, 'Buy to Close', 'SPY', '100.0', action='Buy to Close', instrument_type='Equity', price='570.0'),
        tx(3, 'Buy to Open', 'SPY', '200.0', action='Buy to Open', instrument_type='Equity', price='570.0'),
    ]

    (event,) = from_transactions(rows, NOW, {})

    assert [d.quantity for d in event.deliveries] == [D(300)]


def test_a_delivery_far_from_the_removal_belongs_to_something_else() -> None:
    rows = [
        tx(1, 'Exercise', PUT, '1.0', action='Sell to Close', instrument_type='Equity Option', underlying_symbol='SPY'),
        tx(2, 'Sell to Close', 'SPY', '100.0', instrument_type='Equity', at=AT + timedelta(hours=2), price='570'),
    ]

    (event,) = from_transactions(rows, NOW, {})

    assert event.deliveries == () and event.kind is EventKind.EXERCISE and event.quantity == D(1)


def test_an_expiration_without_an_action_takes_its_side_from_the_last_read() -> None:
    (event,) = from_transactions([tx(1, 'Expiration', PUT, '3.0', instrument_type='Equity Option')], NOW, {PUT: D(-3)})

    assert event.quantity == D(-3) and describe(event) == 'SPY 12/11/26 570 put (short 3) expired worthless'


def test_cash_settlement_keeps_the_cash() -> None:
    row = tx(
        1, 'Cash Settled Exercise', 'SPXW  261211C05800000', '1.0', action='Sell to Close',
        instrument_type='Equity Option', underlying_symbol='SPX', value='5000.0', value_effect='Credit',
    )  # fmt: skip

    (event,) = from_transactions([row], NOW, {})

    assert (event.kind, event.cash) == (EventKind.CASH_SETTLEMENT, D(5000))
    assert describe(event).endswith('was settled in cash: received 5,000.00 in cash')


def test_a_split_is_read_from_its_two_rows_with_the_ratio_from_the_prices() -> None:
    rows = [
        tx(8, 'Forward Split', 'AAPL', '101.0', action='Sell to Close', instrument_type='Equity', price='150.0'),
        tx(9, 'Forward Split', 'AAPL', '151.0', action='Buy to Open', instrument_type='Equity', price='100.0'),
    ]

    (event,) = from_transactions(rows, NOW, {})

    assert (event.kind, event.ratio, event.quantity, event.new_quantity) == (
        EventKind.SPLIT,
        Fraction(3, 2),
        D(101),
        D(151),
    )
    assert describe(event) == 'AAPL 3:2 split: 101 → 151 shares, average open 150 → 100 (no trade: a corporate action)'


def test_a_split_option_is_read_as_its_old_contract_turned_into_the_adjusted_one() -> None:
    old, new, other = 'AAPL  270115P00180000', 'AAPL  270115P00090000', 'AAPL  270115C00100000'
    option = {'instrument_type': 'Equity Option', 'underlying_symbol': 'AAPL'}
    rows = [
        tx(8, 'Forward Split', old, '2.0', action='Buy to Close', price='3.0', **option),
        tx(9, 'Forward Split', other, '4.0', action='Buy to Close', price='1.0', **option),
        tx(10, 'Forward Split', 'AAPL  270115C00050000', '8.0', action='Sell to Open', price='0.5', **option),
        tx(11, 'Forward Split', new, '4.0', action='Sell to Open', price='1.5', **option),
    ]

    events = {event.symbol: event for event in from_transactions(rows, NOW, {})}

    first, second = events[old], events[other]
    assert (first.symbol, first.new_symbol, first.quantity, first.new_quantity, first.ratio) == (
        old,
        new,
        D(-2),
        D(-4),
        Fraction(2),
    )
    assert first.symbols == {old, new} and first.underlying_symbol == 'AAPL'
    assert (second.symbol, second.new_symbol) == (other, 'AAPL  270115C00050000')
    assert describe(first) == (
        'AAPL 2:1 split: AAPL 01/15/27 180 put (short 2) → AAPL 01/15/27 90 put (short 4), '
        'average open 3 → 1.5 (no trade: a corporate action)'
    )


def test_a_split_seen_only_in_the_positions() -> None:
    before = {'AAPL': held('AAPL', '101', '150.00')}
    now = {'AAPL': holding('AAPL', '151', '100.000000')}

    (event,) = splits_from_positions(before, now, set(), NOW)

    assert event.ratio == Fraction(3, 2) and event.source == 'positions'
    assert splits_from_positions(before, now, {'AAPL'}, NOW) == []  # a trade explains it instead


@pytest.mark.parametrize(
    ('old', 'new', 'ratio'),
    [
        (('100', '178.50'), ('200', '89.25'), Fraction(2)),
        (('105', '9.00'), ('10', '90.00'), Fraction(1, 10)),
        (('-30', '250.00'), ('-90', '83.333333'), Fraction(3)),
        (('100', '150.00'), ('200', '100.00'), None),  # bought 100 more at 50: the basis grew, no split
        (('100', '150.00'), ('50', '150.00'), None),  # sold half
        (('100', '150.00'), ('-100', '150.00'), None),  # flipped
    ],
)
def test_plausible_split(old: tuple[str, str], new: tuple[str, str], ratio: Fraction | None) -> None:
    assert plausible_split(held('X', *old), holding('X', *new)) == ratio


@given(
    quantity=st.integers(min_value=1, max_value=10**6),
    ratio=st.sampled_from([Fraction(2), Fraction(3, 2), Fraction(1, 10), Fraction(20), Fraction(1, 3), Fraction(5, 4)]),
    cents=st.integers(min_value=100, max_value=10**7),
)
def test_any_broker_rounded_split_is_recognised_with_its_ratio(quantity: int, ratio: Fraction, cents: int) -> None:
    price = D(cents) / 100
    new_qty = int(quantity * ratio)
    new_price = (price * ratio.denominator / ratio.numerator).quantize(D('0.000001'))
    if new_qty == 0:
        return
    assert plausible_split(held('X', str(quantity), str(price)), holding('X', str(new_qty), str(new_price))) == ratio


def test_what_needs_a_transactions_read() -> None:
    option = {PUT: held(PUT, '-3', '4.10', 'Equity Option')}
    assert needs_explaining(option, {})  # an option vanished
    assert needs_explaining({}, {'SPY': holding('SPY', '300', '570')})  # stock appeared
    assert needs_explaining({'A': held('A', '100', '150')}, {'A': holding('A', '200', '75')})  # split-like
    assert not needs_explaining({'A': held('A', '100', '150')}, {'A': holding('A', '50', '150')})  # a sale
    assert not needs_explaining({'A': held('A', '100', '150')}, {'A': holding('A', '100', '150')})


def test_an_old_event_that_explains_no_change_is_history() -> None:
    (event,) = from_transactions(
        [tx(1, 'Expiration', PUT, '3.0', action='Buy to Close', instrument_type='Equity Option')], NOW, {}
    )
    assert explains(event, {PUT: held(PUT, '-3', '4.10', 'Equity Option')}, {})
    assert not explains(event, {}, {})


def test_traded_symbols_count_only_trades_after_the_last_read() -> None:
    rows = [
        tx(1, 'Buy to Open', 'A', '1', type='Trade', at=AT),
        tx(2, 'Buy to Open', 'B', '1', type='Trade', at=AT - timedelta(days=1)),
        tx(3, 'Buy to Open', 'C', '1', at=AT),
    ]
    assert traded_symbols(rows, AT - timedelta(hours=1)) == {'A'}


def test_order_changes_an_ended_contract_explains_are_folded() -> None:
    changes = Changes(ACCOUNT)
    expired = AlertCandidate('expired:a:1', 'expired', Severity.WARNING, 'stop 1 expired; re-protecting', PUT)
    person = AlertCandidate('stop_cancelled:a:2', 'stop_cancelled', Severity.WARNING, 'a person cancelled 2', PUT)
    other = AlertCandidate('expired:a:3', 'expired', Severity.WARNING, 'stop 3 expired', 'AAPL')
    changes.alerts += [expired, person, other]
    changes.events += [a.message for a in changes.alerts]
    changes.person_cancels[PUT] = 'stop 2'

    folded = fold_order_changes(changes, [], date(2026, 12, 11))

    assert folded == ['stop 1 expired; re-protecting']
    assert changes.alerts == [person, other] and changes.events == ['a person cancelled 2', 'stop 3 expired']


def test_an_option_not_yet_expired_is_folded_only_when_an_event_names_it() -> None:
    changes = Changes(ACCOUNT)
    changes.alerts.append(
        AlertCandidate('stop_cancelled:a:1', 'stop_cancelled', Severity.WARNING, 'the broker cancelled 1', PUT)
    )

    assert fold_order_changes(changes, [], date(2026, 12, 1)) == []
    (event,) = from_transactions([tx(1, 'Assignment', PUT, '3.0', action='Buy to Close')], NOW, {})
    assert fold_order_changes(changes, [event], date(2026, 12, 1)) == ['the broker cancelled 1']
