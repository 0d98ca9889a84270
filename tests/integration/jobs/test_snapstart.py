"""SnapStart on the fast path: priming at init without network, unique restored environments, the first fill."""

from __future__ import annotations

import random
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pytest_socket import disable_socket, enable_socket

from functions.common import jobs as job_runtime
from functions.common import snapstart
from paperbroker.server import PaperBroker
from tastyguard.broker import BrokerModel, Position, TastytradeClient
from tests.integration.jobs import test_handlers
from tests.integration.jobs.test_handlers import LambdaContext

pytestmark = pytest.mark.integration

lambda_env = test_handlers.lambda_env  # what the stack deploys (tables, secrets, topic, config, environment)


@pytest.fixture
def deployed(request: pytest.FixtureRequest) -> PaperBroker:
    broker: PaperBroker = request.getfixturevalue('lambda_env')
    return broker


class FakeRuntimeHooks(types.ModuleType):
    """``snapshot_restore_py`` as Lambda's runtime provides it: two registries the runtime drains."""

    def __init__(self) -> None:
        super().__init__('snapshot_restore_py')
        self.before: list[Callable[[], None]] = []
        self.after: list[Callable[[], None]] = []

    def register_before_snapshot(self, func: Callable[[], None]) -> Callable[[], None]:
        self.before.append(func)
        return func

    def register_after_restore(self, func: Callable[[], None]) -> Callable[[], None]:
        self.after.append(func)
        return func

    def snapshot(self) -> None:
        for func in reversed(self.before):  # the runtime runs them in reverse order of registration
            func()

    def restore(self) -> None:
        for func in self.after:
            func()


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRuntimeHooks]:
    runtime = FakeRuntimeHooks()
    monkeypatch.setitem(sys.modules, 'snapshot_restore_py', runtime)
    monkeypatch.setenv('AWS_LAMBDA_INITIALIZATION_TYPE', 'snap-start')
    monkeypatch.setenv('AWS_LAMBDA_FUNCTION_NAME', 'tastyguard-ensure-stops')
    yield runtime


def _primed_broker() -> TastytradeClient:
    context = job_runtime._context
    assert context is not None
    assert isinstance(context.broker, TastytradeClient)
    return context.broker


def _identity(broker: TastytradeClient) -> tuple[Any, str]:
    return broker._rng.getstate(), broker._tokens._owner


def test_snapstart_init_is_recognised_from_lambdas_initialization_type() -> None:
    assert snapstart.snap_start_init({'AWS_LAMBDA_INITIALIZATION_TYPE': 'snap-start'}) is True
    assert snapstart.snap_start_init({'AWS_LAMBDA_INITIALIZATION_TYPE': 'on-demand'}) is False
    assert snapstart.snap_start_init({}) is False


def test_without_the_snapstart_runtime_registering_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, 'snapshot_restore_py', None)  # "not installed"
    assert snapstart.register(before_snapshot=lambda: None, after_restore=lambda: None) is False


def test_priming_builds_the_context_without_any_network_call(deployed: PaperBroker, hooks: FakeRuntimeHooks) -> None:
    # Given a SnapStart init, When the context is primed with every socket blocked
    disable_socket()
    try:
        job_runtime._prime_for_snapshot()
        hooks.snapshot()
    finally:
        enable_socket()
    # Then the snapshot holds a built context, with the hooks registered, and no request reached the broker
    assert job_runtime._context is not None
    assert len(hooks.before) == 1 and len(hooks.after) == 1
    assert deployed.admin.requests() == []


def test_before_the_snapshot_the_deferred_broker_models_are_built(
    deployed: PaperBroker, hooks: FakeRuntimeHooks
) -> None:
    class LateModel(BrokerModel):  # a broker model nothing has validated yet: its build is still deferred
        symbol: str

    job_runtime._prime_for_snapshot()
    assert LateModel.__pydantic_complete__ is False
    hooks.snapshot()
    assert LateModel.__pydantic_complete__ is True
    assert Position.__pydantic_complete__ is True


def test_two_environments_restored_from_one_snapshot_do_not_share_jitter_or_lock_identity(
    deployed: PaperBroker, hooks: FakeRuntimeHooks
) -> None:
    # Given one primed snapshot
    job_runtime._prime_for_snapshot()
    hooks.snapshot()
    broker = _primed_broker()
    snapshot_rng, snapshot_owner = _identity(broker)
    snapshot_random = random.getstate()
    restored: list[tuple[Any, str, float]] = []
    for _environment in range(2):
        # When an environment resumes from exactly that memory and runs the after-restore hooks
        broker._rng.setstate(snapshot_rng)
        broker._tokens._owner = snapshot_owner
        random.setstate(snapshot_random)
        hooks.restore()
        state, owner = _identity(broker)
        restored.append((state, owner, random.random()))
    # Then each one draws its own jitter and holds its own refresh-lock identity
    (first_rng, first_owner, first_random), (second_rng, second_owner, second_random) = restored
    assert snapshot_owner not in (first_owner, second_owner)
    assert first_owner != second_owner
    assert first_rng != second_rng and snapshot_rng not in (first_rng, second_rng)
    assert first_random != second_random


def test_a_restored_environment_places_the_stop_for_a_fill_with_the_primed_context(
    deployed: PaperBroker, hooks: FakeRuntimeHooks
) -> None:
    from functions.ensure_stops.handler import lambda_handler

    # Given a primed, snapshotted and restored environment
    job_runtime._prime_for_snapshot()
    primed = job_runtime._context
    hooks.snapshot()
    hooks.restore()
    # And a fill that opened a new position
    deployed.admin.add_position('5WT00001', 'CRM', 20, '250.00', bid='251.00', ask='251.10', last='251.05')
    event = {'job': 'ensure_stops', 'account': '5WT00001', 'symbol': 'CRM', 'event_id': 'fill-1'}
    # When the fill's event is the first invocation
    result = lambda_handler(event, LambdaContext())
    # Then the run used the primed context and the broker holds a tastyguard stop on the new position
    assert job_runtime._context is primed
    assert result['accounts'][0]['status'] == 'ok'
    stops = [
        order
        for order in deployed.admin.working_orders('5WT00001')
        if order.get('underlying-symbol') == 'CRM' and str(order.get('external-identifier', '')).startswith('tg-')
    ]
    assert len(stops) == 1
    assert stops[0]['order-type'] == 'Stop'


def test_a_context_that_cannot_be_primed_is_reported_by_the_first_invocation(
    deployed: PaperBroker, hooks: FakeRuntimeHooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.ensure_stops.handler import lambda_handler
    from tastyguard.jobs.wiring import SettingsError

    monkeypatch.delenv('TASTYGUARD_TOPIC_ARN')
    job_runtime._prime_for_snapshot()
    assert job_runtime._context is None
    assert len(hooks.after) == 1  # the generators are still reseeded after a restore
    event = {'job': 'ensure_stops', 'account': '5WT00001', 'symbol': 'AAPL', 'event_id': 'fill-2'}
    with pytest.raises(SettingsError, match='TASTYGUARD_TOPIC_ARN'):
        lambda_handler(event, LambdaContext())
