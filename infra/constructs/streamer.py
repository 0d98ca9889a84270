"""The Fargate streamer: one ARM64 task holding tastytrade's account streamer and dxFeed's DXLink socket.

Shape (docs/infrastructure.md, "The streamer"; the reasons are in docs/decisions.md):

* **Network** (:mod:`infra.constructs.streamer_network`): public subnets only, no NAT gateway, a public IPv4
  address for the task, a security group with no inbound rule and TCP 443 out, VPC flow logs.
* **Singleton.** Desired count 1 and a deployment that stops the old task before starting the new one
  (minimum healthy 0 %, maximum 100 %), so two streamers never run at once because of a deploy; the
  streamer's DynamoDB lease with a fencing token covers everything else. Circuit breaker with rollback.
* **Task.** ARM64, read-only root filesystem with a ``/tmp`` task volume, non-root user, all Linux
  capabilities dropped, an init process, the health check ``python -m streamer.healthcheck``, awslogs in
  non-blocking mode to an explicit encrypted log group, 30 s to stop after SIGTERM. The image is built at
  deploy time from a context staged at synth (:mod:`infra.streamer_context`).
* **Roles.** The task role holds what the streamer's code calls (the same statements as the jobs, on the
  same resources); the execution role only pulls the image and writes the log stream. No secret is
  injected: the code reads the grant and the token cache from Secrets Manager at run time.
* **Settings** (:class:`infra.settings.StreamerSettings`): on-demand or Spot capacity, always or market
  hours (:mod:`infra.constructs.streamer_schedule`), CPU and memory, Container Insights.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from aws_cdk import Aws, IgnoreMode, RemovalPolicy, Size, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra import constants as c
from infra import nag, streamer_context
from infra.constructs.dead_letters import DeadLetterQueue
from infra.constructs.secrets import Secrets
from infra.constructs.storage import Storage
from infra.constructs.streamer_network import StreamerNetwork
from infra.constructs.streamer_schedule import StreamerMarketHours
from infra.settings import StreamerCapacity, StreamerHours, StreamerSettings

DISABLE_ASSET_STAGING = 'aws:cdk:disable-asset-staging'
# KMS via these services only: the state table, the two secrets, the topic (the bus is not encrypted).
STREAMER_KEY_SERVICES = ('dynamodb', 'secretsmanager', 'sns')


class Streamer(Construct):
    """The VPC, the cluster, the task definition, the service and, for market hours, its two schedules."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: StreamerSettings,
        config_json: str,
        storage: Storage,
        secrets: Secrets,
        topic: sns.ITopic,
        bus: events.IEventBus,
        key: kms.IKey,
        schedule_group: scheduler.IScheduleGroup,
        schedule_dead_letters: DeadLetterQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        self.settings = settings
        self.network = StreamerNetwork(self, 'Network')
        self.cluster = self._cluster()
        self.log_group = logs.LogGroup(
            self,
            'Logs',
            log_group_name=c.STREAMER_LOG_GROUP,
            retention=c.LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.environment = {
            c.ENV_STATE_TABLE: storage.state_table.table_name,
            c.ENV_BROKER_SECRET: c.BROKER_SECRET_NAME,
            c.ENV_TOKEN_SECRET: c.TOKEN_SECRET_NAME,
            c.ENV_EVENT_BUS: bus.event_bus_name,
            c.ENV_TOPIC_ARN: topic.topic_arn,
            c.ENV_KILL_SWITCH_PARAM: secrets.kill_switch.parameter_name,
            c.ENV_CONFIG_FILE: c.CONFIG_FILE_IN_FUNCTION,
            c.ENV_STREAMER_HEALTH_FILE: c.STREAMER_HEALTH_FILE,
            c.ENV_STREAMER_HEALTH_MAX_AGE: str(c.STREAMER_HEALTH_MAX_AGE_SECONDS),
            c.ENV_AWS_REGION: Aws.REGION,
            **c.POWERTOOLS_ENV,
        }
        self.task_role = self._task_role(storage, secrets, topic, bus, key)
        self.execution_role = _ecs_role(self, 'ExecutionRole', 'tastyguard streamer: pull the image, write its logs')
        # The CDK grants the ECR pulls; ecr:GetAuthorizationToken has no resource-level permissions.
        nag.acknowledge(self.execution_role, nag.ECR_AUTHORIZATION_TOKEN)
        self.task_definition = self._task_definition(config_json)
        self.service = self._service()
        self.market_hours: StreamerMarketHours | None = None
        if settings.hours is StreamerHours.MARKET:
            self.market_hours = StreamerMarketHours(
                self, 'MarketHours', service=self.service, group=schedule_group, dead_letters=schedule_dead_letters
            )

    # -- cluster -------------------------------------------------------------------------------------------
    def _cluster(self) -> ecs.Cluster:
        insights = self.settings.container_insights
        cluster = ecs.Cluster(
            self,
            'Cluster',
            cluster_name=c.STREAMER_CLUSTER_NAME,
            vpc=self.network.vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED if insights else ecs.ContainerInsights.DISABLED,
            enable_fargate_capacity_providers=True,
        )
        if insights:
            # Created here rather than by ECS, so it is encrypted with the stack key and kept a week only.
            self.insights_log_group: logs.LogGroup | None = logs.LogGroup(
                self,
                'ContainerInsightsLogs',
                log_group_name=c.CONTAINER_INSIGHTS_LOG_GROUP,
                retention=c.CONTAINER_INSIGHTS_RETENTION,
                removal_policy=RemovalPolicy.DESTROY,
            )
        else:
            self.insights_log_group = None
            nag.acknowledge(cluster, nag.CONTAINER_INSIGHTS_OFF)
        return cluster

    # -- roles ---------------------------------------------------------------------------------------------
    def _task_role(
        self, storage: Storage, secrets: Secrets, topic: sns.ITopic, bus: events.IEventBus, key: kms.IKey
    ) -> iam.Role:
        role = _ecs_role(self, 'TaskRole', 'tastyguard streamer: what the streamer code calls, nothing more')
        region = Stack.of(self).region
        for statement in (
            iam.PolicyStatement(sid='PublishEvents', actions=['events:PutEvents'], resources=[bus.event_bus_arn]),
            iam.PolicyStatement(
                sid='StateTable', actions=list(c.STATE_TABLE_ACTIONS), resources=[storage.state_table.table_arn]
            ),
            iam.PolicyStatement(
                sid='ReadBrokerGrant',
                actions=['secretsmanager:GetSecretValue'],
                resources=[secrets.broker_secret.secret_arn],
            ),
            iam.PolicyStatement(
                sid='ShareAccessToken',
                actions=['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
                resources=[secrets.token_secret.secret_arn],
            ),
            iam.PolicyStatement(
                sid='ReadKillSwitch', actions=['ssm:GetParameter'], resources=[secrets.kill_switch.parameter_arn]
            ),
            iam.PolicyStatement(sid='Notify', actions=['sns:Publish'], resources=[topic.topic_arn]),
            iam.PolicyStatement(
                sid='UseStackKey',
                actions=list(c.KEY_ACTIONS),
                resources=[key.key_arn],
                conditions={
                    'StringEquals': {
                        'kms:ViaService': [f'{service}.{region}.amazonaws.com' for service in STREAMER_KEY_SERVICES]
                    }
                },
            ),
        ):
            role.add_to_policy(statement)
        return role

    # -- task ----------------------------------------------------------------------------------------------
    def _task_definition(self, config_json: str) -> ecs.FargateTaskDefinition:
        task_definition = ecs.FargateTaskDefinition(
            self,
            'TaskDefinition',
            family=c.STREAMER_FAMILY,
            cpu=self.settings.cpu,
            memory_limit_mib=self.settings.memory,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.ARM64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
            task_role=self.task_role,
            execution_role=self.execution_role,
            volumes=[ecs.Volume(name=c.STREAMER_SCRATCH_VOLUME)],
        )
        # Names and ARNs only (a test fails on anything named like a secret); see nag.ENVIRONMENT_NAMES_ONLY.
        nag.acknowledge(task_definition, nag.ENVIRONMENT_NAMES_ONLY)
        if self.node.try_get_context(DISABLE_ASSET_STAGING):
            raise streamer_context.ContextError(
                'the streamer image needs asset staging (its build context is generated at synth): '
                'run cdk without --no-staging, or deploy with -c streamer.enabled=false'
            )
        with tempfile.TemporaryDirectory(prefix='tastyguard-streamer-image-') as folder:
            context = streamer_context.stage(Path(folder) / 'context', config_json=config_json)
            # The CDK copies the context into the cloud assembly here, when the container binds its image,
            # so the temporary folder can go when the block ends.
            container = self._add_container(task_definition, context)
        container.add_mount_points(
            ecs.MountPoint(
                container_path=c.STREAMER_SCRATCH_PATH, source_volume=c.STREAMER_SCRATCH_VOLUME, read_only=False
            )
        )
        return task_definition

    def _add_container(self, task_definition: ecs.FargateTaskDefinition, context: Path) -> ecs.ContainerDefinition:
        linux = ecs.LinuxParameters(self, 'LinuxParameters', init_process_enabled=True)
        linux.drop_capabilities(ecs.Capability.ALL)
        return task_definition.add_container(
            'Streamer',
            container_name=c.STREAMER_CONTAINER_NAME,
            image=ecs.ContainerImage.from_asset(
                str(context),
                platform=ecr_assets.Platform.LINUX_ARM64,
                ignore_mode=IgnoreMode.DOCKER,  # the context's .dockerignore, as docker build reads it
            ),
            essential=True,
            environment=self.environment,
            logging=ecs.LogDrivers.aws_logs(
                stream_prefix=c.STREAMER_LOG_STREAM_PREFIX,
                log_group=self.log_group,
                mode=ecs.AwsLogDriverMode.NON_BLOCKING,
                max_buffer_size=Size.mebibytes(c.STREAMER_LOG_BUFFER_MIB),
            ),
            health_check=ecs.HealthCheck(
                command=list(c.STREAMER_HEALTH_COMMAND),
                interval=c.STREAMER_HEALTH_INTERVAL,
                timeout=c.STREAMER_HEALTH_TIMEOUT,
                retries=c.STREAMER_HEALTH_RETRIES,
                start_period=c.STREAMER_HEALTH_START_PERIOD,
            ),
            stop_timeout=c.STREAMER_STOP_TIMEOUT,
            readonly_root_filesystem=True,
            user=f'{c.STREAMER_UID}:{c.STREAMER_UID}',
            linux_parameters=linux,
        )

    # -- service -------------------------------------------------------------------------------------------
    def _service(self) -> ecs.FargateService:
        provider = 'FARGATE_SPOT' if self.settings.capacity is StreamerCapacity.SPOT else 'FARGATE'
        service = ecs.FargateService(
            self,
            'Service',
            service_name=c.STREAMER_SERVICE_NAME,
            cluster=self.cluster,
            task_definition=self.task_definition,
            # Market hours: the schedules own the count, so a deploy must not reset it (no DesiredCount:
            # CloudFormation then leaves the running count alone; a new service starts with 1).
            desired_count=1 if self.settings.hours is StreamerHours.ALWAYS else None,
            min_healthy_percent=0,
            max_healthy_percent=100,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            capacity_provider_strategies=[ecs.CapacityProviderStrategy(capacity_provider=provider, weight=1)],
            platform_version=ecs.FargatePlatformVersion.VERSION1_4,
            assign_public_ip=True,
            security_groups=[self.network.security_group],
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            enable_execute_command=False,
            enable_ecs_managed_tags=True,
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
        )
        if self.insights_log_group is not None:
            service.node.add_dependency(self.insights_log_group)
        return service


def _ecs_role(scope: Construct, construct_id: str, description: str) -> iam.Role:
    """A role ECS tasks of this account may assume (confused-deputy guard: source account and ECS ARNs)."""
    stack = Stack.of(scope)
    return iam.Role(
        scope,
        construct_id,
        description=description,
        assumed_by=iam.ServicePrincipal(
            'ecs-tasks.amazonaws.com',
            conditions={
                'StringEquals': {'aws:SourceAccount': stack.account},
                'ArnLike': {'aws:SourceArn': f'arn:{stack.partition}:ecs:{stack.region}:{stack.account}:*'},
            },
        ),
    )
