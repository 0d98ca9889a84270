"""The customer-managed KMS key that encrypts tastyguard's tables, secrets and notification topic."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from infra import constants as c


class Encryption(Construct):
    """One key (rotated yearly) for the whole stack: one bill line (~1 USD/month), one policy to read."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # RETAIN: the state table is retained on `cdk destroy`, and a table whose key is gone is unreadable.
        self.key = kms.Key(
            self,
            'Key',
            alias=c.KEY_ALIAS,
            description='tastyguard: encrypts the state tables, the broker secrets and the notification topic',
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # CloudWatch alarms publish to the encrypted topic as the CloudWatch service, not as an IAM role.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid='AllowCloudWatchAlarmsToUseTheTopicKey',
                principals=[iam.ServicePrincipal('cloudwatch.amazonaws.com')],
                actions=['kms:Decrypt', 'kms:GenerateDataKey*'],
                resources=['*'],
            )
        )
