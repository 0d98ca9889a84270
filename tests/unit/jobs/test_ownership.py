"""Ownership verdicts: a ``tg-`` order is tastyguard's only while it is what tastyguard sent."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tastyguard.broker import models as wire
from tastyguard.jobs import tracking
from tastyguard.jobs.ownership import decide, shape_of
from tastyguard.store.intents import Intent, IntentOperation, IntentState
from tastyguard.store.ledger import LedgerEntry

pytestmark = pytest.mark.unit
A = '5WT00001'
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def _order(order_id: int, ident: str | None = 'tg-abc', **extra: Any) -> wire.Order:
    body = {
        'id': order_id,
        'account-number': A,
        'status': 'Live',
        'order-type': 'Stop',
        'time-in-force': 'GTC',
        'stop-trigger': '150.00',
        'underlying-symbol': 'AAPL',
        'updated-at': 1781292831405,
        'legs': [{'instrument-type': 'Equity', 'symbol': 'AAPL', 'action': 'Sell to Close', 'quantity': 100}],
        **({'external-identifier': ident} if ident else {}),
        **extra,
    }
    return wire.Order.model_validate(body)


def _intent(key: str, order_id: int | None, state: IntentState = IntentState.SENT, **request: Any) -> Intent:
    body = {
        'order-type': 'Stop',
        'time-in-force': 'GTC',
        'stop-trigger': '150.00',
        'legs': [{'instrument-type': 'Equity', 'symbol': 'AAPL', 'action': 'Sell to Close', 'quantity': 100}],
        **request,
    }
    return Intent(
        account=A,
        key=key,
        operation=IntentOperation.PLACE,
        symbol='AAPL',
        state=state,
        request=body,
        order_id=order_id,
        run_id='r',
        mode='live',
        environment='paper',
        created_at=NOW,
        updated_at=NOW,
    )


def _ledger(*orders: wire.Order, ours: bool = True) -> dict[int, LedgerEntry]:
    entries = {}
    for order in orders:
        assert order.id is not None
        entry = tracking.ledger_entry(order, None, NOW)
        entries[order.id] = entry.model_copy(update={'ours': ours, 'sent': shape_of(order) if ours else None})
    return entries


def test_an_order_our_intent_created_is_ours() -> None:
    verdicts = decide([_order(1)], {}, lambda: [_intent('tg-abc', 1)])
    assert verdicts[1].ours


def test_an_order_that_differs_from_our_intents_request_is_the_persons() -> None:
    verdicts = decide([_order(1, **{'stop-trigger': '120.00'})], {}, lambda: [_intent('tg-abc', 1)])
    assert not verdicts[1].ours and 'stop trigger 150.00 → 120.00' in (verdicts[1].why or '')


def test_a_replacement_that_inherited_our_identifier_is_the_persons() -> None:
    original = _order(1, status='Cancelled', **{'replacing-order-id': 2})
    replacement = _order(2, **{'order-type': 'Limit', 'price': '190.0', 'price-effect': 'Credit'})
    verdicts = decide([original, replacement], _ledger(_order(1)), lambda: [_intent('tg-abc', 1)])
    assert verdicts[1].ours and not verdicts[2].ours


def test_a_replacement_is_the_persons_even_after_our_intent_expired() -> None:
    replacement = _order(2, **{'stop-trigger': '140.00'})
    verdicts = decide([replacement], _ledger(_order(1)), lambda: [])
    assert not verdicts[2].ours


def test_an_order_edited_in_place_stops_being_ours() -> None:
    ledger = _ledger(_order(1))
    verdicts = decide([_order(1, **{'stop-trigger': '140.00'})], ledger, lambda: [])
    assert not verdicts[1].ours


def test_a_persons_order_stays_the_persons() -> None:
    ledger = _ledger(_order(5), ours=False)
    assert not decide([_order(5)], ledger, lambda: [])[5].ours


def test_an_unknown_tg_order_with_a_unique_identifier_is_adopted() -> None:
    # An order of an earlier installation (or the paper broker's demo): nobody else claims the identifier
    verdicts = decide([_order(7, ident='tg-demo-1')], {}, lambda: [])
    assert verdicts[7].ours and verdicts[7].sent == shape_of(_order(7, ident='tg-demo-1'))


def test_orders_without_our_prefix_are_never_ours() -> None:
    assert not decide([_order(3, ident=None), _order(4, ident='mine-1')], {}, lambda: [])[4].ours


def test_intents_are_read_only_when_a_first_seen_tg_order_needs_them() -> None:
    calls: list[int] = []

    def intents() -> list[Intent]:
        calls.append(1)
        return []

    decide([_order(1), _order(3, ident=None)], _ledger(_order(1)), intents)
    assert calls == []


def test_a_partial_fill_does_not_change_the_shape() -> None:
    filled = _order(1)
    partly = _order(1, legs=[{**filled.legs[0].model_dump(by_alias=True, mode='json'), 'remaining-quantity': 40}])
    assert decide([partly], _ledger(filled), lambda: [])[1].ours
    assert shape_of(partly).legs[0].quantity == Decimal(100)


def _stop(order_id: int, quantity: int, trigger: str) -> wire.Order:
    legs = [{'instrument-type': 'Equity', 'symbol': 'AAPL', 'action': 'Sell to Close', 'quantity': quantity}]
    return _order(order_id, legs=legs, **{'stop-trigger': trigger})


@pytest.mark.parametrize(('quantity', 'ours'), [(6, True), (3, True), (8, True), (2, True), (7, False), (5, False)])
def test_two_known_splits_adjust_a_quantity_rounded_after_each(quantity: int, ours: bool) -> None:
    """1 share, 7:2 then 2:1: the broker adjusts it to 3 (or 4), then to 6 (or 8), or for one split only (2, 3,
    4); never to the 7 of one product rounded at the end. The prices are left out (the known splits judge the
    quantity alone)."""
    splits = {'AAPL': [Decimal('3.5'), Decimal(2)]}
    verdicts = decide([_stop(1, quantity, '150.00')], _ledger(_stop(1, 1, '150.00')), lambda: [], splits)
    assert verdicts[1].ours is ours


@pytest.mark.parametrize(
    ('quantity', 'trigger', 'ours'),
    [
        (2, '11.00', True),  # 2:1: the quantity doubled, the trigger halved
        (3, '6.28', True),  # 7:2: 3.5 shares rounded down, the trigger to the cent
        (10, '2.20', True),  # 10:1
        (2, '12.00', False),  # doubled, but the trigger is not halved: a person's edit
        (1, '11.00', False),  # the trigger alone moved: a person's edit, never taken for a split
        (3, '11.00', False),  # ratios disagree
    ],
)
def test_a_split_nobody_reported_is_recognised_by_the_orders_own_change(
    quantity: int, trigger: str, ours: bool
) -> None:
    """A split on a symbol no longer held leaves no transaction, yet the broker adjusts our stop that is still
    working there: quantity × r and prices ÷ r with one ratio is the broker's doing, anything else a person's."""
    verdicts = decide([_stop(1, quantity, trigger)], _ledger(_stop(1, 1, '22.00')), lambda: [])
    assert verdicts[1].ours is ours
