"""Fault injection: HTTP faults matched by method + path regex, and websocket faults.

HTTP kinds: ``status`` (+``status``, optional ``retry-after``, ``code``, ``message``, ``html``), ``delay``
(+``seconds``, optional ``phase`` ``before``|``after``), ``html_401``, ``malformed``, ``accept_then_drop``,
``revoke_token`` (+``scope`` ``access``|``grant``). Websocket kinds: ``streamer_drop``, ``streamer_silent``,
``dxlink_1012``, ``dxlink_drop``, ``dxlink_silent``: they hit the matching connections that are open when the
fault is added and stay armed for new connections (after their handshake) until ``count`` is used up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

HTTP_KINDS = frozenset({'status', 'delay', 'html_401', 'malformed', 'accept_then_drop', 'revoke_token'})
WS_KINDS = {
    'streamer_drop': 'account_streamer',
    'streamer_silent': 'account_streamer',
    'dxlink_1012': 'dxlink',
    'dxlink_drop': 'dxlink',
    'dxlink_silent': 'dxlink',
}


class FaultTarget(Protocol):
    """A websocket connection that can suffer a fault."""

    kind: str  # 'account_streamer' or 'dxlink'

    def apply_fault(self, fault: str) -> bool:
        """Apply the fault now; False if the connection cannot take it (not established, already closed)."""


@dataclass
class Fault:
    """One armed fault."""

    id: int
    kind: str
    method: str
    path: str
    count: int
    extra: dict[str, Any] = field(default_factory=dict)
    fired: int = 0

    def __post_init__(self) -> None:
        self.pattern = re.compile(self.path)

    @property
    def exhausted(self) -> bool:
        return self.count != -1 and self.fired >= self.count

    def matches(self, method: str, path: str) -> bool:
        """Whether a request hits this fault."""
        return self.method in {'*', method} and self.pattern.search(path) is not None

    def as_json(self) -> dict[str, Any]:
        """The fault as the admin API lists it."""
        remaining = -1 if self.count == -1 else self.count - self.fired
        return {
            'id': self.id,
            'kind': self.kind,
            'method': self.method,
            'path': self.path,
            'count': self.count,
            'remaining': remaining,
            'fired': self.fired,
            **self.extra,
        }


class FaultRegistry:
    """Armed faults, in the order they were added (the first match fires)."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.targets: set[FaultTarget] = set()
        self._next_id = 1

    def add(self, spec: dict[str, Any]) -> Fault:
        """Validate and arm a fault; websocket faults hit open connections at once. Raises ValueError."""
        spec = {key.replace('_', '-') if key not in {'kind'} else key: value for key, value in spec.items()}
        kind = spec.pop('kind', None)
        if kind not in HTTP_KINDS and kind not in WS_KINDS:
            raise ValueError(f'unknown fault kind {kind!r}; use one of {sorted(HTTP_KINDS | set(WS_KINDS))}')
        method = str(spec.pop('method', '*')).upper()
        path = str(spec.pop('path', '.*'))
        count = spec.pop('count', 1)
        if not isinstance(count, int) or isinstance(count, bool) or (count < 1 and count != -1):
            raise ValueError('count must be a positive integer or -1 (forever)')
        try:
            re.compile(path)
        except re.error as exc:
            raise ValueError(f'path is not a valid regex: {exc}') from exc
        _check_extra(kind, spec)
        fault = Fault(self._next_id, kind, method, path, count, spec)
        self._next_id += 1
        self.faults.append(fault)
        if kind in WS_KINDS:
            for target in list(self.targets):
                if not fault.exhausted and target.kind == WS_KINDS[kind] and target.apply_fault(kind):
                    fault.fired += 1
        self._prune()
        return fault

    def match_http(self, method: str, path: str, *, websocket: bool = False) -> Fault | None:
        """The first HTTP fault matching a request (consumed). Upgrades only match ``method: WEBSOCKET``."""
        for fault in self.faults:
            if fault.kind not in HTTP_KINDS or fault.exhausted:
                continue
            if websocket and fault.method != 'WEBSOCKET':
                continue
            if fault.matches('WEBSOCKET' if websocket else method, path):
                fault.fired += 1
                self._prune()
                return fault
        return None

    def on_established(self, target: FaultTarget) -> None:
        """A websocket finished its handshake: apply an armed fault for its kind, if any."""
        for fault in self.faults:
            if fault.kind in WS_KINDS and WS_KINDS[fault.kind] == target.kind and not fault.exhausted:
                if target.apply_fault(fault.kind):
                    fault.fired += 1
                    self._prune()
                return

    def clear(self) -> None:
        """Disarm every fault."""
        self.faults.clear()

    def listing(self) -> list[dict[str, Any]]:
        """Every armed fault."""
        return [f.as_json() for f in self.faults]

    def _prune(self) -> None:
        self.faults = [f for f in self.faults if not f.exhausted]


def _check_extra(kind: str, spec: dict[str, Any]) -> None:
    if kind == 'status':
        status = spec.get('status')
        if not isinstance(status, int) or not 400 <= status <= 599:
            raise ValueError('a status fault needs "status" between 400 and 599')
        retry = spec.get('retry-after')
        if retry is not None and not isinstance(retry, int | float | str):
            raise ValueError('retry-after must be a number of seconds or an HTTP date')
    elif kind == 'delay':
        seconds = spec.get('seconds')
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
            raise ValueError('a delay fault needs "seconds" >= 0')
        if spec.setdefault('phase', 'before') not in {'before', 'after'}:
            raise ValueError('phase must be "before" or "after"')
    elif kind == 'revoke_token' and spec.setdefault('scope', 'grant') not in {'access', 'grant'}:
        raise ValueError('scope must be "access" or "grant"')
