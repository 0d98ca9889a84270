"""``python -m streamer.healthcheck``: is the streamer's heartbeat file fresh? (the ECS container health check)

The streamer touches a heartbeat file at least every 15 seconds while both of its sockets (the account
streamer and DXLink) are healthy. This check exits 0 when the file was modified within the allowed age,
else 1 with one line on stderr saying why. ECS runs it every 30 seconds; three failures in a row mark the
container unhealthy and ECS replaces the task.

Environment (both optional; the task definition sets them, so the streamer and its check agree):

``TASTYGUARD_STREAMER_HEALTH_FILE``     the heartbeat file (default ``/tmp/tastyguard-streamer.health``)
``TASTYGUARD_STREAMER_HEALTH_MAX_AGE``  seconds a heartbeat stays fresh (default 90: six missed beats)

Standard library only, and only modules the interpreter has loaded anyway (no dataclasses, which would pull in
``inspect``): the check runs almost 3,000 times a day on a quarter of a vCPU.
"""

from __future__ import annotations

import math
import os
import stat
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the check imports nothing it does not run
    from collections.abc import Callable, Mapping
    from typing import TextIO

ENV_HEALTH_FILE = 'TASTYGUARD_STREAMER_HEALTH_FILE'
ENV_HEALTH_MAX_AGE = 'TASTYGUARD_STREAMER_HEALTH_MAX_AGE'
DEFAULT_HEALTH_FILE = '/tmp/tastyguard-streamer.health'  # noqa: S108 - the container's own /tmp volume
DEFAULT_MAX_AGE_SECONDS = 90.0
EXIT_HEALTHY = 0
EXIT_UNHEALTHY = 1


class SettingError(ValueError):
    """An environment variable of the check has a value it cannot use; the message names it."""


class Settings:
    """Where the heartbeat is and how old it may be."""

    __slots__ = ('max_age', 'path')

    def __init__(self, path: str, max_age: float) -> None:
        self.path = path
        self.max_age = max_age

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Settings:
        """Read both variables; an empty value means the default."""
        path = environ.get(ENV_HEALTH_FILE, '').strip() or DEFAULT_HEALTH_FILE
        raw = environ.get(ENV_HEALTH_MAX_AGE, '').strip()
        if not raw:
            return cls(path=path, max_age=DEFAULT_MAX_AGE_SECONDS)
        try:
            max_age = float(raw)
        except ValueError:
            raise SettingError(
                f'{ENV_HEALTH_MAX_AGE}={raw!r} is not a number of seconds; set it to a positive number such as '
                f'{DEFAULT_MAX_AGE_SECONDS:g}, or unset it for the default'
            ) from None
        if not math.isfinite(max_age) or max_age <= 0:
            raise SettingError(
                f'{ENV_HEALTH_MAX_AGE}={raw!r} must be a positive, finite number of seconds (such as '
                f'{DEFAULT_MAX_AGE_SECONDS:g})'
            )
        return cls(path=path, max_age=max_age)


class Verdict:
    """The outcome: healthy or not, and the sentence that says why."""

    __slots__ = ('healthy', 'reason')

    def __init__(self, healthy: bool, reason: str) -> None:
        self.healthy = healthy
        self.reason = reason

    def __repr__(self) -> str:
        return f'Verdict(healthy={self.healthy}, reason={self.reason!r})'


def check(settings: Settings, now: float) -> Verdict:
    """Judge the heartbeat file at ``settings.path`` at wall-clock time ``now`` (seconds since the epoch).

    A modification time further in the future than the allowed age is not fresh (a clock that jumped back
    would otherwise keep a hung streamer "healthy" until the clock catches up).
    """
    try:
        status = os.stat(settings.path)  # noqa: PTH116 - pathlib would be one more import
    except FileNotFoundError:
        return Verdict(
            False,
            f'no heartbeat file at {settings.path}: the streamer has not had both sockets healthy since it started',
        )
    except OSError as error:
        return Verdict(False, f'cannot read the heartbeat file {settings.path}: {error.strerror or error}')
    if not stat.S_ISREG(status.st_mode):
        return Verdict(False, f'{settings.path} is not a regular file, so it cannot be the streamer heartbeat')
    age = now - status.st_mtime
    if age > settings.max_age:
        return Verdict(
            False,
            f'the last heartbeat is {age:.0f} s old (limit {settings.max_age:g} s): the streamer is stuck or a '
            'socket is down; see its log for the reason',
        )
    if age < -settings.max_age:
        return Verdict(
            False,
            f'the heartbeat file is dated {-age:.0f} s in the future (limit {settings.max_age:g} s): the clock '
            'jumped, so its age means nothing',
        )
    return Verdict(True, f'the last heartbeat is {max(age, 0.0):.0f} s old (limit {settings.max_age:g} s)')


def main(
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
    stderr: TextIO | None = None,
) -> int:
    """Check once; on failure write one line to stderr. Returns the exit status."""
    err = stderr if stderr is not None else sys.stderr
    try:
        settings = Settings.from_environment(os.environ if environ is None else environ)
    except SettingError as error:
        err.write(f'streamer unhealthy: {error}\n')
        return EXIT_UNHEALTHY
    verdict = check(settings, clock())
    if verdict.healthy:
        return EXIT_HEALTHY
    err.write(f'streamer unhealthy: {verdict.reason}\n')
    return EXIT_UNHEALTHY


if __name__ == '__main__':
    sys.exit(main())
