"""Dead-letter queues: where a tick, an event or a notification goes when it could not be processed."""

from __future__ import annotations

from typing import cast

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants as c
from infra import nag


class DeadLetterQueue(Construct):
    """An SSL-only queue encrypted with the stack key that keeps failures for 14 days; its depth is alarmed.

    Dead letters carry the failed event and the error: account numbers, symbols, sometimes a notification's
    text about a position. So they are encrypted with the stack key like the tables, and every sender gets
    exactly what SQS needs from it: ``kms:GenerateDataKey`` and ``kms:Decrypt``, through SQS only
    (:meth:`grant_send` for roles, :meth:`allow_service` for AWS services that send as themselves).

    The key is set on the CloudFormation queue rather than given to the CDK queue on purpose: given the key,
    the CDK would add ``kms:Encrypt``, ``kms:ReEncrypt*`` and ``kms:GenerateDataKey*`` to every role it lets
    send (Lambda destinations), on the whole key and through any service.
    """

    def __init__(self, scope: Construct, construct_id: str, *, purpose: str, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.purpose = purpose
        self.key = key
        self.slug = ''.join(f'-{ch.lower()}' if ch.isupper() else ch for ch in construct_id).lstrip('-')
        self.queue = sqs.Queue(
            self,
            'Queue',
            enforce_ssl=True,
            retention_period=c.DLQ_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        queue = cast(sqs.CfnQueue, self.queue.node.default_child)
        queue.sqs_managed_sse_enabled = None
        queue.kms_master_key_id = key.key_arn
        nag.acknowledge(self.queue, nag.DLQ_HAS_NO_DLQ)

    def grant_send(self, grantee: iam.IGrantable) -> None:
        """The key half of sending for a role (Lambda destinations, Scheduler); ``sqs:SendMessage`` comes with the
        destination or target that the CDK wires."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                sid='EncryptDeadLetters',
                actions=list(c.QUEUE_SENDER_KEY_ACTIONS),
                resources=[self.key.key_arn],
                conditions={'StringEquals': {'kms:ViaService': f'sqs.{Stack.of(self).region}.amazonaws.com'}},
            )
        )

    def allow_service(self, service: str, source_arn: str) -> None:
        """Let an AWS service that sends as itself (SNS, EventBridge) use the key, for ``source_arn`` only.

        ``source_arn`` must be built from a fixed name (``Stack.format_arn``): the topic or rule it names
        depends on the key, so referring to its attribute here would be a dependency cycle.
        """
        label = service.split('.', maxsplit=1)[0].capitalize()
        added = self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f'{label}SendsTo{self.node.id}',
                principals=[iam.ServicePrincipal(service)],
                actions=list(c.QUEUE_SENDER_KEY_ACTIONS),
                resources=['*'],
                conditions={'ArnEquals': {'aws:SourceArn': source_arn}},
            )
        )
        if not added.statement_added:
            raise ValueError(f'{self.node.path}: the queue key has no policy of its own, so {service} cannot be let in')
