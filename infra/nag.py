"""cdk-nag (v3) acknowledgements: every accepted finding, with the reason it is accepted, in one table.

Constructs acknowledge findings on the narrowest scope that causes them (one role, one secret), so an
acknowledgement never hides the same finding elsewhere in the stack. The checkov findings accepted by
design sit next door, in :mod:`infra.checkov_skips`, and are written into the template's own metadata.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


@dataclass(frozen=True, slots=True)
class Finding:
    """A cdk-nag rule id (granular where the rule reports one) and why tastyguard accepts it."""

    rule: str
    reason: str


XRAY_WILDCARD = Finding(
    rule='AwsSolutions-IAM5[Resource::*]',
    reason='Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level '
    'permissions, so AWS requires Resource "*" for them (nothing else in this policy uses a wildcard).',
)
BROKER_SECRET_ROTATION = Finding(
    rule='AwsSolutions-SMG4',
    reason='The OAuth client secret and refresh token are rotated at tastytrade (regenerate the grant, then '
    'put-secret-value); Secrets Manager cannot mint a tastytrade grant, so a rotation Lambda has nothing to do.',
)
TOKEN_SECRET_ROTATION = Finding(
    rule='AwsSolutions-SMG4',
    reason='This secret is the access-token cache: the jobs replace its value themselves every ~15 minutes '
    'when the token expires, which is a rotation far more frequent than any rotation schedule.',
)
SLACK_SECRET_ROTATION = Finding(
    rule='AwsSolutions-SMG4',
    reason='A Slack incoming-webhook URL is rotated in Slack (revoke and re-create the webhook, then '
    'put-secret-value); there is no API a rotation Lambda could call.',
)
RUNTIME_PINNED = Finding(
    rule='AwsSolutions-L1',
    reason='Pinned to python3.13 on purpose: the dependency layer is cross-built from cp313 ARM64 wheels and '
    'the project venv/CI interpreter is 3.13; moving runtimes is a deliberate, tested change of all three.',
)
DLQ_HAS_NO_DLQ = Finding(
    rule='AwsSolutions-SQS3',
    reason='This queue is itself a dead-letter queue (Lambda on-failure, Scheduler or EventBridge target DLQ); '
    'a dead-letter queue of a dead-letter queue would only hide messages. Its depth is alarmed instead.',
)

ECR_AUTHORIZATION_TOKEN = Finding(
    rule='AwsSolutions-IAM5[Resource::*]',
    reason='The streamer execution role: ecr:GetAuthorizationToken supports no resource-level permissions, so AWS '
    'requires Resource "*" for it; the image pulls themselves are granted on the one asset repository.',
)
ENVIRONMENT_NAMES_ONLY = Finding(
    rule='AwsSolutions-ECS2',
    reason='The streamer environment holds resource names, ARNs and settings only (a test fails on any variable '
    'named like a secret). The broker grant and the access token are read from Secrets Manager at run time, on '
    'purpose not injected as ECS secrets: a secret in a process environment leaks into crash dumps and child '
    'processes, and the token changes every 15 minutes, which a start-time injection cannot follow.',
)
CONTAINER_INSIGHTS_OFF = Finding(
    rule='AwsSolutions-ECS4',
    reason='Deployed with -c streamer.container_insights=false: its per-metric charge is the largest line of the '
    "streamer's bill. The streamer's own heartbeat alarm, ECS's free CPUUtilization/MemoryUtilization service "
    'metrics and the task health check stay.',
)


def scheduler_invoke_qualifiers(function_logical_id: str) -> Finding:
    """The Scheduler role's ``<function ARN>:*`` resource, added by the CDK's ``LambdaInvoke`` target."""
    return Finding(
        rule=f'AwsSolutions-IAM5[Resource::<{function_logical_id}.Arn>:*]',
        reason='The CDK grants lambda:InvokeFunction on the function ARN and on "<ARN>:*" (its versions and '
        'aliases) together; the wildcard covers qualifiers of this single function only.',
    )


ALL_FINDINGS = (
    XRAY_WILDCARD,
    BROKER_SECRET_ROTATION,
    TOKEN_SECRET_ROTATION,
    SLACK_SECRET_ROTATION,
    RUNTIME_PINNED,
    DLQ_HAS_NO_DLQ,
    ECR_AUTHORIZATION_TOKEN,
    ENVIRONMENT_NAMES_ONLY,
    CONTAINER_INSIGHTS_OFF,
)


def acknowledge(scope: IConstruct, *findings: Finding) -> None:
    """Accept ``findings`` on ``scope`` and its children only."""
    Validations.of(scope).acknowledge(*(Acknowledgment(id=finding.rule, reason=finding.reason) for finding in findings))
