"""Where the client talks to: production, the tastytrade sandbox, or a paper broker.

There is deliberately no default: every caller names its environment, so nothing silently means
production. ``Accept-Version`` is sent to production only (the sandbox answers 404 on order routes when it
is present, tastyware#291).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from urllib.parse import urlsplit

API_VERSION = '20251101'
"""The ``Accept-Version`` sent to production."""


class EnvironmentName(enum.StrEnum):
    """The three kinds of broker tastyguard runs against."""

    PRODUCTION = 'production'
    SANDBOX = 'sandbox'
    PAPER = 'paper'


def _check_url(url: str, schemes: tuple[str, ...], what: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in schemes or not parts.netloc:
        raise ValueError(f'{what} must be an absolute {"/".join(schemes)} URL, got {url!r}')
    if parts.query or parts.fragment:
        raise ValueError(f'{what} must not carry a query or fragment')
    return url.rstrip('/')


@dataclass(frozen=True, slots=True)
class Environment:
    """A broker environment: REST base URL, account-streamer URL and whether ``Accept-Version`` is sent."""

    name: EnvironmentName
    api_url: str
    streamer_url: str
    accept_version: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, 'api_url', _check_url(self.api_url, ('https', 'http'), 'api_url'))
        object.__setattr__(self, 'streamer_url', _check_url(self.streamer_url, ('wss', 'ws'), 'streamer_url'))
        if self.name is not EnvironmentName.PAPER and not self.api_url.startswith('https://'):
            raise ValueError(f'the {self.name} environment must use https')

    @property
    def is_production(self) -> bool:
        """True for real money."""
        return self.name is EnvironmentName.PRODUCTION

    @classmethod
    def production(cls) -> Environment:
        """tastytrade production (real money)."""
        return cls(
            EnvironmentName.PRODUCTION,
            'https://api.tastyworks.com',
            'wss://streamer.tastyworks.com',
            API_VERSION,
        )

    @classmethod
    def sandbox(cls) -> Environment:
        """tastytrade's certification sandbox (resets daily, delayed quotes)."""
        return cls(EnvironmentName.SANDBOX, 'https://api.cert.tastyworks.com', 'wss://streamer.cert.tastyworks.com')

    @classmethod
    def paper(cls, api_url: str, streamer_url: str) -> Environment:
        """A tastytrade-compatible paper broker at any URL (usually the local one)."""
        return cls(EnvironmentName.PAPER, api_url, streamer_url)

    @classmethod
    def named(cls, name: str, *, api_url: str | None = None, streamer_url: str | None = None) -> Environment:
        """Build from configuration: ``production``, ``sandbox``, or ``paper`` with both URLs.

        Raises
        ------
        ValueError
            For an unknown name, or ``paper`` without its URLs.
        """
        try:
            kind = EnvironmentName(name)
        except ValueError:
            allowed = ', '.join(e.value for e in EnvironmentName)
            raise ValueError(f'unknown broker environment {name!r}; expected one of {allowed}') from None
        if kind is EnvironmentName.PAPER:
            if not api_url or not streamer_url:
                raise ValueError('the paper environment needs api_url and streamer_url')
            return cls.paper(api_url, streamer_url)
        if api_url or streamer_url:
            raise ValueError(f'the {kind} environment has fixed URLs; do not pass api_url/streamer_url')
        return cls.production() if kind is EnvironmentName.PRODUCTION else cls.sandbox()
