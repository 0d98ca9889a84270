"""Tick schedules cached across runs and processes, so a cold Lambda does not re-read every instrument.

Instrument reference data changes rarely (tick schedules, closing-only flags), while tastytrade limits
instrument reads to a few per second; a large account would otherwise spend minutes per cold start.
Entries are re-read after a week.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from tastyguard.store.keys import INSTRUMENTS_PK, instrument_sk
from tastyguard.store.table import StateTable
from tastyguard.ticks import Tick

TTL = timedelta(days=7)


class CachedInstrument(BaseModel):
    """The part of an instrument the planner needs."""

    model_config = ConfigDict(frozen=True)

    instrument_type: str
    symbol: str
    ticks: list[tuple[str, str | None]]  # (value, threshold)
    closing_only: bool = False
    fetched_at: datetime

    def schedule(self) -> tuple[Tick, ...]:
        """The tick schedule."""
        return tuple(
            Tick(Decimal(value), None if threshold is None else Decimal(threshold)) for value, threshold in self.ticks
        )


class InstrumentCache:
    """Cached instruments in the state table (plus this process's memory)."""

    def __init__(self, state: StateTable) -> None:
        self._state = state
        self._memory: dict[tuple[str, str], CachedInstrument] = {}

    def get(self, instrument_type: str, symbol: str) -> CachedInstrument | None:
        """A cached entry younger than a week, or None."""
        key = (instrument_type, symbol)
        entry = self._memory.get(key) or self._state.get_record(
            INSTRUMENTS_PK, instrument_sk(instrument_type, symbol), CachedInstrument, consistent=False
        )
        if entry is None or self._state.clock() - entry.fetched_at > TTL:
            return None
        self._memory[key] = entry
        return entry

    def put(
        self, instrument_type: str, symbol: str, ticks: tuple[Tick, ...], *, closing_only: bool
    ) -> CachedInstrument:
        """Store an instrument's schedule."""
        entry = CachedInstrument(
            instrument_type=instrument_type,
            symbol=symbol,
            ticks=[(str(t.value), None if t.threshold is None else str(t.threshold)) for t in ticks],
            closing_only=closing_only,
            fetched_at=self._state.clock(),
        )
        self._state.put_record(
            INSTRUMENTS_PK, instrument_sk(instrument_type, symbol), entry, ttl=TTL + timedelta(days=1)
        )
        self._memory[(instrument_type, symbol)] = entry
        return entry
