"""Integration fixtures: moto-backed AWS with tastyguard's tables, and a controllable clock."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from tastyguard.store.schema import create_tables
from tastyguard.store.table import StateTable
from tests.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def aws() -> Iterator[None]:
    """Every AWS call inside the test goes to moto (started before any client is built)."""
    with mock_aws():
        yield


@pytest.fixture
def state(aws: None, clock: FakeClock) -> StateTable:
    """The state table (and the idempotency table), created as ``tastyguard store init`` would."""
    create_tables(boto3.client('dynamodb'))
    return StateTable(clock=clock)
