"""The broker object: core state + engine + faults + request log + open websockets, and scenario resets."""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any, Protocol

from paperbroker.auth import AuthStore
from paperbroker.candle_book import CandleBook
from paperbroker.clock import VirtualClock
from paperbroker.core import Core, Settings
from paperbroker.engine import Engine
from paperbroker.faults import FaultRegistry
from paperbroker.middleware import RequestLog
from paperbroker.model import BrokerState
from paperbroker.registry import Registry
from paperbroker.scenarios import SCENARIOS, build
from paperbroker.tastyware.state import Tastyware, TastywareSettings
from paperbroker.throttle import Throttle

TICK_SECONDS = 0.2
LOG = logging.getLogger('paperbroker')


class Connection(Protocol):
    """An open websocket the broker can close on reset and watch for keepalive timeouts."""

    def check_timeout(self) -> None:
        """Close the connection if it has been idle too long (virtual time)."""

    def close_for_reset(self) -> None:
        """Close because the broker was reset."""


class Broker:
    """One paper broker: created once per server, reset to a scenario as often as tests like."""

    def __init__(
        self,
        scenario: str = 'demo',
        *,
        client_secret: str | None = None,
        refresh_token: str | None = None,
        tastyware_api_key: str | None = None,
        tastyware: TastywareSettings | None = None,
        **options: Any,
    ) -> None:
        self.clock = VirtualClock()
        self.auth = AuthStore(
            self.clock, client_secret or secrets.token_urlsafe(24), refresh_token or secrets.token_urlsafe(32)
        )
        self.core = Core(self.clock, self.auth)
        self.tastyware = Tastyware(self.clock, tastyware_api_key, tastyware)  # the tastyware paper API
        self.engine = Engine(self.core)
        self.candles = CandleBook(self.core)  # records every quote change for DXLink candles
        self.core.hub.quote_listeners.add(self.candles)
        self.faults = FaultRegistry()
        self.requests = RequestLog()
        self.throttle = Throttle(self.clock)
        self.connections: set[Connection] = set()
        self.scenario = scenario
        self.options = options
        self.accounts: list[str] = []
        self.reset(scenario, **options)

    def reset(self, scenario: str, **options: Any) -> list[str]:
        """Restore a scenario: same credentials; tokens, faults, request log, clock offset and settings cleared."""
        if scenario not in SCENARIOS:
            raise ValueError(f'unknown scenario {scenario!r}; use one of {", ".join(SCENARIOS)}')
        for connection in list(self.connections):
            connection.close_for_reset()
        self.clock.reset()
        self.core.timers.clear()
        self.core.settings = Settings()
        self.core.state = BrokerState(registry=Registry(self.clock.today()))
        self.faults.clear()
        self.requests.clear()
        self.throttle.reset()
        self.auth.customers.clear()
        self.accounts = build(scenario, self.core, self.engine, **options)
        self.candles.reset()
        self.core.state.expirations_checked_at = self.clock.now()  # closes crossed from now on settle options
        self.auth.reset(self.core.user_id)
        self.tastyware.reset(self.core)
        self.scenario, self.options = scenario, options
        return self.accounts

    def advance(self, seconds: float) -> None:
        """Move the virtual clock and process everything that became due."""
        self.clock.advance(seconds)
        self.tick()

    def tick(self) -> None:
        """Due timers, then idle websocket checks."""
        self.engine.tick()
        for connection in list(self.connections):
            connection.check_timeout()

    async def run_ticker(self) -> None:
        """Background task: keeps real-time behaviour (delayed fills, keepalive timeouts) moving."""
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                self.tick()
            except Exception:
                LOG.exception('paper broker tick failed')
