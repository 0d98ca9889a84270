"""The notification topic (email subscriptions) and the Slack notifier Lambda subscribed to it."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra import constants as c
from infra.constructs.dead_letters import DeadLetterQueue
from infra.constructs.function import TastyguardFunction
from infra.constructs.packaging import LambdaPackaging
from infra.settings import StackSettings


class Notifications(Construct):
    """Jobs and alarms publish to one KMS-encrypted, SSL-only topic; email and Slack subscribe to it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        settings: StackSettings,
        packaging: LambdaPackaging,
        slack_secret: secretsmanager.ISecret | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(
            self,
            'Topic',
            topic_name=c.TOPIC_NAME,
            display_name=c.TOPIC_DISPLAY_NAME,
            master_key=key,
            enforce_ssl=True,
        )
        # The topic policy replaces SNS's default one, so CloudWatch alarms are allowed to publish explicitly.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid='AllowCloudWatchAlarmsOfThisAccount',
                principals=[iam.ServicePrincipal('cloudwatch.amazonaws.com')],
                actions=['sns:Publish'],
                resources=[self.topic.topic_arn],
                conditions={'StringEquals': {'aws:SourceAccount': Stack.of(self).account}},
            )
        )
        # Each address receives a confirmation email from AWS and gets messages only once it is confirmed.
        for address in settings.emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(address))
        self.notifier: TastyguardFunction | None = None
        self.notifier_failures: DeadLetterQueue | None = None
        if slack_secret is not None:
            self.notifier_failures = DeadLetterQueue(
                self, 'NotifierFailures', purpose='notifications not posted to Slack', key=key
            )
            self.notifier = self._slack_notifier(
                packaging, slack_secret, settings.slack_secret_name, key, self.notifier_failures
            )
            # Messages SNS cannot hand to the notifier, and posts that fail after retries, share one queue:
            # SNS sends as itself (for this topic only), the notifier's failures go as its role.
            self.topic.add_subscription(
                subscriptions.LambdaSubscription(self.notifier.function, dead_letter_queue=self.notifier_failures.queue)
            )
            topic_arn = Stack.of(self).format_arn(
                service='sns', resource=c.TOPIC_NAME, arn_format=ArnFormat.NO_RESOURCE_NAME
            )
            self.notifier_failures.allow_service('sns.amazonaws.com', topic_arn)
            self.notifier_failures.grant_send(self.notifier.role)

    def _slack_notifier(
        self,
        packaging: LambdaPackaging,
        secret: secretsmanager.ISecret,
        secret_name: str,
        key: kms.IKey,
        failures: DeadLetterQueue,
    ) -> TastyguardFunction:
        region = Stack.of(self).region
        return TastyguardFunction(
            self,
            'SlackNotifier',
            name=c.NOTIFIER,
            description='tastyguard: posts every notification to Slack (Block Kit)',
            packaging=packaging,
            environment={c.ENV_SLACK_SECRET: secret_name, **c.POWERTOOLS_ENV},
            timeout=c.NOTIFIER_TIMEOUT,
            memory_size=c.NOTIFIER_MEMORY_MB,
            retry_attempts=c.NOTIFIER_ASYNC_RETRIES,
            max_event_age=c.NOTIFIER_MAX_EVENT_AGE,
            failures=failures.queue,
            statements=[
                iam.PolicyStatement(
                    sid='ReadSlackWebhook', actions=['secretsmanager:GetSecretValue'], resources=[secret.secret_arn]
                ),
                iam.PolicyStatement(
                    sid='DecryptSlackWebhook',
                    actions=['kms:Decrypt'],
                    resources=[key.key_arn],
                    conditions={'StringEquals': {'kms:ViaService': f'secretsmanager.{region}.amazonaws.com'}},
                ),
            ],
        )
