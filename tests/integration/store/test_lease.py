from __future__ import annotations

from datetime import timedelta

import pytest

from tastyguard.store.lease import AccountLease, LeaseUnavailableError
from tastyguard.store.table import StateTable
from tests.clock import FakeClock

pytestmark = pytest.mark.integration


def test_second_owner_is_refused_while_the_lease_is_held(state: StateTable) -> None:
    # Given one run holds the lease
    first = AccountLease(state, '5WT00001', 'run-a', timedelta(minutes=5))
    first.acquire()
    # When another run tries to take it
    second = AccountLease(state, '5WT00001', 'run-b', timedelta(minutes=5))
    # Then it is refused, and told who holds it
    with pytest.raises(LeaseUnavailableError, match='run-a'):
        second.acquire()


def test_leases_of_different_accounts_are_independent(state: StateTable) -> None:
    AccountLease(state, '5WT00001', 'run-a', timedelta(minutes=5)).acquire()
    AccountLease(state, '5WT00002', 'run-b', timedelta(minutes=5)).acquire()


def test_an_expired_lease_can_be_taken_over(state: StateTable, clock: FakeClock) -> None:
    AccountLease(state, '5WT00001', 'crashed-run', timedelta(minutes=5)).acquire()
    clock.advance(minutes=5, seconds=1)
    AccountLease(state, '5WT00001', 'next-run', timedelta(minutes=5)).acquire()


def test_release_frees_the_lease_for_the_next_run(state: StateTable) -> None:
    with AccountLease(state, '5WT00001', 'run-a', timedelta(minutes=5)):
        pass
    AccountLease(state, '5WT00001', 'run-b', timedelta(minutes=5)).acquire()


def test_release_never_frees_a_lease_someone_else_took(state: StateTable, clock: FakeClock) -> None:
    # Given run-a's lease expired and run-b took it over
    slow = AccountLease(state, '5WT00001', 'run-a', timedelta(minutes=1))
    slow.acquire()
    clock.advance(minutes=2)
    AccountLease(state, '5WT00001', 'run-b', timedelta(minutes=5)).acquire()
    # When the slow run-a finally releases
    slow.release()
    # Then run-b still holds it
    with pytest.raises(LeaseUnavailableError, match='run-b'):
        AccountLease(state, '5WT00001', 'run-c', timedelta(minutes=5)).acquire()


def test_the_holder_can_renew(state: StateTable, clock: FakeClock) -> None:
    lease = AccountLease(state, '5WT00001', 'run-a', timedelta(minutes=5))
    lease.acquire()
    clock.advance(minutes=4)
    lease.renew()
    clock.advance(minutes=4)
    with pytest.raises(LeaseUnavailableError):
        AccountLease(state, '5WT00001', 'run-b', timedelta(minutes=5)).acquire()
