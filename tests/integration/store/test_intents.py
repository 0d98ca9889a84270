from __future__ import annotations

import pytest

from tastyguard.store.intents import Intent, IntentOperation, IntentState, IntentStore
from tastyguard.store.keys import account_pk
from tastyguard.store.table import StateTable

pytestmark = pytest.mark.integration


def _intent(state: StateTable, key: str = 'tg-abc123') -> Intent:
    now = state.clock()
    return Intent(
        account='5WT00001',
        key=key,
        operation=IntentOperation.PLACE,
        symbol='AAPL',
        request={'order-type': 'Stop', 'stop-trigger': '160.65'},
        run_id='run-1',
        mode='live',
        environment='paper',
        created_at=now,
        updated_at=now,
    )


def test_begin_records_a_new_intent_as_pending(state: StateTable) -> None:
    store = IntentStore(state)
    intent, created = store.begin(_intent(state))
    assert created
    assert store.get('5WT00001', 'tg-abc123') == intent
    assert [i.key for i in store.unresolved('5WT00001')] == ['tg-abc123']


def test_begin_twice_returns_the_existing_intent_instead_of_a_second_one(state: StateTable) -> None:
    # Given a retry of the same run derives the same external identifier
    store = IntentStore(state)
    first, _ = store.begin(_intent(state))
    store.update(first, IntentState.AMBIGUOUS, error='timeout')
    # When it begins again
    again, created = store.begin(_intent(state))
    # Then nothing new is recorded and the caller sees the ambiguous state to resolve
    assert not created
    assert again.state is IntentState.AMBIGUOUS
    assert again.error == 'timeout'


def test_resolving_an_intent_removes_it_from_the_unresolved_list(state: StateTable) -> None:
    store = IntentStore(state)
    intent, _ = store.begin(_intent(state))
    store.update(intent, IntentState.SENT, order_id=42)
    assert store.unresolved('5WT00001') == []
    stored = store.get('5WT00001', 'tg-abc123')
    assert stored is not None
    assert stored.order_id == 42


def test_ambiguous_intents_stay_unresolved(state: StateTable) -> None:
    store = IntentStore(state)
    intent, _ = store.begin(_intent(state))
    store.update(intent, IntentState.AMBIGUOUS, error='read timeout')
    assert [i.state for i in store.unresolved('5WT00001')] == [IntentState.AMBIGUOUS]


def test_a_pointer_without_its_intent_still_asks_for_a_lookup(state: StateTable) -> None:
    # Given the writer died after the pointer and before the intent
    state.table.put_item(Item={'pk': account_pk('5WT00001'), 'sk': 'OPENINTENT#tg-lost'})
    # Then the unresolved list still names the key, so the next run looks the order up
    [placeholder] = IntentStore(state).unresolved('5WT00001')
    assert placeholder.key == 'tg-lost'
    assert placeholder.state is IntentState.PENDING
