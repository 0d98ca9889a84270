"""One tastyguard Lambda: its own role, its own log group, ARM64 python3.13, the two layers, traced."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Annotations, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants as c
from infra import nag
from infra.constructs.packaging import ARCHITECTURE, RUNTIME, LambdaPackaging


def function_name(name: str) -> str:
    """``ensure_stops`` -> ``tastyguard-ensure-stops``."""
    return c.FUNCTION_NAME_TEMPLATE.format(name=name.replace('_', '-'))


class TastyguardFunction(Construct):
    """A function whose role holds exactly the statements its construct grants it (plus logs and X-Ray).

    Asynchronous invocations (Scheduler, EventBridge, SNS) that still fail after ``retry_attempts`` or that
    wait longer than ``max_event_age`` land in ``failures`` (the Lambda on-failure destination).

    With ``snap_start`` the function publishes a version on every change with SnapStart applied to it, and
    :attr:`invocable` is the alias ``live`` of that version (SnapStart never applies to ``$LATEST``). The
    alias carries the same retry, event-age and on-failure settings (they are per qualifier in Lambda), and
    replaced versions are deleted, since each published version's snapshot is billed while it exists.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        description: str,
        packaging: LambdaPackaging,
        environment: Mapping[str, str],
        timeout: Duration,
        memory_size: int,
        retry_attempts: int,
        max_event_age: Duration,
        failures: sqs.IQueue,
        reserved_concurrency: int | None = None,
        statements: Sequence[iam.PolicyStatement] = (),
        snap_start: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self.name = name
        self.function_name = function_name(name)
        self.log_group = logs.LogGroup(
            self,
            'Logs',
            log_group_name=f'/aws/lambda/{self.function_name}',
            retention=c.LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            'Role',
            assumed_by=iam.ServicePrincipal('lambda.amazonaws.com'),
            description=f'tastyguard {name}: least privilege for this function only',
        )
        self.log_group.grant_write(self.role)
        for statement in statements:
            self.role.add_to_policy(statement)
        self.function = lambda_.Function(
            self,
            'Function',
            function_name=self.function_name,
            description=description,
            code=packaging.code,
            handler=c.HANDLER_TEMPLATE.format(name=name),
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            layers=packaging.layers,
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.INFO,
            tracing=lambda_.Tracing.ACTIVE,
            timeout=timeout,
            memory_size=memory_size,
            environment=dict(environment),
            reserved_concurrent_executions=reserved_concurrency,
            retry_attempts=retry_attempts,
            max_event_age=max_event_age,
            on_failure=destinations.SqsDestination(failures),
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if snap_start else None,
            current_version_options=lambda_.VersionOptions(removal_policy=RemovalPolicy.DESTROY),
        )
        self.invocable: lambda_.IFunction = self.function
        if snap_start:
            self.invocable = lambda_.Alias(
                self,
                'Live',
                alias_name=c.SNAP_START_ALIAS,
                version=self.function.current_version,
                description='the latest published version: SnapStart restores it from its snapshot',
                retry_attempts=retry_attempts,
                max_event_age=max_event_age,
                on_failure=destinations.SqsDestination(failures),
            )
            # The CDK warns at construction that SnapStart needs a published version: this is that version.
            Annotations.of(self.function).acknowledge_warning(
                '@aws-cdk/aws-lambda:snapStartRequirePublish', 'published as current_version, invoked via the alias'
            )
        nag.acknowledge(self.role, nag.XRAY_WILDCARD)
        nag.acknowledge(self.function, nag.RUNTIME_PINNED)

    def grant(self, *statements: iam.PolicyStatement) -> None:
        """Add statements to this function's role."""
        for statement in statements:
            self.role.add_to_policy(statement)
