"""checkov acknowledgements: every finding tastyguard accepts by design, with the reason, in one table.

checkov reads skips from a resource's own template metadata::

    "Metadata": {"checkov": {"skip": [{"id": "CKV_AWS_117", "comment": "why"}]}}

:class:`CheckovSkips` (an aspect on the stack) writes them there, only on the resources each reason is true
for, so the synthesized template carries its own explanations to any scanner run on it. The cdk-nag
acknowledgements live next door in :mod:`infra.nag`; ``tests/infra/test_checkov.py`` runs checkov on the
template and fails on any finding not listed here, and on any entry here that no longer skips anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import jsii
from aws_cdk import CfnResource, IAspect
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_lambda as lambda_
from constructs import IConstruct

from infra import constants as c

LAMBDA_FUNCTION = 'AWS::Lambda::Function'
ECS_CLUSTER = 'AWS::ECS::Cluster'
METADATA_KEY = 'checkov'


def _always(_resource: CfnResource) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Skip:
    """A checkov check id, the resource type it is skipped on, why, and which resources of that type."""

    check: str
    resource_type: str
    comment: str
    applies: Callable[[CfnResource], bool] = _always

    def entry(self) -> dict[str, str]:
        """The metadata entry checkov reads."""
        return {'id': self.check, 'comment': self.comment}


def has_on_failure_destination(resource: CfnResource) -> bool:
    """The function's asynchronous invocations have an on-failure destination (EventInvokeConfig)."""
    config = resource.node.scope.node.try_find_child('EventInvokeConfig') if resource.node.scope else None
    invoke_config = config.node.default_child if config is not None else None
    if not isinstance(invoke_config, lambda_.CfnEventInvokeConfig):
        return False
    destinations = invoke_config.destination_config
    on_failure = getattr(destinations, 'on_failure', None)
    return getattr(on_failure, 'destination', None) is not None


def is_notifier(resource: CfnResource) -> bool:
    """The Slack notifier, without reserved concurrency."""
    function = cast(lambda_.CfnFunction, resource)
    notifier_name = c.FUNCTION_NAME_TEMPLATE.format(name=c.NOTIFIER.replace('_', '-'))
    return function.function_name == notifier_name and function.reserved_concurrent_executions is None


def is_capped_elsewhere(resource: CfnResource) -> bool:
    """A function whose concurrency something else bounds: the queue workers, the dispatcher, the fast path."""
    function = cast(lambda_.CfnFunction, resource)
    names = {
        c.FUNCTION_NAME_TEMPLATE.format(name=name.replace('_', '-'))
        for name in (*c.JOBS, c.DISPATCHER, c.FAST_PATH)
        if name != c.EVENT_JOB
    }
    return function.function_name in names and function.reserved_concurrent_executions is None


def has_no_reserved_concurrency(resource: CfnResource) -> bool:
    """Any function without reserved concurrency."""
    return cast(lambda_.CfnFunction, resource).reserved_concurrent_executions is None


def has_container_insights_off(resource: CfnResource) -> bool:
    """An ECS cluster deployed with ``-c streamer.container_insights=false``."""
    settings = cast(ecs.CfnCluster, resource).cluster_settings
    entries = settings if isinstance(settings, list) else []
    return any(getattr(entry, 'name', None) == 'containerInsights' and entry.value == 'disabled' for entry in entries)


ASYNC_FAILURES_HAVE_A_DESTINATION = Skip(
    check='CKV_AWS_116',
    resource_type=LAMBDA_FUNCTION,
    comment='Asynchronous invocations that still fail after their retries, or expire, go to an SQS on-failure '
    'destination (EventInvokeConfig), which keeps the event together with the error and is alarmed. A '
    'DeadLetterConfig would keep the event only, and both together would split one failure stream in two.',
    applies=has_on_failure_destination,
)
NO_VPC_BY_DESIGN = Skip(
    check='CKV_AWS_117',
    resource_type=LAMBDA_FUNCTION,
    comment='No VPC by design: the functions reach only the tastytrade API on the internet and AWS service '
    'endpoints, and nothing they use lives in a network. Inside a VPC they would need a NAT gateway (about 32 '
    'USD a month per zone, several times the rest of the stack) or interface endpoints for six services, and '
    'would gain no isolation: every resource they touch is an AWS service guarded by IAM and key policies.',
)
ENVIRONMENT_HOLDS_NO_SECRET = Skip(
    check='CKV_AWS_173',
    resource_type=LAMBDA_FUNCTION,
    comment='The environment holds resource names, ARNs and log settings only, never a secret: the broker grant, '
    'the access token and the Slack webhook live in Secrets Manager (encrypted with the stack key) and a test '
    'fails on any variable named like a secret. Lambda encrypts the environment at rest with its AWS managed '
    'key; the stack key would add a decrypt grant to every function and protect nothing secret.',
)
NOTIFIER_CONCURRENCY_UNRESERVED = Skip(
    check='CKV_AWS_115',
    resource_type=LAMBDA_FUNCTION,
    comment='The notifier posts each SNS message to Slack once and holds no lease or state a parallel run could '
    'break. A reservation would throttle a burst of alerts (a first run protecting hundreds of positions), and '
    'Lambda retries throttled asynchronous events with growing back-off, so news of unprotected positions '
    'would arrive minutes late; it would also take from the unreserved pool (10 on new accounts).',
    applies=is_notifier,
)
CONCURRENCY_CAPPED_ELSEWHERE = Skip(
    check='CKV_AWS_115',
    resource_type=LAMBDA_FUNCTION,
    comment="Bounded by design, not by a reservation: the queue workers by their event source's maximum "
    'concurrency (scale.concurrency), the dispatcher by its one Scheduler tick per period, the fill fast path '
    "by the streamer's fills (it must never wait behind a reservation the sweeps hold). One writer per account "
    'at a time still holds: the DynamoDB lease admits one, and the shared rate budget caps the calls.',
    applies=is_capped_elsewhere,
)
RESERVED_CONCURRENCY_TURNED_OFF = Skip(
    check='CKV_AWS_115',
    resource_type=LAMBDA_FUNCTION,
    comment='Deployed with -c reserved_concurrency=false, for an account whose Lambda concurrency quota (10 on '
    'new accounts) cannot spare reservations. One run per account at a time still holds: the DynamoDB lease '
    'admits one writer per account.',
    applies=has_no_reserved_concurrency,
)

CONTAINER_INSIGHTS_TURNED_OFF = Skip(
    check='CKV_AWS_65',
    resource_type=ECS_CLUSTER,
    comment='Deployed with -c streamer.container_insights=false: Container Insights bills about 30 custom metrics '
    "for this one-task cluster, the largest line of the streamer's cost. The streamer's heartbeat alarm, ECS's "
    'free CPUUtilization and MemoryUtilization service metrics and the container health check stay.',
    applies=has_container_insights_off,
)

ALL_SKIPS = (
    ASYNC_FAILURES_HAVE_A_DESTINATION,
    NO_VPC_BY_DESIGN,
    ENVIRONMENT_HOLDS_NO_SECRET,
    NOTIFIER_CONCURRENCY_UNRESERVED,
    CONCURRENCY_CAPPED_ELSEWHERE,
    RESERVED_CONCURRENCY_TURNED_OFF,
    CONTAINER_INSIGHTS_TURNED_OFF,
)


def skips(*, reserved_concurrency: bool) -> tuple[Skip, ...]:
    """The skips of a stack; the jobs go without reserved concurrency only when the deploy says so."""
    if reserved_concurrency:
        return tuple(skip for skip in ALL_SKIPS if skip is not RESERVED_CONCURRENCY_TURNED_OFF)
    return ALL_SKIPS


@jsii.implements(IAspect)
class CheckovSkips:
    """Writes each resource's checkov skips into its template metadata (one entry per check id)."""

    def __init__(self, table: tuple[Skip, ...]) -> None:
        self._table = table

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, CfnResource):
            return
        entries: dict[str, dict[str, str]] = {}
        for skip in self._table:
            if skip.resource_type == node.cfn_resource_type and skip.check not in entries and skip.applies(node):
                entries[skip.check] = skip.entry()
        if not entries:
            return
        existing: dict[str, Any] = node.get_metadata(METADATA_KEY) or {}
        listed = {entry['id'] for entry in existing.get('skip', [])}
        merged = [*existing.get('skip', []), *(entry for check, entry in entries.items() if check not in listed)]
        node.add_metadata(METADATA_KEY, {**existing, 'skip': merged})
