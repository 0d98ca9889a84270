"""A symbol-scoped run: the fast path plans only the position a fill or a position change touched.

The streamer's events name one symbol. The run still reads every position and working order of the account
(the ledger, the absent counts and a person's cancels stay whole, and missing data is never read as flat),
but it fetches quotes and instruments for, and plans, only that position: its own symbol, and for an option
every option position on the same underlying (a multi-leg structure is planned as a whole). Alerts of other
positions are neither raised nor resolved by such a run.

A run that finds a position event not yet announced (an assignment, exercise, expiration or split: decision 40)
widens its scope to every position the event touched (:meth:`Scope.widened`), because it announces the event
with what was done about it: the option and the delivered stock, or the split stock and its options.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tastyguard.engine.types import Holding, InstrumentType, WorkingOrder

_OPTIONS = frozenset({InstrumentType.EQUITY_OPTION, InstrumentType.FUTURE_OPTION})


@dataclass(frozen=True)
class Scope:
    """The symbols one run plans (``None`` scope everywhere else means: the whole account)."""

    symbol: str
    symbols: frozenset[str]

    @classmethod
    def around(cls, symbol: str, holdings: Iterable[Holding]) -> Scope:
        """``symbol`` and, for an option, every option position on its underlying."""
        held = list(holdings)
        wanted = {symbol}
        anchor = next((h for h in held if h.symbol == symbol), None)
        if anchor is not None and anchor.instrument_type in _OPTIONS:
            wanted |= {
                h.symbol
                for h in held
                if h.instrument_type in _OPTIONS and h.underlying_symbol == anchor.underlying_symbol
            }
        return cls(symbol, frozenset(wanted))

    def widened(self, symbols: Iterable[str], holdings: Iterable[Holding]) -> Scope:
        """This scope and ``symbols``, each with the option positions on its underlying (for an option)."""
        held = list(holdings)
        wanted = set(self.symbols)
        for symbol in symbols:
            wanted |= Scope.around(symbol, held).symbols
        return Scope(self.symbol, frozenset(wanted))

    def holds(self, holding: Holding) -> bool:
        """True for a position this run plans."""
        return holding.symbol in self.symbols

    def holdings(self, holdings: Sequence[Holding]) -> list[Holding]:
        """The positions this run plans."""
        return [h for h in holdings if self.holds(h)]

    def orders(self, orders: Sequence[WorkingOrder]) -> list[WorkingOrder]:
        """The working orders with a leg on a planned symbol (the rest are other positions' business)."""
        return [o for o in orders if any(leg.symbol in self.symbols for leg in o.legs)]
