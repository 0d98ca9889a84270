"""Dead-letter queues: where a tick, an event or a notification goes when it could not be processed."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants as c
from infra import nag


class DeadLetterQueue(Construct):
    """An SSL-only queue that keeps failures for 14 days; its depth is alarmed (monitoring.py).

    Encryption is SQS-managed (SSE-SQS) rather than the stack's KMS key on purpose: dead letters hold
    routing data only (job name, schedule ARN, account and symbol), and every AWS service that delivers
    dead letters (Lambda, Scheduler, EventBridge) can write to an SSE-SQS queue without key-policy grants
    that, if ever wrong, would silently drop the very failures this queue exists to keep.
    """

    def __init__(self, scope: Construct, construct_id: str, *, purpose: str) -> None:
        super().__init__(scope, construct_id)
        self.purpose = purpose
        self.slug = ''.join(f'-{ch.lower()}' if ch.isupper() else ch for ch in construct_id).lstrip('-')
        self.queue = sqs.Queue(
            self,
            'Queue',
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=c.DLQ_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        nag.acknowledge(self.queue, nag.DLQ_HAS_NO_DLQ)
