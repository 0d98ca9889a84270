"""Times for people: in the user's zone (``--tz``, else this machine's), always with the zone shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tastyguard.cli import exit_codes
from tastyguard.cli.errors import CliError


@dataclass(frozen=True)
class Zone:
    """A display time zone; ``zone`` None means this machine's local zone."""

    zone: tzinfo | None = None
    key: str | None = None

    @classmethod
    def named(cls, name: str | None) -> Zone:
        """``--tz`` (an IANA name such as America/New_York), or the local zone when None."""
        if not name:
            return cls()
        try:
            return cls(ZoneInfo(name), name)
        except (ZoneInfoNotFoundError, ValueError):
            raise CliError(
                f'unknown time zone {name!r}: use an IANA name such as America/New_York, Europe/London or UTC',
                exit_code=exit_codes.USAGE,
            ) from None

    def local(self, moment: datetime) -> datetime:
        """``moment`` in this zone."""
        return moment.astimezone(self.zone) if self.zone is not None else moment.astimezone()

    @property
    def name(self) -> str:
        """The zone as people read it: ``America/New_York`` or the local zone's abbreviation."""
        return self.key or (datetime.now().astimezone().tzname() or 'local time')

    def iso(self, moment: datetime) -> str:
        """ISO 8601 with the offset, in this zone (for ``--json``)."""
        return self.local(moment).isoformat(timespec='seconds')

    def short(self, moment: datetime | str) -> str:
        """``2026-12-02 11:50 EST``."""
        value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
        local = self.local(value)
        return f'{local:%Y-%m-%d %H:%M} {local.tzname() or ""}'.strip()
