"""The four jobs (one least-privilege worker Lambda each), the fill fast path, and the Scheduler schedules.

Every tick carries ``{"job", "scheduled_time", "schedule_arn"}`` to the dispatcher (:mod:`infra.constructs.
fanout`), which sends one message per account to the job's work queue; the job's function consumes it and
keys Powertools idempotency on tick + account. The fast-path function runs ``ensure_stops`` for the
streamer's events on its own, so a fill never waits behind a sweep.
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
            c.ENV_BUILD: packaging.build,
            **c.POWERTOOLS_ENV,
        }
        self.shared_statements = self._shared_statements(storage, secrets, topic, key)
        shared = self.shared_statements
        publish = iam.PolicyStatement(sid='PublishEvents', actions=['events:PutEvents'], resources=[bus.event_bus_arn])
        self.functions: dict[str, TastyguardFunction] = {}
        for job in c.JOBS:
            period = settings.period_minutes(job)
            reserve = settings.reserved_concurrency and job == c.RESERVED_CONCURRENCY_JOB
            self.functions[job] = TastyguardFunction(
                self,
                pascal(job),
                name=job,
                description=f'tastyguard job {job}: one account run per work-queue message',
                packaging=packaging,
                environment=self.environment,
                timeout=cadence.job_timeout(job, period),
                memory_size=c.JOB_MEMORY_MB,
                reserved_concurrency=settings.concurrency if reserve else None,
                retry_attempts=c.JOB_ASYNC_RETRIES,
                max_event_age=cadence.max_event_age(period),
                failures=self.run_failures.queue,
                statements=[*shared, publish] if job in c.EVENT_PUBLISHING_JOBS else shared,
            )
        self.fast_path = TastyguardFunction(
            self,
            pascal(c.FAST_PATH),
            name=c.FAST_PATH,
            description='tastyguard fast path: protect the position of a fill or position change now',
            packaging=packaging,
            environment={**self.environment, c.ENV_RATE_PRIORITY: 'high'},
            timeout=cadence.job_timeout(c.EVENT_JOB, settings.period_minutes(c.EVENT_JOB)),
            memory_size=c.JOB_MEMORY_MB,
            retry_attempts=c.FAST_PATH_ASYNC_RETRIES,
            max_event_age=c.FAST_PATH_MAX_EVENT_AGE,
            failures=self.run_failures.queue,
            statements=shared,
            snap_start=settings.snap_start,  # the fast path meets cold starts; the sweeps keep theirs warm
        )
        self.group = scheduler.ScheduleGroup(self, 'ScheduleGroup', schedule_group_name=c.SCHEDULE_GROUP_NAME)
        self.schedules: dict[str, scheduler.Schedule] = {}

    def schedule(self, dispatcher: TastyguardFunction, settings: StackSettings) -> None:
        """Every scheduled job's ticks go to the dispatcher (the schedules keep their names and ids)."""
        for job in settings.scheduled_jobs:
            self.schedules[job] = self._schedule(job, dispatcher, settings)

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
            secrets.read_grants_statement(),
            secrets.share_tokens_statement(),
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

    def _schedule(self, job: str, target: TastyguardFunction, settings: StackSettings) -> scheduler.Schedule:
        period = settings.period_minutes(job)
        if period is None:
            fields = cadence.daily_cron(settings.digest_time, market_hours_only=settings.market_hours_only)
        else:
            fields = cadence.periodic_cron(
                period, market_hours_only=settings.market_hours_only, offset_minutes=c.JOB_OFFSET_MINUTES.get(job, 0)
            )
        return scheduler.Schedule(
            self,
            f'{pascal(job)}Schedule',
            schedule_name=function_name(job),
            schedule_group=self.group,
            description=f'tastyguard: dispatch a {job} tick (one account run per account)',
            schedule=scheduler.ScheduleExpression.cron(
                minute=fields.minute,
                hour=fields.hour,
                week_day=fields.week_day,
                time_zone=TimeZone.of(settings.timezone),
            ),
            # A protective job runs on the minute it is due: no flexible window.
            time_window=scheduler.TimeWindow.off(),
            target=scheduler_targets.LambdaInvoke(
                target.function,
                input=scheduler.ScheduleTargetInput.from_object(
                    {
                        'job': job,
                        'scheduled_time': scheduler.ContextAttribute.scheduled_time,
                        'schedule_arn': scheduler.ContextAttribute.schedule_arn,
                    }
                ),
                role=self._schedule_role(job, target),
                dead_letter_queue=self.tick_dead_letters.queue,
                retry_attempts=c.SCHEDULER_RETRIES,
                max_event_age=cadence.max_event_age(period),
            ),
        )

    def _schedule_role(self, job: str, function: TastyguardFunction) -> iam.Role:
        """One role per schedule: invoke the dispatcher, send to the tick dead-letter queue (added by the CDK).

        Scheduler sends dead letters as this role, so the role also gets the queue key (through SQS only).
        """
        stack = Stack.of(self)
        role = iam.Role(
            self,
            f'{pascal(job)}ScheduleRole',
            description=f'EventBridge Scheduler: dispatch tastyguard {job} ticks',
            assumed_by=iam.ServicePrincipal(
                'scheduler.amazonaws.com', conditions={'StringEquals': {'aws:SourceAccount': stack.account}}
            ),
        )
        self.tick_dead_letters.grant_send(role)
        logical_id = stack.get_logical_id(cast(CfnElement, function.function.node.default_child))
        nag.acknowledge(role, nag.scheduler_invoke_qualifiers(logical_id))
        return role


def pascal(name: str) -> str:
    """``ensure_stops`` -> ``EnsureStops`` (construct ids)."""
    return ''.join(part.capitalize() for part in name.split('_'))
