"""One DXLink ``FEED`` channel: its configuration, what it has announced, its subscriptions, its messages.

Announcements follow dxFeed's AsyncAPI spec, where ``FEED_CONFIG`` is lazy ("the server may not send the
notification immediately, but before the first FEED_DATA"):

* the reply to ``FEED_SETUP`` carries ``dataFormat`` and ``aggregationPeriod``, and ``eventFields`` only for
  types announced before whose fields this setup changed (tastytrade's first reply has no ``eventFields``);
* before the first ``FEED_DATA`` of a type, and before the next one whenever its fields changed, a
  ``FEED_CONFIG`` announces ``eventFields`` for that type alone (clients merge announcements per type).

So a client that sends no ``acceptEventFields`` learns dxFeed's default fields from the announcement, and a client
that decodes by announced fields never sees a row it cannot read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from paperbroker.dxlink_events import NAN, row
from paperbroker.dxlink_fields import DEFAULT_FIELDS

MAX_EVENTS_PER_MESSAGE = 500  # a long candle history goes out in several FEED_DATA messages
BASE_FIELDS = ['eventType', 'eventSymbol', 'eventTime']

Key = tuple[str, str]  # (event type, symbol)


@dataclass
class FeedChannel:
    """A FEED channel and everything the server remembers about it."""

    number: int
    contract: str
    data_format: str = 'COMPACT'
    aggregation: float = 0.1
    accepted: dict[str, list[str]] = field(default_factory=dict)
    announced: dict[str, list[str]] = field(default_factory=dict)
    subscriptions: set[Key] = field(default_factory=set)
    from_times: dict[str, int] = field(default_factory=dict)  # time-series symbol -> fromTime (epoch ms)

    def fields(self, kind: str) -> list[str]:
        """The fields rows of ``kind`` carry on this channel: the client's, else dxFeed's defaults."""
        return self.accepted.get(kind) or DEFAULT_FIELDS.get(kind, BASE_FIELDS)

    def setup(self, message: dict[str, Any]) -> dict[str, Any]:
        """Apply a ``FEED_SETUP`` and return the ``FEED_CONFIG`` reply."""
        if message.get('acceptDataFormat') in {'FULL', 'COMPACT'}:
            self.data_format = message['acceptDataFormat']
        period = message.get('acceptAggregationPeriod')
        if isinstance(period, int | float) and not isinstance(period, bool) and period >= 0:
            self.aggregation = float(period)
        accepted = message.get('acceptEventFields')
        if isinstance(accepted, dict):
            for kind, names in accepted.items():
                if isinstance(names, list) and names and all(isinstance(n, str) for n in names):
                    self.accepted[kind] = list(names)
        changed = {kind: self.fields(kind) for kind, names in self.announced.items() if self.fields(kind) != names}
        self.announced.update(changed)
        return self._config(changed)

    def subscribe(self, message: dict[str, Any]) -> list[Key]:
        """Apply a ``FEED_SUBSCRIPTION`` (reset, remove, add); return the keys added (snapshots are due)."""
        if message.get('reset'):
            self.subscriptions.clear()
            self.from_times.clear()
        for item in message.get('remove') or []:
            if isinstance(item, dict):
                key = (str(item.get('type')), str(item.get('symbol')))
                self.subscriptions.discard(key)
                self.from_times.pop(key[1], None)
        added: list[Key] = []
        for item in message.get('add') or []:
            if not isinstance(item, dict) or not isinstance(item.get('type'), str):
                continue
            if not isinstance(item.get('symbol'), str):
                continue
            key = (item['type'], item['symbol'])
            start = item.get('fromTime')
            if isinstance(start, int | float) and not isinstance(start, bool):
                self.from_times[key[1]] = int(start)
            self.subscriptions.add(key)
            added.append(key)
        return added

    def messages(self, kind: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The ``FEED_DATA`` messages carrying ``events`` (after a ``FEED_CONFIG`` if the fields are news)."""
        if not events:
            return []
        names = self.fields(kind)
        out: list[dict[str, Any]] = []
        if self.announced.get(kind) != names:
            self.announced[kind] = names
            out.append(self._config({kind: names}))
        for start in range(0, len(events), MAX_EVENTS_PER_MESSAGE):
            chunk = events[start : start + MAX_EVENTS_PER_MESSAGE]
            data: list[Any]
            if self.data_format == 'FULL':
                data = [{name: event.get(name, NAN) for name in names} for event in chunk]
            else:
                data = [kind, [value for event in chunk for value in row(names, event)]]
            out.append({'type': 'FEED_DATA', 'channel': self.number, 'data': data})
        return out

    def _config(self, event_fields: dict[str, list[str]]) -> dict[str, Any]:
        message: dict[str, Any] = {
            'type': 'FEED_CONFIG',
            'channel': self.number,
            'dataFormat': self.data_format,
            'aggregationPeriod': self.aggregation,
        }
        if event_fields:
            message['eventFields'] = event_fields
        return message
