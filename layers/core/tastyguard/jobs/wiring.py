"""Building a :class:`JobContext` for Lambda (from the environment the stack sets) and for other callers.

The Lambda environment holds only names and ARNs, never a secret value:

=================================  ==========================================================
``TASTYGUARD_STATE_TABLE``         the state table (see ``store/schema.py``)
``TASTYGUARD_BROKER_SECRET``       the default grant's secret (client secret + refresh token)
``TASTYGUARD_TOKEN_SECRET``        the default grant's access-token cache secret
``TASTYGUARD_RATE_PRIORITY``       ``high`` for the fill fast path (its reads go before sweep reads)
``TASTYGUARD_TOPIC_ARN``           the SNS topic for notifications
``TASTYGUARD_KILL_SWITCH_PARAM``   the SSM parameter of the kill switch
``TASTYGUARD_CONFIG_FILE``         the validated configuration (JSON) bundled with the function
``TASTYGUARD_API_URL``             paper environment only: the broker's REST URL
``TASTYGUARD_STREAMER_URL``        paper environment only: the account-streamer URL
=================================  ==========================================================

Other grants' secrets are named in the bundled configuration (``grants[].secret``, or the default
``tastyguard/grants/<name>``); their token caches are ``tastyguard/access-token/<name>``. Every grant gets
its own client: its own token cache and breaker, and its own rate budget shared through the state table.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

import boto3
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tastyguard.broker.budget import BudgetRates, Priority, SharedRateBudget
from tastyguard.broker.client import TastytradeClient
from tastyguard.broker.environments import Environment
from tastyguard.broker.stats import BrokerStats
from tastyguard.broker.tokens import TokenCache
from tastyguard.config.grants import DEFAULT_GRANT, GrantConfig
from tastyguard.config.loader import load_config_json
from tastyguard.config.models import TastyguardConfig
from tastyguard.credentials import credentials_from_secret
from tastyguard.jobs.context import JobContext, Stores
from tastyguard.jobs.grants import GrantClients
from tastyguard.jobs.ports import Broker
from tastyguard.notify.ports import Notifier
from tastyguard.notify.sns import SnsNotifier
from tastyguard.store.control import DEFAULT_KILL_SWITCH_PARAMETER
from tastyguard.store.schedules import DynamoScheduleStore
from tastyguard.store.table import StateTable, utc_now
from tastyguard.store.tokens import AwsTokenCache


class SettingsError(RuntimeError):
    """The function's environment is incomplete; the message names the variable."""


class RuntimeSettings(BaseModel):
    """The job Lambdas' environment variables (validated at the first invocation)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    broker_secret: str = Field(alias='TASTYGUARD_BROKER_SECRET', min_length=1)
    token_secret: str = Field(alias='TASTYGUARD_TOKEN_SECRET', min_length=1)
    topic_arn: str = Field(alias='TASTYGUARD_TOPIC_ARN', min_length=1)
    config_file: str = Field(alias='TASTYGUARD_CONFIG_FILE', min_length=1)
    kill_switch_parameter: str = Field(DEFAULT_KILL_SWITCH_PARAMETER, alias='TASTYGUARD_KILL_SWITCH_PARAM')
    rate_priority: Priority = Field(Priority.NORMAL, alias='TASTYGUARD_RATE_PRIORITY')
    api_url: str | None = Field(None, alias='TASTYGUARD_API_URL')
    streamer_url: str | None = Field(None, alias='TASTYGUARD_STREAMER_URL')
    build: str = Field('', alias='TASTYGUARD_BUILD')

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> RuntimeSettings:
        """Read and validate; a missing variable is named in the error."""
        environ = os.environ if environ is None else environ
        try:
            return cls.model_validate({key: value for key, value in environ.items() if key.startswith('TASTYGUARD_')})
        except ValidationError as error:
            problems = '; '.join(f'{e["loc"][0]}: {e["msg"]}' for e in error.errors())
            raise SettingsError(f'the function environment is incomplete ({problems}); redeploy the stack') from None


def broker_environment(config: TastyguardConfig, *, api_url: str | None, streamer_url: str | None) -> Environment:
    """The broker environment the configuration names (paper needs its URLs)."""
    name = config.environment.value
    if name == 'paper':
        return Environment.named(name, api_url=api_url, streamer_url=streamer_url)
    return Environment.named(name)


def load_bundled_config(path: str) -> TastyguardConfig:
    """The configuration JSON the stack bundled with the function."""
    return load_config_json(Path(path).read_bytes(), source=path)


def build_context(
    *,
    config: TastyguardConfig,
    broker: Broker,
    state: StateTable,
    notifier: Notifier,
    owner: str,
    kill_switch_parameter: str = DEFAULT_KILL_SWITCH_PARAMETER,
    clock: Callable[[], datetime] = utc_now,
) -> JobContext:
    """A context over explicit collaborators (the CLI and tests use this)."""
    return JobContext(
        config=config,
        broker=broker,
        stores=Stores.on(state, boto3.client('ssm'), config, kill_switch_parameter),
        notifier=notifier,
        owner=owner,
        clock=clock,
    )


def token_cache_for(state: StateTable, secret_id: str, environment: str, grant: str = DEFAULT_GRANT) -> TokenCache:
    """The AWS-backed shared token cache of one grant."""
    return AwsTokenCache(
        state, boto3.client('secretsmanager'), secret_id=secret_id, environment=environment, grant=grant
    )


def grant_client(
    grant: GrantConfig,
    *,
    config: TastyguardConfig,
    settings: RuntimeSettings,
    state: StateTable,
    environment: Environment,
) -> TastytradeClient:
    """One grant's client: its credentials, its token cache, its share of the grant's rate budget."""
    default = grant.name == DEFAULT_GRANT
    secret = settings.broker_secret if default and grant.secret is None else grant.secret_name
    token_secret = settings.token_secret if default else grant.token_secret_name
    stats = BrokerStats()
    budget = SharedRateBudget(
        DynamoScheduleStore(state),
        grant.name,
        BudgetRates(headroom=config.scale.headroom),
        priority=settings.rate_priority,
        stats=stats,
    )
    return TastytradeClient(
        environment,
        # Read at every token refresh (about four times an hour per grant): a warm container picks up a newly
        # stored grant instead of retrying the revoked one.
        lambda: credentials_from_secret(secret, fresh=True),
        token_cache=token_cache_for(state, token_secret, config.environment.value, grant.name),
        shared_limiter=budget,
        stats=stats,
    )


def lambda_context(owner: str, settings: RuntimeSettings | None = None) -> JobContext:
    """The context of a job Lambda, built from its environment (one client per grant, built on first use)."""
    settings = settings or RuntimeSettings.from_environment()
    config = load_bundled_config(settings.config_file)
    state = StateTable()
    environment = broker_environment(config, api_url=settings.api_url, streamer_url=settings.streamer_url)
    clients = GrantClients(
        config,
        lambda grant: grant_client(grant, config=config, settings=settings, state=state, environment=environment),
    )
    ctx = build_context(
        config=config,
        broker=clients.first(),
        state=state,
        notifier=SnsNotifier(lambda: boto3.client('sns'), settings.topic_arn),
        owner=owner,
        kill_switch_parameter=settings.kill_switch_parameter,
    )
    ctx.clients = clients
    ctx.build = settings.build
    return ctx
