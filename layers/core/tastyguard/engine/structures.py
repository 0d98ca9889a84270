"""Multi-leg option structures (spreads) and tastyguard's own multi-leg orders.

**Detection heuristic**: equity-option positions on the same underlying held in *opposite directions* (at
least one long and one short option) form one structure: verticals, iron condors, butterflies, calendars,
diagonals, ratio spreads. Its limits, on purpose conservative:

* two unrelated trades on one underlying (a long put hedge and a short call elsewhere) are taken as one
  structure, so both become alert-only rather than get stops that could break a hedge;
* same-direction combinations (a short strangle, a long straddle) are not structures: each leg gets its
  own stop, as a single option would;
* stock + option combinations (covered calls, protective puts) are not structures: the stock and the
  option each get their own stop;
* futures options are never protected by broker stops, structure or not.

Structures are alert-only unless the ``spread`` policy is ``stop_limit``
(see :mod:`tastyguard.engine.spread_stop`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from tastyguard.engine.types import Holding, InstrumentType


def find_structures(holdings: Sequence[Holding]) -> dict[str, tuple[Holding, ...]]:
    """Underlying → its option legs, for every underlying with options held in both directions."""
    options: dict[str, list[Holding]] = defaultdict(list)
    for holding in holdings:
        if holding.instrument_type is InstrumentType.EQUITY_OPTION and holding.quantity != 0:
            options[holding.underlying_symbol].append(holding)
    return {
        underlying: tuple(sorted(legs, key=lambda h: h.symbol))
        for underlying, legs in sorted(options.items())
        if any(leg.is_long for leg in legs) and any(not leg.is_long for leg in legs)
    }
