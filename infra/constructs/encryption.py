"""The customer-managed KMS key that encrypts tastyguard's tables, secrets, topic, queues and log groups."""

from __future__ import annotations

import jsii
from aws_cdk import ArnFormat, IAspect, IStableListProducer, Lazy, RemovalPolicy, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

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
            description='tastyguard: encrypts the state tables, the broker secrets, the notification topic, '
            'the dead-letter queues and the log groups',
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
        self._log_group_arns: list[str] = []

    def allow_log_group(self, log_group_name: str) -> None:
        """Let CloudWatch Logs use the key for this one log group (and no other: the encryption context names it).

        The ARN is built from the literal name, not the log group's attribute: the log group refers to the
        key, so a key policy that referred back to the log group would be a dependency cycle.
        """
        arn = Stack.of(self).format_arn(
            service='logs', resource='log-group', resource_name=log_group_name, arn_format=ArnFormat.COLON_RESOURCE_NAME
        )
        if arn in self._log_group_arns:
            return
        if not self._log_group_arns:
            # Added with the first log group, so the condition never renders as an empty list.
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid='AllowCloudWatchLogsForTheStacksLogGroups',
                    principals=[iam.ServicePrincipal(f'logs.{Stack.of(self).region}.amazonaws.com')],
                    actions=list(c.LOGS_KEY_ACTIONS),
                    resources=['*'],
                    conditions={'ArnEquals': {c.LOGS_ENCRYPTION_CONTEXT: Lazy.list(_Snapshot(self._log_group_arns))}},
                )
            )
        self._log_group_arns.append(arn)


@jsii.implements(IStableListProducer)
class _Snapshot:
    """The list as it is when the template is rendered (after every aspect has run)."""

    def __init__(self, values: list[str]) -> None:
        self._values = values

    def produce(self) -> list[str]:
        return list(self._values)


@jsii.implements(IAspect)
class EncryptLogGroups:
    """Every log group of the stack is encrypted with the stack key, which allows CloudWatch Logs exactly those.

    An aspect rather than a property of each construct, so a log group added later (the streamer's) cannot
    be left unencrypted: it is encrypted, or the synth stops and says why.
    """

    def __init__(self, encryption: Encryption) -> None:
        self._encryption = encryption

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, logs.CfnLogGroup) or node.kms_key_id is not None:
            return
        name = node.log_group_name
        if name is None or Token.is_unresolved(name):
            raise ValueError(
                f'{node.node.path}: a log group needs a fixed log_group_name (e.g. /aws/lambda/tastyguard-<name>), '
                'so that the stack key policy can allow CloudWatch Logs to encrypt exactly that log group'
            )
        node.kms_key_id = self._encryption.key.key_arn
        self._encryption.allow_log_group(name)
