"""What a DXLink subscription receives: events built from the broker's quotes, instruments and candle book.

* ``Quote``, ``Trade``, ``Summary``, ``Profile``: every instrument with a quote (``Profile`` only as the
  subscription's snapshot; the others again on every quote change).
* ``Greeks``: equity and futures options (implied volatility from the option's mark; ``"NaN"`` when it cannot be
  computed), like the others on subscription and on every quote change of the option.
* ``Candle``: candle symbols (``AAPL{=5m}``) with ``fromTime``: the history since ``fromTime`` as a snapshot
  (newest first, ``SNAPSHOT_BEGIN`` ... ``SNAPSHOT_END``/``SNAPSHOT_SNIP``), then the live candle, unflagged, on
  every quote change of the base symbol. A known symbol without any price gets dxFeed's empty-snapshot marker.

Unknown symbols and event types this broker does not model (``TimeAndSale``, ``Underlying``, ...) get nothing,
like a real feed for a symbol nobody trades.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from paperbroker.candle_symbols import parse_candle_symbol
from paperbroker.clock import epoch_ms
from paperbroker.dxlink_events import candle_fields, event_fields, greeks_fields
from paperbroker.dxlink_fields import REMOVE_EVENT, SNAPSHOT_BEGIN, SNAPSHOT_END, SNAPSHOT_SNIP
from paperbroker.dxlink_greeks import Greeks, expiry_moment, greeks
from paperbroker.instruments import EquityOption, FutureOption

if TYPE_CHECKING:
    from paperbroker.candle_book import CandleBook
    from paperbroker.core import Core

REGULAR = frozenset({'Quote', 'Trade', 'Summary', 'Profile'})
MAX_CANDLES = 10_000  # per history snapshot; older candles are snipped
Event = dict[str, Any]


def snapshot(core: Core, book: CandleBook, kind: str, symbol: str, from_ms: int | None) -> list[Event]:
    """The events a new subscription to ``(kind, symbol)`` receives at once."""
    if kind == 'Candle':
        return candle_history(core, book, symbol, from_ms)
    return ticker_events(core, kind, symbol)


def ticker_events(core: Core, kind: str, streamer_symbol: str) -> list[Event]:
    """The current event of a ticker type for one symbol (none if the symbol or its quote is unknown)."""
    instrument = core.state.registry.from_streamer(streamer_symbol)
    quote = core.state.quotes.get(instrument.symbol) if instrument is not None else None
    if instrument is None or quote is None:
        return []
    if kind in REGULAR:
        return [event_fields(kind, streamer_symbol, instrument, quote, core.now())]
    if kind == 'Greeks' and isinstance(instrument, EquityOption | FutureOption):
        return [greeks_fields(streamer_symbol, _greeks(core, instrument), core.now())]
    return []


def candle_history(core: Core, book: CandleBook, candle_text: str, from_ms: int | None) -> list[Event]:
    """A candle symbol's history since ``from_ms`` (only the live candle without it), flagged as a snapshot."""
    candle = parse_candle_symbol(candle_text)
    instrument = core.state.registry.from_streamer(candle.base) if candle is not None else None
    if candle is None or instrument is None:
        return []
    now = epoch_ms(core.now())
    series = book.history(instrument.symbol, candle, now if from_ms is None else from_ms, MAX_CANDLES)
    if not series.candles:
        return [candle_fields(candle_text, None, SNAPSHOT_BEGIN | SNAPSHOT_END | REMOVE_EVENT)]
    events = [candle_fields(candle_text, bar, 0) for bar in series.candles]
    events[0]['eventFlags'] |= SNAPSHOT_BEGIN
    events[-1]['eventFlags'] |= SNAPSHOT_SNIP if series.snipped else SNAPSHOT_END
    return events


def candle_update(core: Core, book: CandleBook, candle_text: str) -> list[Event]:
    """The live candle of a candle symbol (what every quote change of its base symbol sends)."""
    candle = parse_candle_symbol(candle_text)
    instrument = core.state.registry.from_streamer(candle.base) if candle is not None else None
    if candle is None or instrument is None:
        return []
    bar = book.live(instrument.symbol, candle)
    return [candle_fields(candle_text, bar, 0)] if bar is not None else []


def candle_base(candle_text: str) -> str | None:
    """The streamer symbol a candle symbol is built from."""
    candle = parse_candle_symbol(candle_text)
    return candle.base if candle is not None else None


def _greeks(core: Core, option: EquityOption | FutureOption) -> Greeks | None:
    quote = core.state.quotes.get(option.symbol)
    underlying = core.state.quotes.get(option.underlying_symbol)
    price = quote.mark if quote is not None else None
    spot = underlying.mark if underlying is not None else None
    return greeks(
        call=option.option_type == 'C',
        price=float(price) if price is not None else None,
        spot=float(spot) if spot is not None else None,
        strike=float(option.strike),
        expiration=expiry_moment(option.expiration),
        now=core.now(),
        futures=isinstance(option, FutureOption),
    )
