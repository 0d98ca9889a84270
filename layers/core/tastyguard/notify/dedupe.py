"""Deciding which alerts to send: new problems, escalations and reminders; and which problems resolved.

Pure: takes the current alert candidates and the stored alert records, returns what to send and the
records to store. The same unprotected position is announced once, reminded after ``repeat_after``, and
reported resolved when it disappears.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tastyguard.notify.notice import Severity
from tastyguard.store.alerts import AlertRecord


@dataclass(frozen=True, slots=True)
class AlertCandidate:
    """A problem seen in this run."""

    dedupe_key: str
    kind: str
    severity: Severity
    message: str
    symbol: str | None = None


@dataclass(frozen=True, slots=True)
class Triage:
    """The outcome: what to send now, what resolved, and the records to store."""

    send: list[AlertCandidate] = field(default_factory=list)
    reminders: list[AlertCandidate] = field(default_factory=list)
    resolved: list[AlertRecord] = field(default_factory=list)
    suppressed: list[AlertCandidate] = field(default_factory=list)
    records: list[AlertRecord] = field(default_factory=list)


def triage(
    account: str,
    candidates: Sequence[AlertCandidate],
    records: Mapping[str, AlertRecord],
    *,
    now: datetime,
    repeat_after: timedelta,
    scope_kinds: Collection[str],
    scope_symbols: Collection[str] | None = None,
) -> Triage:
    """Decide what to send.

    ``scope_kinds`` are the alert kinds this job is authoritative for: an open record of one of those
    kinds that is not among ``candidates`` is resolved; records of other kinds are left alone. A run that
    looked at only some positions (``scope_symbols``) resolves only their records.
    """
    result = Triage()
    seen: set[str] = set()
    for candidate in candidates:
        if candidate.dedupe_key in seen:
            continue
        seen.add(candidate.dedupe_key)
        record = records.get(candidate.dedupe_key)
        if record is None or not record.open:
            result.send.append(candidate)
            result.records.append(_record(account, candidate, now, first_seen=now, sent=True, times=1))
            continue
        escalated = candidate.severity.rank > Severity(record.severity).rank
        due = record.last_sent is None or now - record.last_sent >= repeat_after
        if escalated or due:
            (result.send if escalated else result.reminders).append(candidate)
            result.records.append(
                _record(account, candidate, now, first_seen=record.first_seen, sent=True, times=record.times_sent + 1)
            )
        else:
            result.suppressed.append(candidate)
            result.records.append(
                record.model_copy(update={'last_seen': now, 'message': candidate.message, 'severity': record.severity})
            )
    for key, record in records.items():
        in_scope = scope_symbols is None or record.symbol in scope_symbols
        if record.open and key not in seen and record.kind in scope_kinds and in_scope:
            resolved = record.model_copy(update={'resolved_at': now})
            result.resolved.append(resolved)
            result.records.append(resolved)
    return result


def _record(
    account: str, candidate: AlertCandidate, now: datetime, *, first_seen: datetime, sent: bool, times: int
) -> AlertRecord:
    return AlertRecord(
        account=account,
        dedupe_key=candidate.dedupe_key,
        kind=candidate.kind,
        severity=candidate.severity.value,
        symbol=candidate.symbol,
        message=candidate.message,
        first_seen=first_seen,
        last_seen=now,
        last_sent=now if sent else None,
        times_sent=times,
    )
