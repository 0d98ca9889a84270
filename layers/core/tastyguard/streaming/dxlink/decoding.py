"""``FEED_DATA`` to typed events, by the fields the server announced, the way dxFeed's own client does it.

A COMPACT ``FEED_DATA`` is ``[type, [v, v, v, ...], type, [...], ...]``: flat values, one row after another,
with no names. The names are in the channel's ``FEED_CONFIG`` ``eventFields``, announced per type (lazily,
before the first row of that type, and again when they change) and **merged per type**: an announcement of
``{"Trade": [...]}`` keeps what was known for ``Quote``. What this client asked for in ``FEED_SETUP`` is only a
request; a server may answer with other fields or another order, so rows are never sliced by the request.

* rows of a type whose fields were never announced are dropped and counted (``unannounced``): guessing a
  layout would put an ask price into a bid;
* a value list that is not a whole number of rows is dropped and counted (``malformed``);
* a row without a usable ``eventSymbol`` is dropped and counted (``malformed``);
* every ``[type, values]`` pair of a message is decoded (dxFeed's client reads only the first);
* the FULL format (a list of objects) is decoded by name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tastyguard.streaming.dxlink.events import EVENT_CLASSES, WIRE_FIELDS, EventType, FeedEvent
from tastyguard.streaming.dxlink.values import CONVERTERS, Converter

_EVENT_TYPES = {kind.value: kind for kind in EventType}


def _constant(value: Any) -> Converter:
    return lambda _: value


def fast_constructor(cls: type[FeedEvent]) -> Callable[..., FeedEvent]:
    """Build frozen events at the speed of mutable ones (the decoder's hot path).

    A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``, which costs about a
    microsecond per event. The decoder instead fills a mutable twin with the same ``__slots__`` layout and then
    re-labels it as the frozen class: same object, same fields, still immutable afterwards, five times faster.
    Falls back to the class itself if the twin's layout ever stops being compatible.
    """
    twin = dataclasses.make_dataclass(
        f'_Mutable{cls.__name__}', [(f.name, Any, f.default) for f in dataclasses.fields(cls)], slots=True
    )

    def build(*args: Any) -> FeedEvent:
        event = twin(*args)
        event.__class__ = cls
        return event  # type: ignore[no-any-return]

    sample: list[Any] = ['SAMPLE', *(f.default for f in dataclasses.fields(cls)[1:])]
    try:
        fast = build(*sample)
    except TypeError:
        return cls
    return build if fast == cls(*sample) else cls


@dataclass
class Decoded:
    """What one ``FEED_DATA`` held."""

    events: list[FeedEvent] = field(default_factory=list)
    unannounced: set[str] = field(default_factory=set)  # event types that arrived before their fields
    malformed: int = 0  # rows (or whole value lists) that could not be decoded


class RowDecoder:
    """Decodes rows of one event type laid out in one announced field order."""

    def __init__(self, kind: EventType, fields: Sequence[str]) -> None:
        self.kind = kind
        self.fields = tuple(fields)
        self.width = len(self.fields)
        self._cls = EVENT_CLASSES[kind]
        self._build = _BUILDERS[kind]
        wire = WIRE_FIELDS[kind]
        where: dict[str, tuple[int, Converter]] = {}
        for index, name in enumerate(self.fields):
            if name in wire:
                attribute, kind_name = wire[name]
                where.setdefault(attribute, (index, CONVERTERS[kind_name]))
        self.has_symbol = 'symbol' in where
        # one (position in the row, converter) per constructor argument, in the dataclass's field order
        self._plan: list[tuple[int, Converter]] = []
        for spec in dataclasses.fields(self._cls):
            if spec.name in where:
                self._plan.append(where[spec.name])
            else:
                self._plan.append((0, _constant(spec.default)))

    def decode(self, values: Sequence[Any], out: Decoded) -> None:
        """Append the events of a flat COMPACT value list to ``out``."""
        width = self.width
        if not self.has_symbol or width == 0 or len(values) % width:
            out.malformed += 1
            return
        build, plan, events = self._build, self._plan, out.events
        for offset in range(0, len(values), width):
            args = [convert(values[offset + index]) for index, convert in plan]
            if args[0] is None:  # symbol is every event's first field
                out.malformed += 1
                continue
            events.append(build(*args))

    def decode_object(self, item: Mapping[str, Any], out: Decoded) -> None:
        """Append one FULL-format event to ``out``."""
        wire = WIRE_FIELDS[self.kind]
        kwargs: dict[str, Any] = {}
        for name, value in item.items():
            if name in wire:
                attribute, kind_name = wire[name]
                kwargs.setdefault(attribute, CONVERTERS[kind_name](value))
        if kwargs.get('symbol') is None:
            out.malformed += 1
            return
        out.events.append(self._cls(**kwargs))


_BUILDERS = {kind: fast_constructor(cls) for kind, cls in EVENT_CLASSES.items()}


class FeedDecoder:
    """The announced fields of one channel and the decoders built from them."""

    def __init__(self) -> None:
        self.fields: dict[str, tuple[str, ...]] = {}
        self._decoders: dict[str, RowDecoder] = {}

    def configure(self, event_fields: Mapping[str, Sequence[str]]) -> list[str]:
        """Merge a ``FEED_CONFIG``'s ``eventFields``; returns the types whose layout changed."""
        changed = []
        for name, names in event_fields.items():
            if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
                continue
            layout = tuple(names)
            if self.fields.get(name) != layout:
                self.fields[name] = layout
                self._decoders.pop(name, None)
                changed.append(name)
        return changed

    def decode(self, data: Any) -> Decoded:
        """Decode a ``FEED_DATA`` message's ``data``."""
        out = Decoded()
        if not isinstance(data, list):
            out.malformed += 1
            return out
        if data and isinstance(data[0], dict):
            for item in data:
                decoder = self._decoder(str(item.get('eventType')), out, full=True) if isinstance(item, dict) else None
                if decoder is not None:
                    decoder.decode_object(item, out)
            return out
        for position in range(0, len(data) - 1, 2):
            name, values = data[position], data[position + 1]
            if not isinstance(name, str) or not isinstance(values, list):
                out.malformed += 1
                continue
            decoder = self._decoder(name, out, full=False)
            if decoder is not None:
                decoder.decode(values, out)
        if len(data) % 2:
            out.malformed += 1
        return out

    def _decoder(self, name: str, out: Decoded, *, full: bool) -> RowDecoder | None:
        kind = _EVENT_TYPES.get(name)
        if kind is None:
            return None  # a type this client does not model: nothing to do with it
        decoder = self._decoders.get(name)
        if decoder is None:
            layout = self.fields.get(name)
            if layout is None and not full:
                out.unannounced.add(name)
                return None
            decoder = self._decoders[name] = RowDecoder(kind, layout or ())
        return decoder
