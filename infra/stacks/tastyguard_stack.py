"""The tastyguard stack: tags, one construct per capability, stack-wide aspects, the cdk-nag gate. No resources."""

from __future__ import annotations

from typing import Any

from aws_cdk import AspectPriority, Aspects, CfnOutput, Stack, Tags, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from infra import checkov_skips
from infra import constants as c
from infra.checkov_skips import CheckovSkips
from infra.constructs.encryption import Encryption, EncryptLogGroups
from infra.constructs.events import Events
from infra.constructs.fanout import Fanout
from infra.constructs.jobs import Jobs
from infra.constructs.monitoring import Monitoring
from infra.constructs.notifications import Notifications
from infra.constructs.packaging import LambdaPackaging
from infra.constructs.secrets import Secrets
from infra.constructs.storage import Storage
from infra.constructs.streamer import Streamer
from infra.settings import StackSettings


class TastyguardStack(Stack):
    """Everything tastyguard runs in one AWS account and region."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: StackSettings, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description=c.STACK_DESCRIPTION, **kwargs)
        Tags.of(self).add('service', c.SERVICE)
        Tags.of(self).add('tastyguard:environment', settings.environment)

        encryption = Encryption(self, 'Encryption')
        key = encryption.key
        storage = Storage(self, 'Storage', key=key)
        secrets = Secrets(self, 'Secrets', key=key, settings=settings)
        packaging = LambdaPackaging(self, 'Packaging', config_json=settings.config_json)
        notifications = Notifications(
            self, 'Notifications', key=key, settings=settings, packaging=packaging, slack_secret=secrets.slack_secret
        )
        events = Events(self, 'Events', key=key)
        jobs = Jobs(
            self,
            'Jobs',
            settings=settings,
            packaging=packaging,
            storage=storage,
            secrets=secrets,
            topic=notifications.topic,
            bus=events.bus,
            key=key,
        )
        fanout = Fanout(
            self,
            'Fanout',
            settings=settings,
            packaging=packaging,
            jobs=jobs,
            storage=storage,
            secrets=secrets,
            topic=notifications.topic,
            key=key,
        )
        jobs.schedule(fanout.dispatcher, settings)
        events.trigger(jobs.fast_path.invocable)  # the SnapStart alias when that is on
        # The Fargate streamer (account streamer + DXLink); -c streamer.enabled=false leaves it out.
        streamer: Streamer | None = None
        if settings.streamer.enabled:
            streamer = Streamer(
                self,
                'Streamer',
                settings=settings.streamer,
                config_json=settings.config_json,
                storage=storage,
                secrets=secrets,
                topic=notifications.topic,
                bus=events.bus,
                key=key,
                schedule_group=jobs.group,
                schedule_dead_letters=jobs.tick_dead_letters,
            )
        dead_letters = [jobs.run_failures, jobs.tick_dead_letters, events.dead_letters, fanout.dead_letters]
        if notifications.notifier_failures is not None:
            dead_letters.append(notifications.notifier_failures)
        Monitoring(
            self,
            'Monitoring',
            topic=notifications.topic,
            jobs=jobs.functions,
            notifier=notifications.notifier,
            dead_letters=dead_letters,
            ensure_stops_minutes=settings.ensure_stops_minutes,
            extra_functions=[fanout.dispatcher, jobs.fast_path],
            work_queues={job: fanout.queues[job] for job in settings.scheduled_jobs},
            periods=fanout.periods,
            streamer=streamer is not None,
        )

        self._output('TopicArn', notifications.topic.topic_arn, 'SNS topic: subscribe more addresses here')
        self._output('BrokerSecretName', c.BROKER_SECRET_NAME, 'put the tastytrade grant here')
        self._output('KillSwitchParameter', c.KILL_SWITCH_PARAMETER, 'set {"engaged": true} to stop order writes')
        self._output('EventBusName', events.bus.event_bus_name, 'the streamer publishes fills here')
        if streamer is not None:
            self._output('StreamerCluster', streamer.cluster.cluster_name, 'the ECS cluster of the streamer')
            self._output('StreamerService', streamer.service.service_name, 'the streamer service (docs/operations.md)')

        # Stack-wide rules: every log group is encrypted with the stack key, and every checkov finding the
        # stack accepts is written into the resource's own metadata with its reason (infra/checkov_skips.py).
        Aspects.of(self).add(EncryptLogGroups(encryption), priority=AspectPriority.MUTATING)
        Aspects.of(self).add(CheckovSkips(checkov_skips.skips(reserved_concurrency=settings.reserved_concurrency)))

        # cdk-nag v3: every synth (and every infra test) fails on an unacknowledged AwsSolutions finding.
        # The acknowledgements live on the constructs that cause them (infra/nag.py lists them with reasons).
        Validations.of(self).add_plugins(AwsSolutionsChecks(self, verbose=True))

    def _output(self, name: str, value: str, description: str) -> None:
        CfnOutput(self, name, value=value, description=description).override_logical_id(name)
