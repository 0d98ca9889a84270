"""The four scheduled jobs: one least-privilege Lambda each, and an EventBridge Scheduler schedule each.

Every tick carries ``{"job", "scheduled_time", "schedule_arn"}``; the job keys Powertools idempotency on
``scheduled_time`` (the same across Scheduler's retries of one tick, unlike the execution id).
"""

from __future__ import annotations

from typing import cast

from aws_cdk import CfnElement, Stack, TimeZone
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra import cadence, nag
from infra import constants as c
from infra.constructs.dead_letters import DeadLetterQueue
from infra.constructs.function import TastyguardFunction, function_name
from infra.constructs.packaging import LambdaPackaging
from infra.constructs.secrets import Secrets
from infra.constructs.storage import Storage
from infra.settings import StackSettings


class Jobs(Construct):
    """``sync_positions``, ``ensure_stops``, ``reconcile_orders`` and ``digest``, on the config's schedule."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: StackSettings,
        packaging: LambdaPackaging,
        storage: Storage,
        secrets: Secrets,
        topic: sns.ITopic,
        bus: events.IEventBus,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self.run_failures = DeadLetterQueue(self, 'RunFailures', purpose='job runs that failed or went stale', key=key)
        self.tick_dead_letters = DeadLetterQueue(
            self, 'TickDeadLetters', purpose='ticks Scheduler could not deliver', key=key
        )
        self.environment = {
            c.ENV_STATE_TABLE: storage.state_table.table_name,
            c.ENV_IDEMPOTENCY_TABLE: storage.idempotency_table.table_name,
            c.ENV_BROKER_SECRET: c.BROKER_SECRET_NAME,
            c.ENV_TOKEN_SECRET: c.TOKEN_SECRET_NAME,
            c.ENV_TOPIC_ARN: topic.topic_arn,
            c.ENV_KILL_SWITCH_PARAM: secrets.kill_switch.parameter_name,
            c.ENV_CONFIG_FILE: c.CONFIG_FILE_IN_FUNCTION,
            c.ENV_EVENT_BUS: bus.event_bus_name,
            **c.POWERTOOLS_ENV,
        }
        shared = self._shared_statements(storage, secrets, topic, key)
        publish = iam.PolicyStatement(sid='PublishEvents', actions=['events:PutEvents'], resources=[bus.event_bus_arn])
        self.functions: dict[str, TastyguardFunction] = {}
        for job in c.JOBS:
            period = settings.period_minutes(job)
            self.functions[job] = TastyguardFunction(
                self,
                _pascal(job),
                name=job,
                description=f'tastyguard job {job}',
                packaging=packaging,
                environment=self.environment,
                timeout=cadence.job_timeout(job, period),
                memory_size=c.JOB_MEMORY_MB,
                reserved_concurrency=c.JOB_RESERVED_CONCURRENCY if settings.reserved_concurrency else None,
                retry_attempts=c.JOB_ASYNC_RETRIES,
                max_event_age=cadence.max_event_age(period),
                failures=self.run_failures.queue,
                statements=[*shared, publish] if job in c.EVENT_PUBLISHING_JOBS else shared,
                snap_start=settings.snap_start and job == c.EVENT_JOB,
            )
        self.group = scheduler.ScheduleGroup(self, 'ScheduleGroup', schedule_group_name=c.SCHEDULE_GROUP_NAME)
        self.schedules: dict[str, scheduler.Schedule] = {}
        for job, function in self.functions.items():
            schedule = self._schedule(job, function, settings)
            if schedule is not None:
                self.schedules[job] = schedule

    def _shared_statements(
        self, storage: Storage, secrets: Secrets, topic: sns.ITopic, key: kms.IKey
    ) -> list[iam.PolicyStatement]:
        region = Stack.of(self).region
        return [
            iam.PolicyStatement(
                sid='StateTable', actions=list(c.STATE_TABLE_ACTIONS), resources=[storage.state_table.table_arn]
            ),
            iam.PolicyStatement(
                sid='IdempotencyTable',
                actions=list(c.IDEMPOTENCY_TABLE_ACTIONS),
                resources=[storage.idempotency_table.table_arn],
            ),
            iam.PolicyStatement(
                sid='ReadBrokerGrant',
                actions=['secretsmanager:GetSecretValue'],
                resources=[secrets.broker_secret.secret_arn],
            ),
            iam.PolicyStatement(
                sid='ShareAccessToken',
                actions=['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
                resources=[secrets.token_secret.secret_arn],
            ),
            iam.PolicyStatement(
                sid='ReadKillSwitch', actions=['ssm:GetParameter'], resources=[secrets.kill_switch.parameter_arn]
            ),
            iam.PolicyStatement(sid='Notify', actions=['sns:Publish'], resources=[topic.topic_arn]),
            iam.PolicyStatement(
                sid='UseStackKey',
                actions=list(c.KEY_ACTIONS),
                resources=[key.key_arn],
                conditions={
                    'StringEquals': {
                        'kms:ViaService': [f'{service}.{region}.amazonaws.com' for service in c.KEY_CONSUMER_SERVICES]
                    }
                },
            ),
        ]

    def _schedule(self, job: str, function: TastyguardFunction, settings: StackSettings) -> scheduler.Schedule | None:
        period = settings.period_minutes(job)
        if period is None:
            if not settings.digest_enabled:
                return None  # the function stays deployed for on-demand runs
            fields = cadence.daily_cron(settings.digest_time, market_hours_only=settings.market_hours_only)
        else:
            fields = cadence.periodic_cron(
                period, market_hours_only=settings.market_hours_only, offset_minutes=c.JOB_OFFSET_MINUTES.get(job, 0)
            )
        return scheduler.Schedule(
            self,
            f'{_pascal(job)}Schedule',
            schedule_name=function_name(job),
            schedule_group=self.group,
            description=f'tastyguard: run {job}',
            schedule=scheduler.ScheduleExpression.cron(
                minute=fields.minute,
                hour=fields.hour,
                week_day=fields.week_day,
                time_zone=TimeZone.of(settings.timezone),
            ),
            # A protective job runs on the minute it is due: no flexible window.
            time_window=scheduler.TimeWindow.off(),
            target=scheduler_targets.LambdaInvoke(
                function.function,
                input=scheduler.ScheduleTargetInput.from_object(
                    {
                        'job': job,
                        'scheduled_time': scheduler.ContextAttribute.scheduled_time,
                        'schedule_arn': scheduler.ContextAttribute.schedule_arn,
                    }
                ),
                role=self._schedule_role(job, function),
                dead_letter_queue=self.tick_dead_letters.queue,
                retry_attempts=c.SCHEDULER_RETRIES,
                max_event_age=cadence.max_event_age(period),
            ),
        )

    def _schedule_role(self, job: str, function: TastyguardFunction) -> iam.Role:
        """One role per schedule: invoke this one function, send to the tick dead-letter queue (added by the CDK).

        Scheduler sends dead letters as this role, so the role also gets the queue key (through SQS only).
        """
        stack = Stack.of(self)
        role = iam.Role(
            self,
            f'{_pascal(job)}ScheduleRole',
            description=f'EventBridge Scheduler: invoke tastyguard {job}',
            assumed_by=iam.ServicePrincipal(
                'scheduler.amazonaws.com', conditions={'StringEquals': {'aws:SourceAccount': stack.account}}
            ),
        )
        self.tick_dead_letters.grant_send(role)
        logical_id = stack.get_logical_id(cast(CfnElement, function.function.node.default_child))
        nag.acknowledge(role, nag.scheduler_invoke_qualifiers(logical_id))
        return role


def _pascal(name: str) -> str:
    """``ensure_stops`` -> ``EnsureStops`` (construct ids)."""
    return ''.join(part.capitalize() for part in name.split('_'))
