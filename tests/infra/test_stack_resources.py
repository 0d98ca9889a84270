"""What the full stack deploys: counts and the properties that matter, read from the synthesized template."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match

from infra import constants as c
from infra.constructs.packaging import code_identity
from tastyguard.store.schema import IDEMPOTENCY_TABLE, STATE_TABLE, TableSpec

pytestmark = pytest.mark.infra

JOB_FUNCTIONS = {f'tastyguard-{job.replace("_", "-")}': job for job in c.JOBS}
NOTIFIER_FUNCTION = 'tastyguard-notify-slack'
DISPATCHER_FUNCTION = 'tastyguard-dispatch'
FAST_PATH_FUNCTION = 'tastyguard-fast-path'
HANDLERS = {
    **JOB_FUNCTIONS,
    NOTIFIER_FUNCTION: c.NOTIFIER,
    DISPATCHER_FUNCTION: c.DISPATCHER,
    FAST_PATH_FUNCTION: c.FAST_PATH,
}


def ref_id(value: Any) -> str:
    """The logical id a Ref / Fn::GetAtt points at."""
    if 'Ref' in value:
        return str(value['Ref'])
    return str(value['Fn::GetAtt'][0])


@pytest.mark.parametrize(
    ('resource_type', 'count'),
    [
        ('AWS::Lambda::Function', 7),
        ('AWS::Lambda::LayerVersion', 2),
        ('AWS::Lambda::EventSourceMapping', 4),
        ('AWS::Logs::LogGroup', 10),  # 7 functions, the streamer's logs, VPC flow logs, Container Insights
        ('AWS::DynamoDB::Table', 2),
        ('AWS::SecretsManager::Secret', 3),
        ('AWS::SSM::Parameter', 1),
        ('AWS::KMS::Key', 1),
        ('AWS::SNS::Topic', 1),
        ('AWS::SNS::Subscription', 3),
        ('AWS::SQS::Queue', 9),
        ('AWS::Scheduler::ScheduleGroup', 1),
        ('AWS::Scheduler::Schedule', 3),
        ('AWS::Events::EventBus', 1),
        ('AWS::Events::Rule', 1),
        ('AWS::CloudWatch::CompositeAlarm', 2),
        ('AWS::CloudWatch::Dashboard', 1),
        ('AWS::EC2::VPC', 1),  # the streamer's: public subnets only
        ('AWS::EC2::NatGateway', 0),
        ('AWS::EC2::EIP', 0),
        ('AWS::ECS::Service', 1),
    ],
)
def test_full_stack_has_the_expected_resources(full: Any, resource_type: str, count: int) -> None:
    full.template.resource_count_is(resource_type, count)


def test_every_function_is_arm64_python313_traced_with_json_logs(full: Any) -> None:
    # Given every function of the stack
    functions = full.functions()
    # Then each one runs the same runtime, architecture, layers and observability settings
    assert set(functions) == set(HANDLERS)
    for name, props in functions.items():
        assert props['Architectures'] == ['arm64'], name
        assert props['Runtime'] == 'python3.13', name
        assert props['TracingConfig'] == {'Mode': 'Active'}, name
        assert props['LoggingConfig']['LogFormat'] == 'JSON', name
        assert props['LoggingConfig']['ApplicationLogLevel'] == 'INFO', name
        assert len(props['Layers']) == 2, name
        assert props['Handler'] == f'functions.{HANDLERS[name]}.handler.lambda_handler'


def test_every_function_logs_to_its_own_group_with_retention(full: Any) -> None:
    groups = full.resources('AWS::Logs::LogGroup')
    for name, props in full.functions().items():
        group = groups[ref_id(props['LoggingConfig']['LogGroup'])]
        assert group['Properties']['LogGroupName'] == f'/aws/lambda/{name}'
        assert group['Properties']['RetentionInDays'] == 30
    used = [ref_id(props['LoggingConfig']['LogGroup']) for props in full.functions().values()]
    assert len(set(used)) == len(used)


def test_every_function_has_its_own_role(full: Any) -> None:
    roles = [ref_id(props['Role']) for props in full.functions().values()]
    assert len(set(roles)) == len(roles)


def test_each_job_takes_one_account_per_invocation_from_its_work_queue(full: Any) -> None:
    # Given the job functions, their work queues and the event sources between them
    functions = full.resources('AWS::Lambda::Function')
    queues = full.resources('AWS::SQS::Queue')
    sources = {
        functions[ref_id(m['Properties']['FunctionName'])]['Properties']['FunctionName']: m['Properties']
        for m in full.resources('AWS::Lambda::EventSourceMapping').values()
    }
    # Then every job reads its own queue, one message at a time, at most scale.concurrency at once
    assert set(sources) == set(JOB_FUNCTIONS)
    for name, mapping in sources.items():
        assert mapping['BatchSize'] == 1, name
        assert mapping['ScalingConfig'] == {'MaximumConcurrency': 5}, name
        assert mapping['FunctionResponseTypes'] == ['ReportBatchItemFailures'], name
        queue = queues[ref_id(mapping['EventSourceArn'])]['Properties']
        timeout = full.functions()[name]['Timeout']
        assert queue['VisibilityTimeout'] == 6 * timeout, name
        assert queue['RedrivePolicy']['maxReceiveCount'] == 3, name
        assert 'AccountRunDeadLetters' in ref_id(queue['RedrivePolicy']['deadLetterTargetArn'])
    assert len({ref_id(m['EventSourceArn']) for m in sources.values()}) == len(sources)


def test_only_the_sweep_reserves_concurrency_and_jobs_end_before_their_next_tick(full: Any) -> None:
    functions = full.functions()
    periods = {'sync_positions': 5, 'ensure_stops': 5, 'reconcile_orders': 15}
    for name, job in JOB_FUNCTIONS.items():
        props = functions[name]
        if job in periods:
            assert props['Timeout'] < periods[job] * 60, name
    assert functions['tastyguard-ensure-stops']['ReservedConcurrentExecutions'] == 5
    reserved = [name for name, props in functions.items() if 'ReservedConcurrentExecutions' in props]
    assert reserved == ['tastyguard-ensure-stops']
    assert functions['tastyguard-ensure-stops']['Timeout'] == 180


def test_the_dispatcher_knows_every_work_queue_and_may_only_send_to_them(full: Any) -> None:
    variables = full.functions()[DISPATCHER_FUNCTION]['Environment']['Variables']
    queues = full.resources('AWS::SQS::Queue')
    urls = {key: ref_id(value) for key, value in variables.items() if key.startswith('TASTYGUARD_QUEUE_')}
    assert set(urls) == {f'TASTYGUARD_QUEUE_{job.upper()}' for job in c.JOBS}
    assert all(logical_id in queues for logical_id in urls.values())


def test_the_fast_path_has_its_own_function_with_priority_and_retries(full: Any) -> None:
    props = full.functions()[FAST_PATH_FUNCTION]
    assert props['Environment']['Variables']['TASTYGUARD_RATE_PRIORITY'] == 'high'
    assert 'ReservedConcurrentExecutions' not in props
    configs = [
        r['Properties']
        for r in full.resources('AWS::Lambda::EventInvokeConfig').values()
        if ref_id(r['Properties']['FunctionName'])
        == full.logical_id('AWS::Lambda::Function', 'FunctionName', FAST_PATH_FUNCTION)
    ]
    assert [(cfg['MaximumRetryAttempts'], cfg['MaximumEventAgeInSeconds']) for cfg in configs] == [(2, 600)]


def test_job_functions_get_the_environment_contract(full: Any) -> None:
    for name in [*JOB_FUNCTIONS, FAST_PATH_FUNCTION, DISPATCHER_FUNCTION]:
        variables = full.functions()[name]['Environment']['Variables']
        extra = {
            FAST_PATH_FUNCTION: {'TASTYGUARD_RATE_PRIORITY'},
            DISPATCHER_FUNCTION: {f'TASTYGUARD_QUEUE_{job.upper()}' for job in c.JOBS},
        }.get(name, set())
        assert set(variables) - extra == {
            'TASTYGUARD_STATE_TABLE',
            'TASTYGUARD_IDEMPOTENCY_TABLE',
            'TASTYGUARD_BROKER_SECRET',
            'TASTYGUARD_TOKEN_SECRET',
            'TASTYGUARD_TOPIC_ARN',
            'TASTYGUARD_KILL_SWITCH_PARAM',
            'TASTYGUARD_CONFIG_FILE',
            'TASTYGUARD_EVENT_BUS',
            'TASTYGUARD_BUILD',
            'POWERTOOLS_SERVICE_NAME',
            'POWERTOOLS_METRICS_NAMESPACE',
            'POWERTOOLS_LOG_LEVEL',
        }, name
        assert variables['TASTYGUARD_BROKER_SECRET'] == 'tastyguard/broker'
        assert variables['TASTYGUARD_TOKEN_SECRET'] == 'tastyguard/access-token'
        assert variables['TASTYGUARD_CONFIG_FILE'] == '/var/task/functions/tastyguard.json'
        assert ref_id(variables['TASTYGUARD_STATE_TABLE']) == full.logical_id(
            'AWS::DynamoDB::Table', 'TableName', STATE_TABLE.default_name
        )
        assert ref_id(variables['TASTYGUARD_KILL_SWITCH_PARAM']).startswith('SecretsKillSwitch')
        assert variables['POWERTOOLS_SERVICE_NAME'] == 'tastyguard'
        assert variables['POWERTOOLS_METRICS_NAMESPACE'] == 'tastyguard'
        assert variables['POWERTOOLS_LOG_LEVEL'] == 'INFO'
        assert variables['TASTYGUARD_BUILD'] == code_identity()


def test_the_code_identity_changes_with_any_shipped_source_and_only_with_one(tmp_path: Any) -> None:
    # Given a package and a functions folder (the CLI is not shipped in the code layer)
    package, functions = tmp_path / 'tastyguard', tmp_path / 'functions'
    (package / 'cli').mkdir(parents=True)
    functions.mkdir()
    (package / 'planner.py').write_text('LIMIT = 1\n')
    (package / 'cli' / 'main.py').write_text('HELP = 1\n')
    (functions / 'handler.py').write_text('X = 1\n')

    def identity() -> str:
        return code_identity((package, functions), (package / 'cli',))

    first = identity()
    assert identity() == first and len(first) == 16
    # The CLI is not what the functions run
    (package / 'cli' / 'main.py').write_text('HELP = 2\n')
    assert identity() == first
    # A change in the package or in functions/ is new code
    (package / 'planner.py').write_text('LIMIT = 2\n')
    second = identity()
    assert second != first
    (functions / 'handler.py').write_text('X = 2\n')
    assert identity() not in {first, second}


def test_notifier_gets_only_the_slack_secret_name(full: Any) -> None:
    variables = full.functions()[NOTIFIER_FUNCTION]['Environment']['Variables']
    assert variables == {
        'TASTYGUARD_SLACK_SECRET': 'tastyguard/slack-test',
        'POWERTOOLS_SERVICE_NAME': 'tastyguard',
        'POWERTOOLS_METRICS_NAMESPACE': 'tastyguard',
        'POWERTOOLS_LOG_LEVEL': 'INFO',
    }


def test_failed_async_runs_go_to_a_dead_letter_queue(full: Any) -> None:
    # Given the asynchronous-invoke settings of every function
    configs = {ref_id(r['Properties']['FunctionName']): r['Properties'] for r in full.resources(
        'AWS::Lambda::EventInvokeConfig').values()}  # fmt: skip
    queues = full.resources('AWS::SQS::Queue')
    functions = full.resources('AWS::Lambda::Function')
    # Then jobs never retry asynchronously (their queue redelivers), the dispatcher, the fast path and the
    # notifier do, and every failure lands in a queue
    assert set(configs) == set(functions)
    retrying = {NOTIFIER_FUNCTION, DISPATCHER_FUNCTION, FAST_PATH_FUNCTION}
    for logical_id, props in configs.items():
        name = functions[logical_id]['Properties']['FunctionName']
        assert props['MaximumRetryAttempts'] == (2 if name in retrying else 0), name
        assert ref_id(props['DestinationConfig']['OnFailure']['Destination']) in queues


def test_schedules_tick_in_market_hours_in_new_york_with_retries_and_a_dlq(full: Any) -> None:
    # sync_positions has no schedule at the same period as ensure_stops: ensure_stops reads and stores positions
    assert 'tastyguard-sync-positions' not in {
        s['Properties']['Name'] for s in full.resources('AWS::Scheduler::Schedule').values()
    }
    expected = {
        'tastyguard-ensure-stops': ('cron(*/5 9-16 ? * MON-FRI *)', 240, 'ensure_stops'),
        'tastyguard-reconcile-orders': ('cron(3-59/15 9-16 ? * MON-FRI *)', 840, 'reconcile_orders'),
        'tastyguard-digest': ('cron(30 16 ? * MON-FRI *)', 3600, 'digest'),
    }
    for name, (expression, max_age, job) in expected.items():
        full.template.has_resource_properties(
            'AWS::Scheduler::Schedule',
            {
                'Name': name,
                'GroupName': 'tastyguard',
                'ScheduleExpression': expression,
                'ScheduleExpressionTimezone': 'America/New_York',
                'FlexibleTimeWindow': {'Mode': 'OFF'},
                'State': 'ENABLED',
                'Target': {
                    'Arn': {'Fn::GetAtt': [Match.string_like_regexp('^FanoutDispatcher.*Function'), 'Arn']},
                    'Input': Match.serialized_json(
                        {
                            'job': job,
                            'scheduled_time': '<aws.scheduler.scheduled-time>',
                            'schedule_arn': '<aws.scheduler.schedule-arn>',
                        }
                    ),
                    'RetryPolicy': {'MaximumRetryAttempts': 2, 'MaximumEventAgeInSeconds': max_age},
                    'DeadLetterConfig': {'Arn': {'Fn::GetAtt': [Match.string_like_regexp('TickDeadLetters'), 'Arn']}},
                },
            },
        )


def test_every_schedule_invokes_the_dispatcher_with_its_own_job(full: Any) -> None:
    functions = full.resources('AWS::Lambda::Function')
    for schedule in full.resources('AWS::Scheduler::Schedule').values():
        target = functions[ref_id(schedule['Properties']['Target']['Arn'])]
        assert target['Properties']['FunctionName'] == DISPATCHER_FUNCTION
        job = json.loads(schedule['Properties']['Target']['Input'])['job']
        assert schedule['Properties']['Name'] == f'tastyguard-{job.replace("_", "-")}'


@pytest.mark.parametrize('spec', [STATE_TABLE, IDEMPOTENCY_TABLE], ids=lambda spec: spec.default_name)
def test_tables_are_built_from_the_schema_specs(full: Any, spec: TableSpec) -> None:
    keys = [{'AttributeName': spec.partition_key, 'KeyType': 'HASH'}]
    if spec.sort_key:
        keys.append({'AttributeName': spec.sort_key, 'KeyType': 'RANGE'})
    full.template.has_resource_properties(
        'AWS::DynamoDB::Table',
        {
            'TableName': spec.default_name,
            'KeySchema': keys,
            'AttributeDefinitions': [{'AttributeName': key['AttributeName'], 'AttributeType': 'S'} for key in keys],
            'BillingMode': 'PAY_PER_REQUEST',
            'PointInTimeRecoverySpecification': {'PointInTimeRecoveryEnabled': True},
            'TimeToLiveSpecification': {'AttributeName': spec.ttl_attribute, 'Enabled': True},
            'SSESpecification': {
                'SSEEnabled': True,
                'SSEType': 'KMS',
                'KMSMasterKeyId': {'Fn::GetAtt': [Match.string_like_regexp('^EncryptionKey'), 'Arn']},
            },
        },
    )


def test_the_state_table_survives_the_stack_and_the_idempotency_table_does_not(full: Any) -> None:
    tables = {r['Properties']['TableName']: r for r in full.resources('AWS::DynamoDB::Table').values()}
    assert tables['tastyguard-state']['DeletionPolicy'] == 'Retain'
    assert tables['tastyguard-state']['Properties']['DeletionProtectionEnabled'] is True
    assert tables['tastyguard-idempotency']['DeletionPolicy'] == 'Delete'


def test_the_key_rotates_and_is_kept(full: Any) -> None:
    full.template.has_resource('AWS::KMS::Key', {'Properties': {'EnableKeyRotation': True}, 'DeletionPolicy': 'Retain'})
    full.template.has_resource_properties('AWS::KMS::Alias', {'AliasName': 'alias/tastyguard'})


def test_the_topic_is_encrypted_and_refuses_plain_http(full: Any) -> None:
    full.template.has_resource_properties(
        'AWS::SNS::Topic',
        {'TopicName': 'tastyguard-notifications', 'KmsMasterKeyId': {'Fn::GetAtt': [Match.any_value(), 'Arn']}},
    )
    full.template.has_resource_properties(
        'AWS::SNS::TopicPolicy',
        {
            'PolicyDocument': {
                'Statement': Match.array_with(
                    [Match.object_like({'Effect': 'Deny', 'Condition': {'Bool': {'aws:SecureTransport': 'false'}}})]
                )
            }
        },
    )


def test_every_configured_address_is_subscribed(full: Any) -> None:
    for address in ('trader@example.com', 'backup@example.com'):
        full.template.has_resource_properties('AWS::SNS::Subscription', {'Protocol': 'email', 'Endpoint': address})


def test_the_slack_notifier_is_subscribed_with_a_dead_letter_queue(full: Any) -> None:
    notifier = full.logical_id('AWS::Lambda::Function', 'FunctionName', NOTIFIER_FUNCTION)
    full.template.has_resource_properties(
        'AWS::SNS::Subscription',
        {
            'Protocol': 'lambda',
            'Endpoint': {'Fn::GetAtt': [notifier, 'Arn']},
            'RedrivePolicy': {
                'deadLetterTargetArn': {'Fn::GetAtt': [Match.string_like_regexp('NotifierFailures'), 'Arn']}
            },
        },
    )


def test_every_queue_is_encrypted_ssl_only_and_dead_letters_stay_two_weeks(full: Any) -> None:
    policies = [r['Properties'] for r in full.resources('AWS::SQS::QueuePolicy').values()]
    for logical_id, queue in full.resources('AWS::SQS::Queue').items():
        assert queue['Properties']['KmsMasterKeyId']['Fn::GetAtt'][0].startswith('EncryptionKey')
        work = 'Work' in logical_id and 'DeadLetters' not in logical_id
        assert queue['Properties']['MessageRetentionPeriod'] == (2 * 3600 if work else 14 * 86400), logical_id
        denies = [
            statement
            for policy in policies
            if logical_id in json.dumps(policy['Queues'])
            for statement in policy['PolicyDocument']['Statement']
            if statement['Effect'] == 'Deny'
            and statement.get('Condition') == {'Bool': {'aws:SecureTransport': 'false'}}
        ]
        assert denies, f'{logical_id} accepts plain HTTP'


def test_streamer_events_trigger_the_fast_path_with_account_and_symbol(full: Any) -> None:
    ensure_stops = full.logical_id('AWS::Lambda::Function', 'FunctionName', FAST_PATH_FUNCTION)
    full.template.has_resource_properties('AWS::Events::EventBus', {'Name': 'tastyguard'})
    full.template.has_resource_properties(
        'AWS::Events::Rule',
        {
            'EventBusName': {'Ref': Match.string_like_regexp('^EventsBus')},
            'EventPattern': {
                'source': ['tastyguard.streamer'],
                'detail-type': ['OrderFilled', 'PositionChanged', 'StopRatchet', 'OrderEnded'],
            },
            'Targets': [
                {
                    'Arn': {'Fn::GetAtt': [ensure_stops, 'Arn']},
                    'InputTransformer': {
                        'InputPathsMap': {
                            'detail-account': '$.detail.account',
                            'detail-symbol': '$.detail.symbol',
                            'id': '$.id',
                        },
                        'InputTemplate': (
                            '{"job":"ensure_stops","account":<detail-account>,"symbol":<detail-symbol>,"event_id":<id>}'
                        ),
                    },
                    'RetryPolicy': {'MaximumRetryAttempts': 2, 'MaximumEventAgeInSeconds': 600},
                    'DeadLetterConfig': {
                        'Arn': {'Fn::GetAtt': [Match.string_like_regexp('StreamerEventDeadLetters'), 'Arn']}
                    },
                    'Id': Match.any_value(),
                }
            ],
        },
    )


def test_the_kill_switch_starts_released(full: Any) -> None:
    full.template.has_resource_properties(
        'AWS::SSM::Parameter',
        {'Name': '/tastyguard/kill-switch', 'Type': 'String', 'Value': '{"engaged": false}', 'Tier': 'Standard'},
    )


def test_outputs_name_what_the_user_needs_after_deploy(full: Any) -> None:
    outputs = full.json['Outputs']
    assert outputs['BrokerSecretName']['Value'] == 'tastyguard/broker'
    assert outputs['KillSwitchParameter']['Value'] == '/tastyguard/kill-switch'
    assert {'TopicArn', 'EventBusName'} <= set(outputs)
