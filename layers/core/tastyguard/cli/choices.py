"""The fixed word lists of command-line options, as plain enums so that declaring an option imports nothing
heavy (``tastyguard --help`` must stay fast). Tests keep them equal to the configuration's enums."""

from __future__ import annotations

import enum


class ModeChoice(enum.StrEnum):
    """``--mode``: mirrors :class:`tastyguard.config.Mode`."""

    OBSERVE = 'observe'
    SHADOW = 'shadow'
    LIVE = 'live'


class EnvironmentChoice(enum.StrEnum):
    """``--environment``: mirrors :class:`tastyguard.config.Environment`."""

    PRODUCTION = 'production'
    SANDBOX = 'sandbox'
    PAPER = 'paper'


class JobChoice(enum.StrEnum):
    """``run JOB``: the four jobs as people type them (mirrors :class:`tastyguard.jobs.invocation.JobName`)."""

    SYNC_POSITIONS = 'sync-positions'
    ENSURE_STOPS = 'ensure-stops'
    RECONCILE_ORDERS = 'reconcile-orders'
    DIGEST = 'digest'

    @property
    def job_name(self) -> str:
        """The job's name in records and events (``ensure_stops``)."""
        return self.value.replace('-', '_')
