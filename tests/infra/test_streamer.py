"""The Fargate streamer as deployed: network, singleton deployment, task, roles, image, settings variants."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra import constants as c
from infra.settings import StreamerCapacity, StreamerHours, StreamerSettings
from tests.infra.conftest import FULL_CONFIG, Synth

pytestmark = pytest.mark.infra

ROOT = Path(__file__).resolve().parents[2]
# Spot, market hours, a bigger task and no Container Insights: every non-default branch in one synth.
CHEAP = StreamerSettings(
    capacity=StreamerCapacity.SPOT, hours=StreamerHours.MARKET, cpu=512, memory=1024, container_insights=False
)
SECRET_VALUE_NAME = ('PASSWORD', 'ACCESS_TOKEN', 'REFRESH_TOKEN', 'CLIENT_SECRET', 'WEBHOOK', 'API_KEY', 'PRIVATE')


@pytest.fixture(scope='module')
def cheap(synth_config: Callable[..., Synth], tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synth_config(FULL_CONFIG, tmp_path_factory.mktemp('cdk-streamer-cheap'), streamer=CHEAP)


@pytest.fixture(scope='module')
def without(synth_config: Callable[..., Synth], tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synth_config(
        FULL_CONFIG, tmp_path_factory.mktemp('cdk-no-streamer'), streamer=StreamerSettings(enabled=False)
    )


def one(synth: Synth, resource_type: str) -> dict[str, Any]:
    (resource,) = synth.resources(resource_type).values()
    return dict(resource['Properties'])


def container(synth: Synth) -> dict[str, Any]:
    (definition,) = one(synth, 'AWS::ECS::TaskDefinition')['ContainerDefinitions']
    return dict(definition)


def policy_of(synth: Synth, role_prefix: str) -> dict[str, dict[str, Any]]:
    """Sid (or first action) -> statement, for the one policy attached to the role whose id starts so."""
    (policy,) = [
        p['Properties']['PolicyDocument']['Statement']
        for p in synth.resources('AWS::IAM::Policy').values()
        if p['Properties']['Roles'][0]['Ref'].startswith(role_prefix)
    ]
    return {s.get('Sid') or (s['Action'] if isinstance(s['Action'], str) else s['Action'][0]): s for s in policy}


def ref(value: Any) -> str:
    return str(value['Ref'] if 'Ref' in value else value['Fn::GetAtt'][0])


# -- network ---------------------------------------------------------------------------------------------------


def test_the_vpc_has_public_subnets_only_and_no_nat(full: Synth) -> None:
    full.template.resource_count_is('AWS::EC2::NatGateway', 0)
    full.template.resource_count_is('AWS::EC2::EIP', 0)
    full.template.resource_count_is('AWS::EC2::VPCEndpoint', 0)
    subnets = full.resources('AWS::EC2::Subnet')
    assert len(subnets) == 2
    # Then every subnet routes to the internet gateway and gives nothing a public address by default
    routes = full.resources('AWS::EC2::Route').values()
    gateway = next(iter(full.resources('AWS::EC2::InternetGateway')))
    assert {ref(route['Properties']['GatewayId']) for route in routes} == {gateway}
    assert {route['Properties']['DestinationCidrBlock'] for route in routes} == {'0.0.0.0/0'}
    for subnet in subnets.values():
        assert subnet['Properties']['MapPublicIpOnLaunch'] is False


def test_the_task_security_group_admits_nothing_and_sends_only_https(full: Synth) -> None:
    group = one(full, 'AWS::EC2::SecurityGroup')
    assert 'SecurityGroupIngress' not in group
    full.template.resource_count_is('AWS::EC2::SecurityGroupIngress', 0)
    assert [{k: v for k, v in rule.items() if k != 'Description'} for rule in group['SecurityGroupEgress']] == [
        {'CidrIp': '0.0.0.0/0', 'FromPort': 443, 'IpProtocol': 'tcp', 'ToPort': 443}
    ]


def test_vpc_flow_logs_record_all_traffic_into_an_encrypted_group(full: Synth) -> None:
    flow = one(full, 'AWS::EC2::FlowLog')
    assert (flow['ResourceType'], flow['TrafficType'], flow['LogDestinationType']) == ('VPC', 'ALL', 'cloud-watch-logs')
    group = full.resources('AWS::Logs::LogGroup')[ref(flow['LogGroupName'])]['Properties']
    assert group['LogGroupName'] == c.STREAMER_FLOW_LOG_GROUP
    assert ref(group['KmsKeyId']).startswith('EncryptionKey')


# -- the singleton -----------------------------------------------------------------------------------------------


def test_one_task_and_a_deployment_that_never_runs_two(full: Synth) -> None:
    service = one(full, 'AWS::ECS::Service')
    assert service['DesiredCount'] == 1
    deployment = service['DeploymentConfiguration']
    assert (deployment['MinimumHealthyPercent'], deployment['MaximumPercent']) == (0, 100)
    assert deployment['DeploymentCircuitBreaker'] == {'Enable': True, 'Rollback': True}


def test_the_service_runs_on_demand_fargate_with_a_public_address(full: Synth) -> None:
    service = one(full, 'AWS::ECS::Service')
    assert service['CapacityProviderStrategy'] == [{'CapacityProvider': 'FARGATE', 'Weight': 1}]
    assert 'LaunchType' not in service  # a strategy, so switching to Spot is an update, not a replacement
    assert service['PlatformVersion'] == '1.4.0'
    network = service['NetworkConfiguration']['AwsvpcConfiguration']
    assert network['AssignPublicIp'] == 'ENABLED'
    assert {ref(subnet) for subnet in network['Subnets']} == set(full.resources('AWS::EC2::Subnet'))
    assert service['LoadBalancers'] == []
    assert service['EnableExecuteCommand'] is False
    assert service['ServiceName'] == c.STREAMER_SERVICE_NAME


def test_the_cluster_has_container_insights_and_both_fargate_capacity_providers(full: Synth) -> None:
    cluster = one(full, 'AWS::ECS::Cluster')
    assert cluster['ClusterName'] == c.STREAMER_CLUSTER_NAME
    assert cluster['ClusterSettings'] == [{'Name': 'containerInsights', 'Value': 'enabled'}]
    association = one(full, 'AWS::ECS::ClusterCapacityProviderAssociations')
    assert set(association['CapacityProviders']) == {'FARGATE', 'FARGATE_SPOT'}
    # And its performance log group is the stack's, encrypted and kept a week
    groups = {g['Properties']['LogGroupName']: g['Properties'] for g in full.resources('AWS::Logs::LogGroup').values()}
    insights = groups[f'/aws/ecs/containerinsights/{c.STREAMER_CLUSTER_NAME}/performance']
    assert insights['RetentionInDays'] == 7
    assert ref(insights['KmsKeyId']).startswith('EncryptionKey')


# -- the task ----------------------------------------------------------------------------------------------------


def test_the_task_is_arm64_with_the_default_size(full: Synth) -> None:
    task = one(full, 'AWS::ECS::TaskDefinition')
    assert task['RuntimePlatform'] == {'CpuArchitecture': 'ARM64', 'OperatingSystemFamily': 'LINUX'}
    assert (task['Cpu'], task['Memory']) == ('256', '512')
    assert task['RequiresCompatibilities'] == ['FARGATE']
    assert task['Family'] == c.STREAMER_FAMILY


def test_the_health_check_runs_the_heartbeat_check(full: Synth) -> None:
    assert container(full)['HealthCheck'] == {
        'Command': ['CMD', 'python', '-m', 'streamer.healthcheck'],
        'Interval': 30,
        'Timeout': 5,
        'Retries': 3,
        'StartPeriod': 120,
    }


def test_the_container_runs_locked_down(full: Synth) -> None:
    definition = container(full)
    assert definition['ReadonlyRootFilesystem'] is True
    assert definition['User'] == f'{c.STREAMER_UID}:{c.STREAMER_UID}'
    assert definition['LinuxParameters'] == {'Capabilities': {'Drop': ['ALL']}, 'InitProcessEnabled': True}
    assert definition.get('Privileged') is not True
    assert definition['Essential'] is True
    assert definition['StopTimeout'] == 30
    # And its only writable path is the task's scratch volume, where the heartbeat lives
    scratch = '/tmp'  # noqa: S108 - the task's own volume
    assert definition['MountPoints'] == [{'ContainerPath': scratch, 'ReadOnly': False, 'SourceVolume': 'tmp'}]
    assert one(full, 'AWS::ECS::TaskDefinition')['Volumes'] == [{'Name': 'tmp'}]
    assert c.STREAMER_HEALTH_FILE.startswith(f'{scratch}/')


def test_logs_go_non_blocking_to_an_explicit_encrypted_log_group(full: Synth) -> None:
    logging = container(full)['LogConfiguration']
    assert logging['LogDriver'] == 'awslogs'
    assert logging['Options']['mode'] == 'non-blocking'
    assert logging['Options']['max-buffer-size'] == '26214400b'
    group = full.resources('AWS::Logs::LogGroup')[ref(logging['Options']['awslogs-group'])]['Properties']
    assert group['LogGroupName'] == c.STREAMER_LOG_GROUP
    assert group['RetentionInDays'] == 30
    assert ref(group['KmsKeyId']).startswith('EncryptionKey')


def test_the_environment_holds_names_and_arns_only(full: Synth) -> None:
    definition = container(full)
    assert 'Secrets' not in definition  # decision: no secret injection (docs/decisions.md)
    variables = {variable['Name']: variable['Value'] for variable in definition['Environment']}
    assert set(variables) == {
        'TASTYGUARD_STATE_TABLE',
        'TASTYGUARD_BROKER_SECRET',
        'TASTYGUARD_TOKEN_SECRET',
        'TASTYGUARD_EVENT_BUS',
        'TASTYGUARD_TOPIC_ARN',
        'TASTYGUARD_KILL_SWITCH_PARAM',
        'TASTYGUARD_CONFIG_FILE',
        'TASTYGUARD_STREAMER_HEALTH_FILE',
        'TASTYGUARD_STREAMER_HEALTH_MAX_AGE',
        'AWS_DEFAULT_REGION',
        'POWERTOOLS_SERVICE_NAME',
        'POWERTOOLS_METRICS_NAMESPACE',
        'POWERTOOLS_LOG_LEVEL',
    }
    assert not [name for name in variables if any(word in name for word in SECRET_VALUE_NAME)]
    assert (variables['TASTYGUARD_BROKER_SECRET'], variables['TASTYGUARD_TOKEN_SECRET']) == (
        'tastyguard/broker',
        'tastyguard/access-token',
    )
    assert variables['TASTYGUARD_CONFIG_FILE'] == c.CONFIG_FILE_IN_FUNCTION
    assert variables['TASTYGUARD_STREAMER_HEALTH_FILE'] == '/tmp/tastyguard-streamer.health'  # noqa: S108
    assert variables['TASTYGUARD_STREAMER_HEALTH_MAX_AGE'] == '90'
    assert ref(variables['TASTYGUARD_STATE_TABLE']).startswith('StorageStateTable')
    assert ref(variables['TASTYGUARD_EVENT_BUS']).startswith('EventsBus')
    assert variables['POWERTOOLS_METRICS_NAMESPACE'] == variables['POWERTOOLS_SERVICE_NAME'] == 'tastyguard'


def test_the_job_environment_names_mean_the_same_in_the_streamer(full: Synth) -> None:
    streamer = {variable['Name']: variable['Value'] for variable in container(full)['Environment']}
    job = full.functions()['tastyguard-ensure-stops']['Environment']['Variables']
    shared = set(streamer) & set(job)
    assert len(shared) == 10
    for name in shared:
        assert streamer[name] == job[name], name


# -- roles -------------------------------------------------------------------------------------------------------


def test_the_task_role_holds_exactly_what_the_streamer_calls(full: Synth) -> None:
    policy = policy_of(full, 'StreamerTaskRole')
    assert set(policy) == {
        'PublishEvents',
        'StateTable',
        'ReadBrokerGrant',
        'ShareAccessToken',
        'ReadKillSwitch',
        'Notify',
        'UseStackKey',
    }
    assert policy['PublishEvents']['Action'] == 'events:PutEvents'
    assert ref(policy['PublishEvents']['Resource']).startswith('EventsBus')
    assert set(policy['StateTable']['Action']) == set(c.STATE_TABLE_ACTIONS)
    assert ref(policy['StateTable']['Resource']).startswith('StorageStateTable')
    assert policy['ReadBrokerGrant']['Action'] == 'secretsmanager:GetSecretValue'
    assert ref(policy['ReadBrokerGrant']['Resource']).startswith('SecretsBrokerSecret')
    assert set(policy['ShareAccessToken']['Action']) == {
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
    }
    assert ref(policy['ShareAccessToken']['Resource']).startswith('SecretsAccessTokenSecret')
    assert policy['ReadKillSwitch']['Action'] == 'ssm:GetParameter'
    assert policy['Notify']['Action'] == 'sns:Publish'
    assert set(policy['UseStackKey']['Action']) == set(c.KEY_ACTIONS)
    for statement in policy.values():
        assert statement['Resource'] != '*'
        actions = statement['Action'] if isinstance(statement['Action'], list) else [statement['Action']]
        assert not [action for action in actions if '*' in action or action.startswith('cloudwatch:')]


def test_the_streamer_and_the_jobs_get_the_same_statements_for_the_same_calls(full: Synth) -> None:
    streamer = policy_of(full, 'StreamerTaskRole')
    role = full.functions()['tastyguard-ensure-stops']['Role']['Fn::GetAtt'][0]
    job = policy_of(full, role)
    for sid in ('StateTable', 'ReadBrokerGrant', 'ShareAccessToken', 'ReadKillSwitch', 'Notify'):
        assert streamer[sid] == job[sid], sid


def test_both_roles_trust_only_ecs_tasks_of_this_account(full: Synth) -> None:
    roles = {k: r['Properties'] for k, r in full.resources('AWS::IAM::Role').items() if k.startswith('Streamer')}
    for logical_id in ('StreamerTaskRole', 'StreamerExecutionRole'):
        (props,) = [props for key, props in roles.items() if key.startswith(logical_id)]
        (statement,) = props['AssumeRolePolicyDocument']['Statement']
        assert statement['Principal'] == {'Service': 'ecs-tasks.amazonaws.com'}
        assert statement['Condition']['StringEquals'] == {'aws:SourceAccount': {'Ref': 'AWS::AccountId'}}
        assert 'aws:SourceArn' in statement['Condition']['ArnLike']
        assert 'ManagedPolicyArns' not in props


def test_the_execution_role_only_pulls_the_image_and_writes_the_log_stream(full: Synth) -> None:
    policy = policy_of(full, 'StreamerExecutionRole')
    actions = {
        action
        for statement in policy.values()
        for action in (statement['Action'] if isinstance(statement['Action'], list) else [statement['Action']])
    }
    assert actions == {
        'ecr:BatchCheckLayerAvailability',
        'ecr:BatchGetImage',
        'ecr:GetDownloadUrlForLayer',
        'ecr:GetAuthorizationToken',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
    }
    for statement in policy.values():
        if statement['Resource'] == '*':
            assert statement['Action'] == 'ecr:GetAuthorizationToken'
        elif 'logs:PutLogEvents' in statement['Action']:
            assert ref(statement['Resource']).startswith('StreamerLogs')
        else:
            assert 'container-assets' in json.dumps(statement['Resource'])


# -- the image ---------------------------------------------------------------------------------------------------


def image_asset(synth: Synth) -> tuple[dict[str, Any], Path]:
    """The streamer's Docker image asset: its manifest entry and its staged build context in cdk.out."""
    outdir = Path(synth.app.outdir)
    manifest = json.loads((outdir / f'{c.STACK_NAME}.assets.json').read_text())
    (asset,) = manifest['dockerImages'].values()
    return asset, outdir / asset['source']['directory']


def test_the_image_is_built_for_arm64_from_the_staged_context(full: Synth) -> None:
    asset, context = image_asset(full)
    assert asset['source']['platform'] == 'linux/arm64'
    assert (context / 'Dockerfile').read_text() == (ROOT / 'streamer' / 'Dockerfile').read_text()
    (destination,) = asset['destinations'].values()
    assert container(full)['Image']['Fn::Sub'].endswith(f':{destination["imageTag"]}')


def test_the_staged_context_holds_exactly_what_the_image_needs(full: Synth) -> None:
    _, context = image_asset(full)
    files = {path.relative_to(context).as_posix() for path in context.rglob('*') if path.is_file()}
    core = ROOT / 'layers' / 'core' / 'tastyguard'
    expected_core = {
        f'tastyguard/{path.relative_to(core).as_posix()}'
        for path in core.rglob('*')
        if path.is_file()
        and path.relative_to(core).parts[0] != 'cli'
        and '__pycache__' not in path.parts
        and path.suffix != '.pyc'
    }
    expected = {
        'Dockerfile',
        '.dockerignore',
        'requirements.txt',
        'tastyguard.json',
        *(f'streamer/{path.name}' for path in (ROOT / 'streamer').glob('*.py')),
        *expected_core,
    }
    assert files == expected
    assert json.loads((context / 'tastyguard.json').read_text()) == json.loads(full.settings.config_json)


def test_the_image_hash_is_its_content_not_the_temporary_staging_folder(full: Synth, cheap: Synth) -> None:
    # Given two synths of the same config and code (staged into two different temporary folders)
    (full_asset, full_context), (cheap_asset, _) = image_asset(full), image_asset(cheap)
    # Then they build the same image, so a redeploy without changes pushes and restarts nothing
    assert full_asset['source']['directory'] == cheap_asset['source']['directory']
    # And the temporary folder is not what the assembly points at
    assert full_context.parent == Path(full.app.outdir)


# -- the settings variants ---------------------------------------------------------------------------------------


def test_spot_capacity_runs_the_task_on_fargate_spot(cheap: Synth) -> None:
    service = one(cheap, 'AWS::ECS::Service')
    assert service['CapacityProviderStrategy'] == [{'CapacityProvider': 'FARGATE_SPOT', 'Weight': 1}]
    assert service['PlatformVersion'] == '1.4.0'  # Fargate Spot takes ARM64 tasks from platform 1.4.0 on


def test_cpu_and_memory_come_from_the_settings(cheap: Synth) -> None:
    task = one(cheap, 'AWS::ECS::TaskDefinition')
    assert (task['Cpu'], task['Memory']) == ('512', '1024')


def test_market_hours_leave_the_count_to_two_new_york_schedules(cheap: Synth) -> None:
    service = one(cheap, 'AWS::ECS::Service')
    # A deploy must not reset the count the schedules set
    assert 'DesiredCount' not in service
    schedules = {
        s['Properties']['Name']: s['Properties']
        for s in cheap.resources('AWS::Scheduler::Schedule').values()
        if s['Properties']['Name'].startswith('tastyguard-streamer')
    }
    assert {name: (s['ScheduleExpression'], s['ScheduleExpressionTimezone']) for name, s in schedules.items()} == {
        'tastyguard-streamer-start': ('cron(45 8 ? * MON-FRI *)', 'America/New_York'),
        'tastyguard-streamer-stop': ('cron(0 17 ? * MON-FRI *)', 'America/New_York'),
    }
    for name, count in (('tastyguard-streamer-start', 1), ('tastyguard-streamer-stop', 0)):
        target = schedules[name]['Target']
        assert target['Arn'] == {
            'Fn::Join': ['', ['arn:', {'Ref': 'AWS::Partition'}, ':scheduler:::aws-sdk:ecs:updateService']]
        }
        assert json.loads(target['Input']) == {
            'Cluster': 'tastyguard',
            'Service': 'tastyguard-streamer',
            'DesiredCount': count,
        }
        assert ref(target['DeadLetterConfig']['Arn']).startswith('JobsTickDeadLetters')
        assert schedules[name]['FlexibleTimeWindow'] == {'Mode': 'OFF'}
        assert schedules[name]['GroupName'] == c.SCHEDULE_GROUP_NAME  # with the jobs' schedules
    # And they are created after the group and the service they name (literals, so no implicit dependency)
    group = next(iter(cheap.resources('AWS::Scheduler::ScheduleGroup')))
    service = next(iter(cheap.resources('AWS::ECS::Service')))
    for logical_id, schedule in cheap.resources('AWS::Scheduler::Schedule').items():
        if logical_id.startswith('Streamer'):
            assert {group, service} <= set(schedule['DependsOn']), logical_id


def test_the_schedule_role_may_only_update_the_streamer_service(cheap: Synth) -> None:
    policy = policy_of(cheap, 'StreamerMarketHoursScheduleRole')
    assert set(policy) == {'ScaleTheStreamer', 'EncryptDeadLetters', 'sqs:SendMessage'}
    assert policy['ScaleTheStreamer']['Action'] == 'ecs:UpdateService'
    assert ref(policy['ScaleTheStreamer']['Resource']).startswith('StreamerService')
    roles = cheap.resources('AWS::IAM::Role').items()
    (role,) = [r['Properties'] for k, r in roles if k.startswith('StreamerMarketHoursScheduleRole')]
    (statement,) = role['AssumeRolePolicyDocument']['Statement']
    assert statement['Principal'] == {'Service': 'scheduler.amazonaws.com'}
    assert statement['Condition'] == {'StringEquals': {'aws:SourceAccount': {'Ref': 'AWS::AccountId'}}}


def test_always_on_has_no_streamer_schedules(full: Synth) -> None:
    names = {s['Properties']['Name'] for s in full.resources('AWS::Scheduler::Schedule').values()}
    assert not [name for name in names if name.startswith('tastyguard-streamer')]


def test_container_insights_can_be_switched_off(cheap: Synth) -> None:
    assert one(cheap, 'AWS::ECS::Cluster')['ClusterSettings'] == [{'Name': 'containerInsights', 'Value': 'disabled'}]
    names = {g['Properties']['LogGroupName'] for g in cheap.resources('AWS::Logs::LogGroup').values()}
    assert c.CONTAINER_INSIGHTS_LOG_GROUP not in names


def test_disabled_deploys_no_network_cluster_task_or_streamer_alarm(without: Synth) -> None:
    for resource_type in (
        'AWS::EC2::VPC',
        'AWS::EC2::SecurityGroup',
        'AWS::EC2::FlowLog',
        'AWS::ECS::Cluster',
        'AWS::ECS::TaskDefinition',
        'AWS::ECS::Service',
    ):
        without.template.resource_count_is(resource_type, 0)
    names = {a['Properties'].get('AlarmName') for a in without.resources('AWS::CloudWatch::CompositeAlarm').values()}
    assert names == {'tastyguard-ensure-stops-dead-mans-switch'}
    assert not [key for key in without.json['Outputs'] if key.startswith('Streamer')]
    manifest = json.loads((Path(without.app.outdir) / f'{c.STACK_NAME}.assets.json').read_text())
    assert manifest.get('dockerImages', {}) == {}  # no image to build: a deploy needs no Docker


def test_the_outputs_name_the_cluster_and_service_for_the_runbook(full: Synth) -> None:
    outputs = full.json['Outputs']
    assert ref(outputs['StreamerCluster']['Value']).startswith('StreamerCluster')
    assert outputs['StreamerService']['Value']['Fn::GetAtt'][1] == 'Name'


def test_cfn_lint_finds_nothing_in_the_cheapest_streamer(cheap: Synth) -> None:
    from cfnlint.api import ManualArgs, lint

    matches = lint(json.dumps(cheap.json), config=ManualArgs(regions=['us-east-1'], ignore_checks=['W3005']))
    assert [str(match) for match in matches] == []


def test_synthesizing_leaves_no_temporary_build_context_behind(stack_for: Callable[..., Any], tmp_path: Path) -> None:
    import tempfile

    pattern = 'tastyguard-streamer-image-*'
    before = set(Path(tempfile.gettempdir()).glob(pattern))
    stack_for({'environment': 'paper', 'accounts': [{'account_number': '5WX01234'}]}, tmp_path)
    assert set(Path(tempfile.gettempdir()).glob(pattern)) == before
    # And the context is already in the cloud assembly
    (asset,) = [path for path in tmp_path.iterdir() if path.name.startswith('asset.')]
    assert (asset / 'Dockerfile').is_file()


def test_no_staging_is_refused_with_the_reason(stack_for: Callable[..., Any], tmp_path: Path) -> None:
    import aws_cdk as cdk

    from infra.stacks.tastyguard_stack import TastyguardStack
    from infra.streamer_context import ContextError
    from tests.infra.conftest import cdk_json_context, settings_for

    app = cdk.App(context={**cdk_json_context(), 'aws:cdk:disable-asset-staging': True}, outdir=str(tmp_path))
    with pytest.raises(ContextError, match='needs asset staging'):
        TastyguardStack(app, c.STACK_NAME, settings=settings_for(FULL_CONFIG))
