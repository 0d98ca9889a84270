"""``streamer.hours=market``: two EventBridge Scheduler schedules scale the streamer service between 1 and 0.

08:45 New York time sets the desired count to 1 (both sockets up and caught up before the jobs' first tick
and the 09:30 open), 17:00 sets it to 0, Monday to Friday. The target is Scheduler's universal target for
``ecs:UpdateService``; the schedules' role may call only that, on this one service, and send undeliverable
calls to the tick dead-letter queue (alarmed).
"""

from __future__ import annotations

from aws_cdk import Stack, TimeZone
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from constructs import Construct

from infra import constants as c
from infra.constructs.dead_letters import DeadLetterQueue

# (name, hour, minute, desired count), New York time
WINDOW = (
    ('start', c.STREAMER_START_HOUR, c.STREAMER_START_MINUTE, 1),
    ('stop', c.STREAMER_STOP_HOUR, c.STREAMER_STOP_MINUTE, 0),
)


class StreamerMarketHours(Construct):
    """The start and stop schedules and their least-privilege role."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service: ecs.FargateService,
        group: scheduler.IScheduleGroup,
        dead_letters: DeadLetterQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.role = iam.Role(
            self,
            'ScheduleRole',
            description='EventBridge Scheduler: start and stop the tastyguard streamer',
            assumed_by=iam.ServicePrincipal(
                'scheduler.amazonaws.com', conditions={'StringEquals': {'aws:SourceAccount': stack.account}}
            ),
        )
        dead_letters.grant_send(self.role)
        scale = iam.PolicyStatement(
            sid='ScaleTheStreamer', actions=['ecs:UpdateService'], resources=[service.service_arn]
        )
        self.schedules: list[scheduler.Schedule] = []
        for name, hour, minute, count in WINDOW:
            schedule = scheduler.Schedule(
                self,
                f'{name.capitalize()}Schedule',
                schedule_name=f'{c.STREAMER_SERVICE_NAME}-{name}',
                schedule_group=group,
                description=f'tastyguard: {name} the streamer (desired count {count})',
                schedule=scheduler.ScheduleExpression.cron(
                    minute=str(minute),
                    hour=str(hour),
                    week_day=c.MARKET_DAYS,
                    time_zone=TimeZone.of(c.STREAMER_TIMEZONE),
                ),
                time_window=scheduler.TimeWindow.off(),
                target=scheduler_targets.Universal(
                    service='ecs',
                    action='updateService',
                    input=scheduler.ScheduleTargetInput.from_object(
                        {'Cluster': c.STREAMER_CLUSTER_NAME, 'Service': c.STREAMER_SERVICE_NAME, 'DesiredCount': count}
                    ),
                    policy_statements=[scale],
                    role=self.role,
                    dead_letter_queue=dead_letters.queue,
                    retry_attempts=c.SCHEDULER_RETRIES,
                    max_event_age=c.STREAMER_SCHEDULE_MAX_EVENT_AGE,
                ),
            )
            # The group and the service are named, not referred to (GroupName and the input are literals), so
            # CloudFormation would not otherwise wait for them.
            schedule.node.add_dependency(group, service)
            self.schedules.append(schedule)
