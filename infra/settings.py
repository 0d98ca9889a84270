"""What the stack needs from ``tastyguard.yaml``, validated once at synth time.

The config is read with :func:`tastyguard.config.load_config` (the same validation as ``tastyguard config
check``), reduced to the handful of values the infrastructure depends on, and carried along as JSON so the
functions asset can ship the validated config to the Lambdas.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict

from infra import constants as c
from tastyguard.config import ConfigError, Problem, TastyguardConfig, config_to_json, load_config

_FALSE_WORDS = frozenset({'false', '0', 'no', 'off'})


class GrantSecrets(BaseModel):
    """The two secrets of one grant: its credentials and its access-token cache."""

    model_config = ConfigDict(frozen=True, extra='forbid')

    name: str
    secret_name: str
    token_secret_name: str


class StackSettings(BaseModel):
    """The part of the configuration that shapes the deployed resources."""

    model_config = ConfigDict(frozen=True, extra='forbid')

    config_source: str
    config_json: str
    environment: str
    mode: str
    emails: tuple[str, ...]
    slack_enabled: bool
    slack_secret_name: str
    digest_enabled: bool
    timezone: str
    market_hours_only: bool
    sync_positions_minutes: int
    ensure_stops_minutes: int
    reconcile_orders_minutes: int
    digest_time: time
    grants: tuple[GrantSecrets, ...] = (GrantSecrets(name='default', secret_name=c.BROKER_SECRET_NAME,
                                                     token_secret_name=c.TOKEN_SECRET_NAME),)  # fmt: skip
    concurrency: int = 5
    reserved_concurrency: bool = True
    # Lambda SnapStart on the fast-path function (the one the streamer's fill events invoke). Off by default:
    # today that function is kept warm by its own 5-minute sweeps (reserved concurrency 1, one environment),
    # so a fill rarely meets a cold start, while the snapshot cache costs about 2 USD a month for 512 MB
    # (40 % on top of the whole stack). Turn it on (-c snap_start=true) when fills do meet cold starts, e.g.
    # once the fast path has its own function: docs/decisions.md "SnapStart" has the numbers.
    snap_start: bool = False

    @classmethod
    def from_config(
        cls, config: TastyguardConfig, *, source: str, reserved_concurrency: bool = True, snap_start: bool = False
    ) -> Self:
        """Reduce a validated config to what the stack needs."""
        notifications = config.notifications
        schedules = config.schedules
        return cls(
            config_source=source,
            config_json=config_to_json(config),
            environment=config.environment.value,
            mode=config.mode.value,
            emails=tuple(notifications.email),
            slack_enabled=notifications.slack.enabled,
            slack_secret_name=notifications.slack.webhook_secret_name,
            digest_enabled=notifications.digest,
            timezone=schedules.timezone,
            market_hours_only=schedules.market_hours_only,
            sync_positions_minutes=schedules.sync_positions_minutes,
            ensure_stops_minutes=schedules.ensure_stops_minutes,
            reconcile_orders_minutes=schedules.reconcile_orders_minutes,
            digest_time=schedules.digest_time,
            grants=tuple(
                GrantSecrets(name=g.name, secret_name=g.secret_name, token_secret_name=g.token_secret_name)
                for g in config.effective_grants
            ),
            concurrency=config.scale.concurrency,
            reserved_concurrency=reserved_concurrency,
            snap_start=snap_start,
        )

    @property
    def scheduled_jobs(self) -> tuple[str, ...]:
        """The jobs with a schedule. ``sync_positions`` only when it runs more often than ``ensure_stops``
        (which reads and stores positions itself), and the digest only when it is on."""
        jobs = ['ensure_stops', 'reconcile_orders']
        if self.sync_positions_minutes < self.ensure_stops_minutes:
            jobs.append('sync_positions')
        if self.digest_enabled:
            jobs.append('digest')
        return tuple(job for job in c.JOBS if job in jobs)

    def period_minutes(self, job: str) -> int | None:
        """How often a periodic job runs; None for the daily digest."""
        periods = {
            'sync_positions': self.sync_positions_minutes,
            'ensure_stops': self.ensure_stops_minutes,
            'reconcile_orders': self.reconcile_orders_minutes,
        }
        return periods.get(job)


def resolve_config_path(requested: str | None, root: Path = c.PROJECT_ROOT) -> Path:
    """The config file to synthesize or deploy.

    An explicit ``-c config=<path>`` must exist. Without one, ``tastyguard.yaml``. There is no fallback to the
    example: its accounts are made up and its environment is production, so synthesizing it by accident would
    end in deploying it. To synthesize the example on purpose: ``-c config=tastyguard.example.yaml``. Relative
    paths are relative to the project root (where ``cdk.json`` is).

    Raises
    ------
    ConfigError
        When the file does not exist, saying what to create or pass.
    """
    if requested:
        path = Path(requested)
        return path if path.is_absolute() else root / path
    default = root / c.DEFAULT_CONFIG_FILE
    if default.exists():
        return default
    raise ConfigError(
        str(default),
        [
            Problem(
                '',
                f'{c.DEFAULT_CONFIG_FILE} does not exist: copy {c.EXAMPLE_CONFIG_FILE} to {c.DEFAULT_CONFIG_FILE} and '
                f'edit it (docs/deploy.md), or synthesize the example on purpose with '
                f'-c config={c.EXAMPLE_CONFIG_FILE}',
            )
        ],
    )


def context_flag(value: Any, *, default: bool) -> bool:
    """A boolean from cdk context (``-c key=false`` arrives as the string 'false')."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in _FALSE_WORDS


def load_settings(get_context: Callable[[str], Any], root: Path = c.PROJECT_ROOT) -> StackSettings:
    """Load and validate the config named by the app's context; raises ``ConfigError`` naming every problem."""
    path = resolve_config_path(get_context(c.CONTEXT_CONFIG), root)
    config = load_config(path)
    reserved = context_flag(get_context(c.CONTEXT_RESERVED_CONCURRENCY), default=True)
    snap_start = context_flag(get_context(c.CONTEXT_SNAP_START), default=False)
    try:
        source = str(path.relative_to(root))
    except ValueError:
        source = str(path)
    return StackSettings.from_config(config, source=source, reserved_concurrency=reserved, snap_start=snap_start)
