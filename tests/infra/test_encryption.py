"""The stack key: what it encrypts, and that everyone who must write encrypted data may use it, and no more.

A queue or log group encrypted with a key its writers cannot use deploys fine and then silently loses what
it exists to keep, so the grants are checked against the template's own wiring: every sender a queue or
destination names, and every log group that exists.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template

from infra import constants as c

pytestmark = pytest.mark.infra

# Pseudo parameters for rendering ARNs out of the region-agnostic template.
PSEUDO = {'AWS::Partition': 'aws', 'AWS::Region': 'us-east-1', 'AWS::AccountId': '123456789012'}
SENDER_ACTIONS = {'kms:GenerateDataKey', 'kms:Decrypt'}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def key_id(full: Any) -> str:
    (logical_id,) = full.resources('AWS::KMS::Key')
    return str(logical_id)


def key_statements(full: Any) -> list[dict[str, Any]]:
    (key,) = full.resources('AWS::KMS::Key').values()
    return list(key['Properties']['KeyPolicy']['Statement'])


def render(full: Any, value: Any) -> str:
    """An ARN or name as CloudFormation would resolve it in account 123456789012, us-east-1."""
    if isinstance(value, str):
        return value
    if 'Fn::Join' in value:
        separator, parts = value['Fn::Join']
        return str(separator).join(render(full, part) for part in parts)
    if 'Ref' in value and value['Ref'] in PSEUDO:
        return PSEUDO[value['Ref']]
    region, account = PSEUDO['AWS::Region'], PSEUDO['AWS::AccountId']
    resources = full.json['Resources']
    if 'Ref' in value and resources[value['Ref']]['Type'] == 'AWS::SNS::Topic':
        return f'arn:aws:sns:{region}:{account}:{resources[value["Ref"]]["Properties"]["TopicName"]}'
    if 'Ref' in value and resources[value['Ref']]['Type'] == 'AWS::Events::EventBus':
        return str(resources[value['Ref']]['Properties']['Name'])
    if 'Fn::GetAtt' in value and resources[value['Fn::GetAtt'][0]]['Type'] == 'AWS::Events::Rule':
        props = resources[value['Fn::GetAtt'][0]]['Properties']
        return f'arn:aws:events:{region}:{account}:rule/{render(full, props["EventBusName"])}/{props["Name"]}'
    raise AssertionError(f'cannot render {value}')


def uses_the_key_through_sqs(full: Any, statement: dict[str, Any]) -> bool:
    """The statement lets its principal get a data key and decrypt with the stack key, through SQS only."""
    via = statement.get('Condition', {}).get('StringEquals', {}).get('kms:ViaService')
    return (
        set(as_list(statement['Action'])) >= SENDER_ACTIONS
        and statement['Resource'] == {'Fn::GetAtt': [key_id(full), 'Arn']}
        and via is not None
        and f'sqs.{PSEUDO["AWS::Region"]}.amazonaws.com' in {render(full, service) for service in as_list(via)}
    )


def test_every_queue_is_encrypted_with_the_stack_key(full: Any) -> None:
    for logical_id, queue in full.resources('AWS::SQS::Queue').items():
        assert queue['Properties']['KmsMasterKeyId'] == {'Fn::GetAtt': [key_id(full), 'Arn']}, logical_id
        assert 'SqsManagedSseEnabled' not in queue['Properties'], logical_id


def test_every_log_group_is_encrypted_with_the_stack_key(full: Any) -> None:
    groups = full.resources('AWS::Logs::LogGroup')
    functions = len(full.resources('AWS::Lambda::Function'))
    assert len(groups) == functions + 3  # a group per function; the streamer's logs, VPC flow logs, Container Insights
    for logical_id, group in groups.items():
        assert group['Properties']['KmsKeyId'] == {'Fn::GetAtt': [key_id(full), 'Arn']}, logical_id


def test_cloudwatch_logs_may_use_the_key_for_exactly_the_stacks_log_groups(full: Any) -> None:
    # Given the key policy statements for CloudWatch Logs
    (statement,) = [s for s in key_statements(full) if 'logs.' in json.dumps(s.get('Principal', {}))]
    # Then the principal is CloudWatch Logs of this region, with the actions AWS documents for log groups
    assert render(full, statement['Principal']['Service']) == 'logs.us-east-1.amazonaws.com'
    assert set(statement['Action']) == set(c.LOGS_KEY_ACTIONS)
    # And the encryption context names every log group of the stack and nothing else
    (condition,) = statement['Condition'].values()
    allowed = {render(full, arn) for arn in condition[c.LOGS_ENCRYPTION_CONTEXT]}
    names = {group['Properties']['LogGroupName'] for group in full.resources('AWS::Logs::LogGroup').values()}
    assert allowed == {f'arn:aws:logs:us-east-1:123456789012:log-group:{name}' for name in names}
    assert list(statement['Condition']) == ['ArnEquals']


def test_every_role_that_sends_to_a_queue_may_encrypt_through_sqs(full: Any) -> None:
    # Given every IAM policy that lets a role send to one of the queues (Lambda destinations, Scheduler DLQs)
    queues = set(full.resources('AWS::SQS::Queue'))
    senders = {
        logical_id: policy['Properties']['PolicyDocument']['Statement']
        for logical_id, policy in full.resources('AWS::IAM::Policy').items()
        if any(
            'sqs:SendMessage' in as_list(statement['Action'])
            and isinstance(statement['Resource'], dict)
            and statement['Resource'].get('Fn::GetAtt', [''])[0] in queues
            for statement in policy['Properties']['PolicyDocument']['Statement']
        )
    }
    # Then every sender (the job functions and their schedules' roles, the fast path, the dispatcher, the
    # notifier) may use the key through SQS
    assert len(senders) == 10
    for logical_id, policy_statements in senders.items():
        assert any(uses_the_key_through_sqs(full, statement) for statement in policy_statements), logical_id


def test_every_service_a_queue_admits_may_use_the_key_for_the_same_source_only(full: Any) -> None:
    # Given the services that queue policies let send (SNS for the notifier, EventBridge for streamer events)
    admitted = {
        (statement['Principal']['Service'], render(full, statement['Condition']['ArnEquals']['aws:SourceArn']))
        for policy in full.resources('AWS::SQS::QueuePolicy').values()
        for statement in policy['Properties']['PolicyDocument']['Statement']
        if statement['Effect'] == 'Allow' and 'Service' in statement.get('Principal', {})
    }
    assert admitted == {
        ('sns.amazonaws.com', 'arn:aws:sns:us-east-1:123456789012:tastyguard-notifications'),
        (
            'events.amazonaws.com',
            'arn:aws:events:us-east-1:123456789012:rule/tastyguard/tastyguard-streamer-to-ensure-stops',
        ),
    }
    # Then the key policy lets exactly those services get a data key and decrypt, for that source only
    allowed = {
        (statement['Principal']['Service'], render(full, statement['Condition']['ArnEquals']['aws:SourceArn']))
        for statement in key_statements(full)
        if set(as_list(statement['Action'])) == SENDER_ACTIONS and 'Service' in statement.get('Principal', {})
    }
    assert allowed == admitted


def test_the_jobs_and_the_streamer_use_the_key_only_through_the_services_that_hold_their_data(full: Any) -> None:
    users = {}
    for logical_id, policy in full.resources('AWS::IAM::Policy').items():
        for statement in policy['Properties']['PolicyDocument']['Statement']:
            if statement.get('Sid') == 'UseStackKey':
                via = statement['Condition']['StringEquals']['kms:ViaService']
                users[logical_id] = {render(full, service).split('.')[0] for service in via}
    for logical_id, services in users.items():
        if logical_id.startswith(('Jobs', 'FanoutDispatcher')):
            assert services == set(c.KEY_CONSUMER_SERVICES) == {'dynamodb', 'secretsmanager', 'sns', 'sqs'}
        else:
            # the streamer sends to no queue: the table, the secrets, the topic
            assert logical_id.startswith('StreamerTaskRole'), logical_id
            assert services == {'dynamodb', 'secretsmanager', 'sns'}
    assert len(users) == 7  # the 4 jobs, the fast path, the dispatcher, the streamer's task role


def test_a_log_group_without_a_fixed_name_stops_the_synth(stack_for: Callable[..., Any], tmp_path: Path) -> None:
    # Given the stack plus a log group whose name CloudFormation would generate
    _, stack = stack_for({'environment': 'paper', 'accounts': [{'account_number': '5WX01234'}]}, tmp_path)
    logs.LogGroup(stack, 'Unnamed')
    # When it is synthesized, Then the encryption aspect refuses it and says what to do
    with pytest.raises(RuntimeError, match=r'Unnamed.*needs a fixed log_group_name'):
        Template.from_stack(stack)
