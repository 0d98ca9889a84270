"""Everything a job run works with, passed in (no globals): config, broker, stores, notifier, clock."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from tastyguard.config.models import Mode, TastyguardConfig
from tastyguard.engine.types import Holding, QuoteView
from tastyguard.jobs.grants import GrantClients
from tastyguard.jobs.ports import Broker
from tastyguard.notify.ports import Notifier
from tastyguard.store.alerts import AlertStateStore
from tastyguard.store.control import CircuitBreaker, KillSwitch
from tastyguard.store.highwater import HighWaterStore
from tastyguard.store.instruments import InstrumentCache
from tastyguard.store.intents import IntentStore
from tastyguard.store.ledger import OrderLedger
from tastyguard.store.quotes import QuoteStore
from tastyguard.store.runs import RunStore
from tastyguard.store.snapshots import SnapshotStore
from tastyguard.store.table import StateTable

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient


@dataclass(frozen=True)
class Stores:
    """The repositories of one state table."""

    state: StateTable
    intents: IntentStore
    ledger: OrderLedger
    snapshots: SnapshotStore
    runs: RunStore
    alerts: AlertStateStore
    high_water: HighWaterStore
    instruments: InstrumentCache
    quotes: QuoteStore
    breaker: CircuitBreaker
    kill_switch: KillSwitch

    @classmethod
    def on(cls, state: StateTable, ssm: SSMClient, config: TastyguardConfig, kill_switch_parameter: str) -> Stores:
        """All repositories over ``state`` with the configured safety limits."""
        return cls(
            state=state,
            intents=IntentStore(state),
            ledger=OrderLedger(state),
            snapshots=SnapshotStore(state),
            runs=RunStore(state),
            alerts=AlertStateStore(state),
            high_water=HighWaterStore(state),
            instruments=InstrumentCache(state),
            quotes=QuoteStore(state),
            breaker=CircuitBreaker(
                state,
                max_writes=config.safety.max_order_writes,
                max_per_symbol=config.safety.max_writes_per_symbol,
                window_seconds=config.safety.window_minutes * 60,
            ),
            kill_switch=KillSwitch(ssm, kill_switch_parameter),
        )


@dataclass
class JobContext:
    """One process's collaborators for running jobs.

    ``owner`` names who holds account leases (``lambda:<request id>``, ``cli:<user>``). ``mode_override``
    lets a person at the CLI choose a mode for one run; events never can. With ``clients`` (one broker client
    per grant) the runner hands each account's job a context whose ``broker`` is that account's grant's
    client; without it ``broker`` serves every account (the CLI, tests). ``build`` identifies the deployed code
    (what a verification of an account was made by).
    """

    config: TastyguardConfig
    broker: Broker
    stores: Stores
    notifier: Notifier
    owner: str
    clock: Callable[[], datetime]
    mode_override: Mode | None = None
    lease_duration: timedelta = timedelta(minutes=4)
    lease_wait: timedelta = timedelta(seconds=20)  # how long a run waits for another run of the account to finish
    sleep: Callable[[float], None] = time.sleep
    ambiguous_grace: timedelta = timedelta(seconds=60)
    notes: list[str] = field(default_factory=list)
    clients: GrantClients | None = None
    build: str = ''  # the deployed code's identity (TASTYGUARD_BUILD); '' outside Lambda

    @property
    def environment(self) -> str:
        """The broker environment every record and message is stamped with."""
        return self.config.environment.value

    def quote_source(self, holdings: Sequence[Holding]) -> dict[str, QuoteView]:
        """Fresh quotes the streamer wrote for ``holdings`` (a job needs no REST quote for those).

        A store that cannot be read costs nothing but the REST call it would have saved.
        """
        if not holdings:
            return {}
        max_age = timedelta(seconds=self.config.streamer.quote_max_age_seconds)
        try:
            fresh = self.stores.quotes.fresh([h.symbol for h in holdings], max_age=max_age)
        except Exception as error:
            logging.getLogger('tastyguard.jobs').warning('streamed quotes unavailable: %s', error)
            return {}
        return {
            symbol: QuoteView(symbol=symbol, bid=q.bid, ask=q.ask, last=q.last, mark=_mid(q.bid, q.ask))
            for symbol, q in fresh.items()
        }

    def mode_for(self, account: str) -> Mode:
        """The effective mode of ``account`` for this run."""
        if self.mode_override is not None:
            return self.mode_override
        return self.config.mode_for(self.config.account(account))


def _mid(bid: Decimal | None, ask: Decimal | None) -> Decimal | None:
    if bid is None or ask is None or ask <= 0 or bid < 0 or bid > ask:
        return None
    return (bid + ask) / 2
