"""Fan-out: the dispatcher, one work queue per job, and the event source that feeds each job's function.

Scheduler → dispatcher (one message per account and tick, delayed to the grant's budget pace) → the job's
standard SQS queue → the job's function, one message per invocation, at most ``scale.concurrency`` at a
time (the event source's maximum concurrency), failed messages back to the queue (partial batch response)
and after ``WORK_MAX_RECEIVES`` deliveries into the account-run dead-letter queue. See docs/decisions.md
for why SQS and not Step Functions.
"""

from __future__ import annotations

from typing import cast

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import cadence
from infra import constants as c
from infra.constructs.dead_letters import DeadLetterQueue
from infra.constructs.function import TastyguardFunction
from infra.constructs.jobs import Jobs, pascal
from infra.constructs.packaging import LambdaPackaging
from infra.constructs.secrets import Secrets
from infra.constructs.storage import Storage
from infra.settings import StackSettings


class Fanout(Construct):
    """The dispatcher, the work queues and their event sources."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: StackSettings,
        packaging: LambdaPackaging,
        jobs: Jobs,
        storage: Storage,
        secrets: Secrets,
        topic: sns.ITopic,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = DeadLetterQueue(
            self, 'AccountRunDeadLetters', purpose=f'account runs that failed {c.WORK_MAX_RECEIVES} deliveries', key=key
        )
        self.key = key
        self.queues: dict[str, sqs.Queue] = {}
        self.periods: dict[str, int | None] = {}
        for job, function in jobs.functions.items():
            self.queues[job] = self._work_queue(job, function, settings)
            self.periods[job] = settings.period_minutes(job)
        periods = [settings.period_minutes(job) for job in settings.scheduled_jobs]
        shortest = min((p for p in periods if p is not None), default=None)
        region = Stack.of(self).region
        self.dispatcher = TastyguardFunction(
            self,
            'Dispatcher',
            name=c.DISPATCHER,
            description='tastyguard dispatcher: a scheduled tick becomes one work message per account',
            packaging=packaging,
            environment={
                **jobs.environment,
                **{f'{c.ENV_QUEUE_PREFIX}{job.upper()}': queue.queue_url for job, queue in self.queues.items()},
            },
            timeout=c.DISPATCHER_TIMEOUT,
            memory_size=c.DISPATCHER_MEMORY_MB,
            retry_attempts=c.DISPATCHER_ASYNC_RETRIES,
            max_event_age=cadence.max_event_age(shortest),
            failures=jobs.run_failures.queue,
            statements=[
                iam.PolicyStatement(
                    sid='StateTable', actions=list(c.STATE_TABLE_ACTIONS), resources=[storage.state_table.table_arn]
                ),
                iam.PolicyStatement(
                    sid='IdempotencyTable',
                    actions=list(c.IDEMPOTENCY_TABLE_ACTIONS),
                    resources=[storage.idempotency_table.table_arn],
                ),
                secrets.read_grants_statement(),  # account discovery (GET /customers/me/accounts)
                secrets.share_tokens_statement(),
                iam.PolicyStatement(sid='Notify', actions=['sns:Publish'], resources=[topic.topic_arn]),
                iam.PolicyStatement(
                    sid='SendWork',
                    actions=['sqs:SendMessage'],
                    resources=[queue.queue_arn for queue in self.queues.values()],
                ),
                iam.PolicyStatement(
                    sid='UseStackKey',
                    actions=list(c.KEY_ACTIONS),
                    resources=[key.key_arn],
                    conditions={
                        'StringEquals': {
                            'kms:ViaService': [f'{svc}.{region}.amazonaws.com' for svc in c.KEY_CONSUMER_SERVICES]
                        }
                    },
                ),
            ],
        )

    def _work_queue(self, job: str, function: TastyguardFunction, settings: StackSettings) -> sqs.Queue:
        timeout = function.function.timeout or Duration.seconds(60)
        queue = sqs.Queue(
            self,
            f'{pascal(job)}Work',
            enforce_ssl=True,
            retention_period=c.WORK_RETENTION,
            visibility_timeout=Duration.seconds(c.WORK_VISIBILITY_FACTOR * int(timeout.to_seconds())),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letters.queue, max_receive_count=c.WORK_MAX_RECEIVES),
            removal_policy=RemovalPolicy.DESTROY,
        )
        # The stack key on the CloudFormation queue itself (like the dead-letter queues): the CDK's own grant would
        # give every sender and consumer the whole key; the roles get exactly what they need, through SQS only.
        cast(sqs.CfnQueue, queue.node.default_child).kms_master_key_id = self.key.key_arn
        lambda_.EventSourceMapping(
            self,
            f'{pascal(job)}WorkSource',
            target=function.function,
            event_source_arn=queue.queue_arn,
            batch_size=c.WORK_BATCH_SIZE,
            max_concurrency=settings.concurrency,
            report_batch_item_failures=True,
        )
        function.grant(
            iam.PolicyStatement(
                sid='ConsumeWork',
                actions=[
                    'sqs:ReceiveMessage',
                    'sqs:DeleteMessage',
                    'sqs:ChangeMessageVisibility',
                    'sqs:GetQueueAttributes',
                ],
                resources=[queue.queue_arn],
            )
        )
        return queue
