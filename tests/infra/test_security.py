"""No secret in the template, least-privilege IAM, cdk-nag clean with reasons, cfn-lint clean."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk import Validations
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import ManualArgs, lint

from infra import constants as c
from infra import nag
from tastyguard.store import control
from tastyguard.store.schema import IDEMPOTENCY_TABLE, STATE_TABLE

pytestmark = pytest.mark.infra

# A variable *named* like this would hold a secret value; tastyguard only passes secret *names* (…_SECRET).
SECRET_VALUE_NAME = re.compile(
    r'(PASSWORD|PASSWD|ACCESS_TOKEN|REFRESH_TOKEN|CLIENT_SECRET|WEBHOOK|API_KEY|PRIVATE_KEY|_TOKEN$)'
)
SECRET_NAME_VARIABLES = {'TASTYGUARD_BROKER_SECRET', 'TASTYGUARD_TOKEN_SECRET', 'TASTYGUARD_SLACK_SECRET'}


def statements(full: Any) -> list[tuple[str, dict[str, Any]]]:
    """(policy logical id, statement) for every IAM policy of the stack."""
    return [
        (logical_id, statement)
        for logical_id, policy in full.resources('AWS::IAM::Policy').items()
        for statement in policy['Properties']['PolicyDocument']['Statement']
    ]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_policy(full: Any, function_name: str) -> dict[str, dict[str, Any]]:
    """Sid (or the first action) -> statement, for one function's role."""
    props = full.functions()[function_name]
    role = props['Role']['Fn::GetAtt'][0]
    policies = [
        policy['Properties']['PolicyDocument']['Statement']
        for policy in full.resources('AWS::IAM::Policy').values()
        if policy['Properties']['Roles'] == [{'Ref': role}]
    ]
    assert len(policies) == 1
    return {statement.get('Sid') or as_list(statement['Action'])[0]: statement for statement in policies[0]}


def test_no_secret_value_is_in_the_template(full: Any) -> None:
    text = json.dumps(full.json)
    for secret in full.resources('AWS::SecretsManager::Secret').values():
        props = secret['Properties']
        # Then Secrets Manager generates every value at deploy time
        assert 'SecretString' not in props
        generated = props['GenerateSecretString']
        assert generated['GenerateStringKey'] == 'placeholder'
        # And the template only holds empty credential fields (nothing a login could use)
        assert all(value in ('', None) for value in json.loads(generated['SecretStringTemplate']).values())
        assert props['KmsKeyId']['Fn::GetAtt'][0].startswith('EncryptionKey')
    assert 'hooks.slack.com' not in text
    assert 'Bearer ' not in text


def test_no_function_variable_is_named_like_a_secret_value(full: Any) -> None:
    for name, props in full.functions().items():
        for variable, value in props['Environment']['Variables'].items():
            assert not SECRET_VALUE_NAME.search(variable), f'{name}: {variable}'
            if variable in SECRET_NAME_VARIABLES:
                assert value in {'tastyguard/broker', 'tastyguard/access-token', 'tastyguard/slack-test'}, variable


# Actions AWS offers no resource-level permissions for, so Resource "*" is the only way to grant them.
WILDCARD_ONLY_ACTIONS = (
    {'xray:PutTraceSegments', 'xray:PutTelemetryRecords'},  # the functions' active tracing
    {'ecr:GetAuthorizationToken'},  # the streamer's execution role, to pull its image
)


def test_the_only_wildcard_resources_are_xray_and_the_ecr_login(full: Any) -> None:
    for logical_id, statement in statements(full):
        for resource in as_list(statement['Resource']):
            if resource == '*':
                assert set(as_list(statement['Action'])) in WILDCARD_ONLY_ACTIONS, logical_id
                if 'ecr:GetAuthorizationToken' in as_list(statement['Action']):
                    assert logical_id.startswith('StreamerExecutionRole'), logical_id
            if isinstance(resource, dict) and ':*' in json.dumps(resource):
                # `<function ARN>:*` (versions/aliases of one function) is granted with Scheduler's invoke only
                assert as_list(statement['Action']) == ['lambda:InvokeFunction'], logical_id
        for action in as_list(statement['Action']):
            assert '*' not in action, f'{logical_id}: {action}'


def test_job_roles_hold_exactly_what_the_jobs_use(full: Any) -> None:
    # Given the ensure_stops role
    policy = role_policy(full, 'tastyguard-ensure-stops')
    # Then it reads and writes items of the two tables and nothing else of DynamoDB
    assert set(policy) == {
        'logs:CreateLogStream',
        'StateTable',
        'IdempotencyTable',
        'ReadBrokerGrant',
        'ShareAccessToken',
        'ReadKillSwitch',
        'Notify',
        'UseStackKey',
        'xray:PutTelemetryRecords',
        'sqs:GetQueueAttributes',
        'ConsumeWork',
    }
    assert policy['ConsumeWork']['Resource']['Fn::GetAtt'][0].startswith('FanoutEnsureStopsWork')
    assert set(policy['StateTable']['Action']) == set(c.STATE_TABLE_ACTIONS)
    assert set(policy['IdempotencyTable']['Action']) == {
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
    }
    # And it may only read the broker grant, but read and write the shared access token
    assert policy['ReadBrokerGrant']['Action'] == 'secretsmanager:GetSecretValue'
    assert set(policy['ShareAccessToken']['Action']) == {
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
    }
    assert policy['ReadKillSwitch']['Action'] == 'ssm:GetParameter'
    assert policy['Notify']['Action'] == 'sns:Publish'
    # And the key only through the services that hold data encrypted with it
    services = policy['UseStackKey']['Condition']['StringEquals']['kms:ViaService']
    assert [part['Fn::Join'][1][0] for part in services] == ['dynamodb.', 'secretsmanager.', 'sns.', 'sqs.']
    assert policy['sqs:GetQueueAttributes']['Resource']['Fn::GetAtt'][0].startswith('JobsRunFailures')


@pytest.mark.parametrize(
    ('function_name', 'publishes'),
    [
        ('tastyguard-sync-positions', True),
        ('tastyguard-reconcile-orders', True),
        ('tastyguard-ensure-stops', False),
        ('tastyguard-digest', False),
    ],
)
def test_only_the_detecting_jobs_may_publish_events(full: Any, function_name: str, publishes: bool) -> None:
    policy = role_policy(full, function_name)
    assert ('PublishEvents' in policy) is publishes
    if publishes:
        assert policy['PublishEvents']['Resource']['Fn::GetAtt'][0].startswith('EventsBus')


def test_the_dispatcher_sends_work_but_never_touches_the_kill_switch(full: Any) -> None:
    policy = role_policy(full, 'tastyguard-dispatch')
    assert {'StateTable', 'IdempotencyTable', 'ReadBrokerGrant', 'ShareAccessToken', 'Notify', 'SendWork'} <= set(
        policy
    )
    assert 'ReadKillSwitch' not in policy and 'ConsumeWork' not in policy
    assert policy['SendWork']['Action'] == 'sqs:SendMessage'
    sent_to = {resource['Fn::GetAtt'][0] for resource in policy['SendWork']['Resource']}
    assert len(sent_to) == len(c.JOBS) and all('Work' in queue for queue in sent_to)


def test_the_notifier_may_only_read_the_slack_secret(full: Any) -> None:
    policy = role_policy(full, 'tastyguard-notify-slack')
    assert policy['ReadSlackWebhook']['Resource'] == {
        'Ref': full.logical_id('AWS::SecretsManager::Secret', 'Name', 'tastyguard/slack-test')
    }
    assert policy['DecryptSlackWebhook']['Action'] == 'kms:Decrypt'
    assert not {'StateTable', 'ReadBrokerGrant', 'ShareAccessToken', 'Notify'} & set(policy)


def test_scheduler_roles_trust_only_scheduler_in_this_account(full: Any) -> None:
    roles = [r for r in full.resources('AWS::IAM::Role').values() if 'Scheduler' in r['Properties']['Description']]
    assert len(roles) == 3  # ensure_stops, reconcile_orders, digest (sync_positions rides on ensure_stops)
    for role in roles:
        (statement,) = role['Properties']['AssumeRolePolicyDocument']['Statement']
        assert statement['Principal'] == {'Service': 'scheduler.amazonaws.com'}
        assert statement['Condition'] == {'StringEquals': {'aws:SourceAccount': {'Ref': 'AWS::AccountId'}}}


def test_cdk_nag_aws_solutions_has_no_unacknowledged_finding(full: Any) -> None:
    violations = AwsSolutionsChecks().validate_scope(full.app).violations
    assert [(v.rule_name, v.description) for v in violations] == []


def test_every_acknowledgement_gives_a_reason(full: Any) -> None:
    # Given every acknowledgement recorded anywhere in the construct tree
    acknowledged = [
        entry.data
        for construct in full.app.node.find_all()
        for entry in construct.node.metadata
        if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    ]
    rules = {rule: reason for data in acknowledged for rule, reason in data.items()}
    # Then there are some, each with a real sentence of reason, all written in infra/nag.py
    assert rules
    known = {finding.reason for finding in nag.ALL_FINDINGS} | {nag.scheduler_invoke_qualifiers('x').reason}
    for rule, reason in rules.items():
        if rule in CDK_OWN_ACKNOWLEDGEMENTS:  # made by the CDK's Vpc and FlowLog constructs, with their reason
            assert CDK_OWN_ACKNOWLEDGEMENTS[rule] in reason, rule
            continue
        assert rule.startswith('Annotation::AwsSolutions-'), rule
        assert reason in known, rule


# The CDK acknowledges these findings of its own CloudFormation validation itself (not ours to explain).
CDK_OWN_ACKNOWLEDGEMENTS = {
    'CloudFormation-Validate::W3010': 'result of accessing stack.availabilityZones',  # the VPC's subnets
    'CloudFormation-Validate::F3002': 'FlowLog DestinationOptions accepts properties in camelCase',
    'CloudFormation-Validate::F3003': 'FlowLog DestinationOptions accepts properties in camelCase',
}


def test_cfn_lint_finds_nothing_but_cdks_redundant_depends_on(full: Any) -> None:
    # W3005: the CDK adds DependsOn from each function to its role's policy, which cfn-lint calls redundant.
    matches = lint(json.dumps(full.json), config=ManualArgs(regions=['us-east-1'], ignore_checks=['W3005']))
    assert [str(match) for match in matches] == []


def test_the_kill_switch_is_where_the_jobs_and_cli_look_for_it() -> None:
    assert c.KILL_SWITCH_PARAMETER == control.DEFAULT_KILL_SWITCH_PARAMETER


def test_table_variables_come_from_the_schema() -> None:
    assert (STATE_TABLE.env_var, IDEMPOTENCY_TABLE.env_var) == (c.ENV_STATE_TABLE, c.ENV_IDEMPOTENCY_TABLE)
