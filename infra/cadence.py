"""When the jobs run and how long they may take: pure functions from the config's schedule settings.

Cron fields are local time in the config's time zone (EventBridge Scheduler handles daylight saving).
Holidays and early closes are the job's business: it knows the market calendar, the schedule does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from aws_cdk import Duration

from infra import constants as c

_MINUTES_PER_HOUR = 60


@dataclass(frozen=True, slots=True)
class CronFields:
    """The fields of an EventBridge Scheduler cron expression that tastyguard sets."""

    minute: str
    hour: str
    week_day: str


def periodic_cron(period_minutes: int, *, market_hours_only: bool, offset_minutes: int = 0) -> CronFields:
    """Every ``period_minutes`` (a divisor-friendly minute step, or whole hours), in market hours or always.

    ``offset_minutes`` shifts the ticks (``2-59/5`` instead of ``*/5``) so jobs that share an account lease do
    not all start at the same second. Raises ``ValueError`` for a period cron cannot express (over an hour and
    not whole hours).
    """
    hours = c.MARKET_HOURS if market_hours_only else '*'
    days = c.MARKET_DAYS if market_hours_only else '*'
    if period_minutes < 1:
        raise ValueError(f'a schedule period must be at least one minute, not {period_minutes}')
    if period_minutes < _MINUTES_PER_HOUR:
        offset = offset_minutes % period_minutes
        if period_minutes == 1:
            minute = '*'
        elif offset:
            minute = f'{offset}-59/{period_minutes}'
        else:
            minute = f'*/{period_minutes}'
        return CronFields(minute=minute, hour=hours, week_day=days)
    if period_minutes % _MINUTES_PER_HOUR:
        raise ValueError(
            f'every {period_minutes} minutes cannot be written as a cron schedule: '
            'use a number of minutes below 60 or a whole number of hours (60, 120, 180, 240)'
        )
    step = period_minutes // _MINUTES_PER_HOUR
    return CronFields(
        minute=str(offset_minutes % _MINUTES_PER_HOUR), hour=hours if step == 1 else f'{hours}/{step}', week_day=days
    )


def daily_cron(at: time, *, market_hours_only: bool) -> CronFields:
    """Once a day at ``at`` (local), on trading weekdays or every day."""
    return CronFields(minute=str(at.minute), hour=str(at.hour), week_day=c.MARKET_DAYS if market_hours_only else '*')


def job_timeout(job: str, period_minutes: int | None) -> Duration:
    """The job's cap, lowered so a run always ends before the next tick of its schedule."""
    cap = int(c.JOB_MAX_TIMEOUT[job].to_seconds())
    if period_minutes is None:
        return Duration.seconds(cap)
    budget = period_minutes * 60 - int(c.TIMEOUT_MARGIN.to_seconds())
    return Duration.seconds(max(1, min(cap, budget)))


def max_event_age(period_minutes: int | None) -> Duration:
    """How long a tick may wait for delivery before it is stale (the next tick supersedes it)."""
    if period_minutes is None:
        return c.DIGEST_MAX_EVENT_AGE
    floor = int(c.MIN_EVENT_AGE.to_seconds())
    return Duration.seconds(max(floor, period_minutes * 60 - floor))
