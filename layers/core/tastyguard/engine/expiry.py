"""An option's last session: its own policy, and no new stop so close to expiry that it can only be rejected.

* ``expiry_day_kind``: on the option's expiration day (New York date) its policy's ``kind`` is replaced, e.g. by
  ``alert_only`` (tell me, place nothing) or ``none`` (hands-off for the day).
* ``expiry_cutoff_minutes`` (default 30): within that many minutes of the option's expiry tastyguard places no
  new stop and enlarges none; its existing stops stay, and are still shrunk or cancelled so the closing
  quantity never exceeds the position. A stop sent after the option stopped trading can only be rejected.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta

from tastyguard import calendar
from tastyguard.calendar import NEW_YORK
from tastyguard.config.effective import EffectivePolicy
from tastyguard.engine.types import Holding, InstrumentType

_OPTIONS = frozenset({InstrumentType.EQUITY_OPTION, InstrumentType.FUTURE_OPTION})
_CLOSE = time(16, 0)


def expires_at(holding: Holding) -> datetime | None:
    """When the option stops trading: the broker's ``expires-at``, else the close of its expiration date's session
    (13:00 New York on an early close, 16:00 otherwise)."""
    if holding.instrument_type not in _OPTIONS:
        return None
    if holding.expires_at is not None:
        return holding.expires_at
    if holding.option is not None:
        day = calendar.session(holding.option.expiration)
        return day.closes_at if day is not None else datetime.combine(holding.option.expiration, _CLOSE, NEW_YORK)
    return None


def in_last_session(holding: Holding, now: datetime) -> bool:
    """True on the option's expiration day (New York), before it expired."""
    expiry = expires_at(holding)
    if expiry is None or expiry <= now:
        return False
    day = holding.option.expiration if holding.option is not None else expiry.astimezone(NEW_YORK).date()
    return day == now.astimezone(NEW_YORK).date()


def for_last_session(policy: EffectivePolicy, holding: Holding, now: datetime) -> EffectivePolicy:
    """``policy`` with ``expiry_day_kind`` as its kind during the option's last session (else unchanged)."""
    if policy.expiry_day_kind is None or not in_last_session(holding, now):
        return policy
    source = policy.sources.get('expiry_day_kind', 'built-in default')
    sources = {**policy.sources, 'kind': f'expiry_day_kind ({source}): the option expires today'}
    return replace(policy, kind=policy.expiry_day_kind, sources=sources)


def minutes_left(holding: Holding, policy: EffectivePolicy, now: datetime) -> int | None:
    """Whole minutes to expiry when the option is inside the policy's cutoff (None otherwise)."""
    expiry = expires_at(holding)
    if expiry is None or policy.expiry_cutoff_minutes <= 0 or expiry <= now:
        return None
    left = expiry - now
    if left > timedelta(minutes=policy.expiry_cutoff_minutes):
        return None
    return int(left.total_seconds() // 60)
