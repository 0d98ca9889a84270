"""What the stack needs from ``tastyguard.yaml`` and the cdk context, validated once at synth time.

The config is read with :func:`tastyguard.config.load_config` (the same validation as ``tastyguard config
check``), reduced to the handful of values the infrastructure depends on, and carried along as JSON so the
functions asset can ship the validated config to the Lambdas.

How the streamer is deployed is not trading configuration, so it comes from the cdk context instead
(``make deploy CDK_ARGS='-c streamer.capacity=spot -c streamer.hours=market'``, or the same keys in
``cdk.context.json`` to keep them): see :class:`StreamerSettings`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from datetime import time
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from infra import constants as c
from tastyguard.config import ConfigError, Problem, TastyguardConfig, config_to_json, load_config

_FALSE_WORDS = frozenset({'false', '0', 'no', 'off'})
_TRUE_WORDS = frozenset({'true', '1', 'yes', 'on'})
CONTEXT_SOURCE = 'cdk context'


class StreamerCapacity(enum.StrEnum):
    """Where the streamer task runs."""

    ON_DEMAND = 'on_demand'
    SPOT = 'spot'  # Fargate Spot: may be interrupted (2-minute notice); the catch-up after reconnect covers it


class StreamerHours(enum.StrEnum):
    """When the streamer runs."""

    ALWAYS = 'always'
    MARKET = 'market'  # scaled to 1 before the session and to 0 after it by two Scheduler schedules


class StreamerSettings(BaseModel):
    """How the Fargate streamer is deployed (``-c streamer.<name>=<value>``; every one optional).

    ==============================  ============  ==========================================================
    key                             default       values
    ==============================  ============  ==========================================================
    ``streamer.enabled``            ``true``      ``false`` deploys no VPC, cluster or task at all
    ``streamer.capacity``           ``on_demand`` ``spot``: Fargate Spot, about 50-70 % off the task price
    ``streamer.hours``              ``always``    ``market``: 08:45-17:00 New York, Monday to Friday
    ``streamer.cpu``                ``256``       CPU units: 256 (0.25 vCPU), 512, 1024
    ``streamer.memory``             ``512``       MiB, a size Fargate pairs with the CPU (256: 512, 1024, 2048)
    ``streamer.container_insights`` ``true``      ``false`` saves its per-metric charge (docs/infrastructure.md)
    ==============================  ============  ==========================================================
    """

    model_config = ConfigDict(frozen=True, extra='forbid')

    enabled: bool = True
    capacity: StreamerCapacity = StreamerCapacity.ON_DEMAND
    hours: StreamerHours = StreamerHours.ALWAYS
    cpu: int = c.STREAMER_DEFAULT_CPU
    memory: int = c.STREAMER_DEFAULT_MEMORY_MIB
    container_insights: bool = True

    @model_validator(mode='after')
    def _fargate_size(self) -> Self:
        if self.cpu not in c.FARGATE_SIZES:
            raise ValueError(
                f'streamer.cpu={self.cpu} is not a Fargate size for the streamer: use '
                + ', '.join(f'{cpu} ({cpu / 1024:g} vCPU)' for cpu in c.FARGATE_SIZES)
            )
        allowed = c.FARGATE_SIZES[self.cpu]
        if self.memory not in allowed:
            raise ValueError(
                f'streamer.memory={self.memory} does not go with streamer.cpu={self.cpu}: Fargate pairs '
                f'{self.cpu} CPU units with {", ".join(str(size) for size in allowed)} MiB'
            )
        return self

    @classmethod
    def from_context(cls, get_context: Callable[[str], Any], keys: Iterable[str] = ()) -> Self:
        """Read ``streamer.*`` from the cdk context; every problem is named with its key and allowed values.

        ``keys`` are all context keys, when known (``app.node.get_all_context()``), so a misspelt
        ``streamer.`` key is refused instead of silently ignored.
        """
        problems: list[Problem] = []
        fields = cls.model_fields
        for key in keys:
            name = key.removeprefix(c.CONTEXT_STREAMER_PREFIX)
            if key.startswith(c.CONTEXT_STREAMER_PREFIX) and name not in fields:
                known = ', '.join(f'{c.CONTEXT_STREAMER_PREFIX}{field}' for field in fields)
                problems.append(Problem(key, f'is not a streamer setting; the settings are {known}'))
        values: dict[str, Any] = {}
        for name, field in fields.items():
            key = f'{c.CONTEXT_STREAMER_PREFIX}{name}'
            raw = get_context(key)
            if raw is None:
                continue
            try:
                values[name] = _parse(raw, field.annotation)
            except ValueError as error:
                problems.append(Problem(key, str(error)))
        unparsed = {problem.path for problem in problems}
        if not unparsed & {f'{c.CONTEXT_STREAMER_PREFIX}cpu', f'{c.CONTEXT_STREAMER_PREFIX}memory'}:
            try:
                settings = cls(**values)
            except ValidationError as error:  # the size check: its message names both keys
                problems.append(Problem('', str(error.errors()[0]['msg']).removeprefix('Value error, ')))
            else:
                if not problems:
                    return settings
        raise ConfigError(CONTEXT_SOURCE, problems)


def _parse(raw: Any, annotation: Any) -> Any:
    """A context value (a string from ``-c key=value``, or JSON from cdk.json) as the field's type."""
    text = str(raw).strip()
    if annotation is bool:
        if isinstance(raw, bool):
            return raw
        if text.lower() in _TRUE_WORDS:
            return True
        if text.lower() in _FALSE_WORDS:
            return False
        raise ValueError(f'{text!r} is not true or false')
    if annotation is int:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if text.isdigit():
            return int(text)
        raise ValueError(f'{text!r} is not a whole number')
    if isinstance(annotation, type) and issubclass(annotation, enum.StrEnum):
        try:
            return annotation(text.lower())
        except ValueError:
            allowed = ', '.join(member.value for member in annotation)
            raise ValueError(f'{text!r} is not one of {allowed}') from None
    raise TypeError(f'no parser for {annotation!r}')  # pragma: no cover - a new field needs one


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
    # the snapshot cache costs about 2 USD a month for 512 MB (40 % on top of the whole stack), and a trader
    # with a few fills a day meets a cold start on most of them either way; turn it on (-c snap_start=true)
    # when fills must be protected within a second: docs/decisions.md "SnapStart" has the numbers.
    snap_start: bool = False
    streamer: StreamerSettings = StreamerSettings()

    @classmethod
    def from_config(
        cls,
        config: TastyguardConfig,
        *,
        source: str,
        reserved_concurrency: bool = True,
        streamer: StreamerSettings | None = None,
        snap_start: bool = False,
    ) -> Self:
        """Reduce a validated config (plus the deployment settings from the context) to what the stack needs."""
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
            streamer=streamer or StreamerSettings(),
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


def load_settings(
    get_context: Callable[[str], Any], root: Path = c.PROJECT_ROOT, *, context_keys: Iterable[str] = ()
) -> StackSettings:
    """Load and validate the config named by the app's context and the streamer settings in it.

    Raises ``ConfigError`` naming every problem (``context_keys``, when given, lets it refuse a misspelt
    ``streamer.`` key).
    """
    streamer = StreamerSettings.from_context(get_context, context_keys)
    path = resolve_config_path(get_context(c.CONTEXT_CONFIG), root)
    config = load_config(path)
    reserved = context_flag(get_context(c.CONTEXT_RESERVED_CONCURRENCY), default=True)
    snap_start = context_flag(get_context(c.CONTEXT_SNAP_START), default=False)
    try:
        source = str(path.relative_to(root))
    except ValueError:
        source = str(path)
    return StackSettings.from_config(
        config, source=source, reserved_concurrency=reserved, snap_start=snap_start, streamer=streamer
    )
