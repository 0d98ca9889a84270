"""pytest plugin shipped with the paper broker: the tastyware ``tastytrade`` SDK's tests, offline.

Installed as the ``paperbroker`` ``pytest11`` entry point, so ``pip install`` makes it available to any test
suite. It imports neither the SDK nor the server until a fixture is used, so suites that do not use it pay
nothing.

* ``tastyware_paper_session``: a ready ``tastytrade.paper.PaperSession`` on the broker (``temporary_account()``
  works).
* ``tastyware_session``: a plain ``tastytrade.Session`` (OAuth) on the same broker: instruments, chains, quotes.
* ``tastyware_paper_broker``: the ``PaperBroker`` behind both, reset for this test; its ``admin`` moves markets
  and the virtual clock.

For the test's duration the SDK's base URLs point at the broker (``tastytrade.paper.PAPER_URL``,
``tastytrade.streamer.PAPER_STREAMER_URL``, and the plain ``API_URL`` / ``CERT_URL`` / streamer URLs, so no
session a test builds can reach a real tastytrade host) and ``TW_API_KEY`` / ``TT_SECRET`` / ``TT_REFRESH`` are
set, so ``PaperSession()`` and ``Session()`` without arguments work as well. The broker starts once per test
session on a free loopback port and is reset to ``demo`` (or ``@pytest.mark.paper_scenario('empty')``) for
every test. Broker time runs with the wall clock (delayed fills happen as on the real service) and jumps ahead
with ``tastyware_paper_broker.admin.advance_clock(seconds)``; ``@pytest.mark.paper_clock_stopped`` stops the
wall-clock part for exact timing (nothing happens until the test advances the clock).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from paperbroker.server import PaperBroker

MARKERS = (
    'paper_scenario(name, **options): the scenario the paper broker fixtures reset to (default: demo)',
    'paper_clock_stopped: the tastyware fixtures stop the wall clock, so time moves only with admin.advance_clock',
)


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line('markers', marker)


@pytest.fixture(scope='session')
def tastyware_paper_server() -> Iterator[PaperBroker]:
    """The session's paper broker for the tastyware fixtures (started on first use)."""
    from paperbroker.server import PaperBroker  # noqa: PLC0415 - only when a test asks for it

    broker = PaperBroker('demo').start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def tastyware_paper_broker(
    request: pytest.FixtureRequest, tastyware_paper_server: PaperBroker, monkeypatch: pytest.MonkeyPatch
) -> PaperBroker:
    """The broker, reset for this test, with the SDK's URLs and credential variables pointing at it."""
    marker = request.node.get_closest_marker('paper_scenario')
    scenario, options = 'demo', {}
    if marker is not None:
        scenario = marker.args[0] if marker.args else marker.kwargs.get('name', 'demo')
        options = {k: v for k, v in marker.kwargs.items() if k != 'name'}
    tastyware_paper_server.reset(scenario, **options)
    if request.node.get_closest_marker('paper_clock_stopped') is not None:
        tastyware_paper_server.broker.clock.stop()  # until the next reset
    patch_sdk(monkeypatch, tastyware_paper_server)
    return tastyware_paper_server


@pytest.fixture
def tastyware_paper_session(tastyware_paper_broker: PaperBroker) -> Any:
    """A ``PaperSession`` with the broker's API key (a fresh paper subscriber with no accounts yet)."""
    from tastytrade.paper import PaperSession  # noqa: PLC0415

    return PaperSession(tastyware_paper_broker.tastyware_api_key)


@pytest.fixture
def tastyware_session(tastyware_paper_broker: PaperBroker) -> Any:
    """A plain ``Session`` of the broker's OAuth user (the scenario's accounts, instruments and quotes)."""
    from tastytrade import Session  # noqa: PLC0415

    return Session(tastyware_paper_broker.client_secret, tastyware_paper_broker.refresh_token, is_test=True)


def patch_sdk(monkeypatch: pytest.MonkeyPatch, broker: PaperBroker) -> None:
    """Point every base URL the SDK reads at ``broker`` and set the SDK's credential variables."""
    import tastytrade  # noqa: PLC0415
    import tastytrade.paper  # noqa: PLC0415
    import tastytrade.session  # noqa: PLC0415
    import tastytrade.streamer  # noqa: PLC0415

    for module in (tastytrade, tastytrade.paper):
        monkeypatch.setattr(module, 'PAPER_URL', broker.tastyware_paper_url)
    for module in (tastytrade, tastytrade.session):
        monkeypatch.setattr(module, 'API_URL', broker.api_url)
        monkeypatch.setattr(module, 'CERT_URL', broker.api_url)
    monkeypatch.setattr(tastytrade.streamer, 'PAPER_STREAMER_URL', broker.tastyware_paper_streamer_url)
    monkeypatch.setattr(tastytrade.streamer, 'STREAMER_URL', broker.account_streamer_url)
    monkeypatch.setattr(tastytrade.streamer, 'CERT_STREAMER_URL', broker.account_streamer_url)
    monkeypatch.setenv('TW_API_KEY', broker.tastyware_api_key)
    monkeypatch.setenv('TT_SECRET', broker.client_secret)
    monkeypatch.setenv('TT_REFRESH', broker.refresh_token)
