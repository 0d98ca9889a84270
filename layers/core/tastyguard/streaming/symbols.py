"""Which DXLink symbols the streamer watches: the streamer symbols of the accounts' positions.

DXLink names instruments by their *streamer symbol* (``AAPL``, ``.AAPL261218C200``, ``/ESZ26:XCME``), not by
the position's symbol. A position that carries ``streamer-symbol`` uses it; an equity is its own symbol; an
equity option's is derived from its OCC symbol (dxFeed's standard option symbology). A future or a futures
option without one is left out (and said once): its exchange suffix cannot be derived.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from decimal import Decimal

from tastyguard.broker import models as wire

logger = logging.getLogger('tastyguard.streaming')

_OCC = re.compile(r'^(?P<root>.{1,6}?)\s*(?P<date>\d{6})(?P<cp>[CP])(?P<strike>\d{8})$')
_warned: set[str] = set()


def option_streamer_symbol(occ: str) -> str | None:
    """``AAPL  261218C00200000`` → ``.AAPL261218C200`` (None if ``occ`` is not an OCC symbol)."""
    match = _OCC.match(occ)
    if match is None:
        return None
    strike = (Decimal(match['strike']) / 1000).normalize()
    return f'.{match["root"].strip()}{match["date"]}{match["cp"]}{format(strike, "f")}'


def streamer_symbol(position: wire.Position) -> str | None:
    """The DXLink symbol of one position, or None when it cannot be known."""
    if position.streamer_symbol:
        return position.streamer_symbol
    kind = str(position.instrument_type)
    if kind == 'Equity':
        return position.symbol
    if kind == 'Equity Option':
        return option_streamer_symbol(position.symbol)
    if position.symbol not in _warned:
        _warned.add(position.symbol)
        logger.warning('%s (%s) has no streamer symbol; it gets no live quotes', position.symbol, kind)
    return None


def watched(positions: Iterable[wire.Position]) -> dict[str, str]:
    """Streamer symbol → position symbol, for every open position that has one."""
    found: dict[str, str] = {}
    for position in positions:
        if position.signed_quantity == 0:
            continue
        symbol = streamer_symbol(position)
        if symbol is not None:
            found[symbol] = position.symbol
    return found
