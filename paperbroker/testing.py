"""pytest plugin: paper-broker fixtures. Enable with ``pytest_plugins = ['paperbroker.testing']``.

* ``paper_broker`` (function scope): the session's broker, reset to ``demo`` (or to the scenario named by
  ``@pytest.mark.paper_scenario('empty')`` / ``@pytest.mark.paper_scenario('large', positions=50)``).
* ``paper_broker_server`` (session scope): the one in-process broker, started on first use.
* ``paper_broker_factory`` (function scope): ``factory(scenario='demo', **kwargs)`` starts a broker of your own
  (stopped after the test), for tests that need fixed credentials or several brokers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from paperbroker.server import PaperBroker


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        'markers',
        'paper_scenario(name, **options): the scenario the paper_broker fixture resets to (default: demo)',
    )


@pytest.fixture(scope='session')
def paper_broker_server() -> Iterator[PaperBroker]:
    """One paper broker for the whole test session."""
    broker = PaperBroker('demo').start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def paper_broker(request: pytest.FixtureRequest, paper_broker_server: PaperBroker) -> PaperBroker:
    """The session broker, freshly reset to this test's scenario (``demo`` unless marked otherwise)."""
    marker = request.node.get_closest_marker('paper_scenario')
    scenario, options = 'demo', {}
    if marker is not None:
        scenario = marker.args[0] if marker.args else marker.kwargs.get('name', 'demo')
        options = {k: v for k, v in marker.kwargs.items() if k != 'name'}
    paper_broker_server.reset(scenario, **options)
    return paper_broker_server


@pytest.fixture
def paper_broker_factory() -> Iterator[Callable[..., PaperBroker]]:
    """Start extra brokers (``factory(scenario='demo', **kwargs)``); all are stopped after the test."""
    started: list[PaperBroker] = []

    def factory(scenario: str = 'demo', **kwargs: Any) -> PaperBroker:
        broker = PaperBroker(scenario, **kwargs).start()
        started.append(broker)
        return broker

    try:
        yield factory
    finally:
        for broker in started:
            broker.stop()
