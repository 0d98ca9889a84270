"""A second configuration: no Slack, no email, no digest, round-the-clock schedules, a new AWS account."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from infra import constants as c

pytestmark = pytest.mark.infra

MINIMAL_CONFIG: dict[str, Any] = {
    'environment': 'paper',
    'accounts': [{'account_number': '5WX01234'}],
    'notifications': {'digest': False},
    'schedules': {
        'timezone': 'America/Chicago',
        'market_hours_only': False,
        'ensure_stops_minutes': 1,
        'sync_positions_minutes': 10,
        'reconcile_orders_minutes': 120,
    },
}


@pytest.fixture(scope='module')
def minimal(synth_config: Callable[..., Any], tmp_path_factory: pytest.TempPathFactory) -> Any:
    return synth_config(MINIMAL_CONFIG, tmp_path_factory.mktemp('cdk-minimal'), reserved_concurrency=False)


def test_without_slack_there_is_no_notifier_secret_or_queue(minimal: Any) -> None:
    jobs = {f'tastyguard-{job.replace("_", "-")}' for job in c.JOBS}
    assert set(minimal.functions()) == {*jobs, 'tastyguard-dispatch', 'tastyguard-fast-path'}
    minimal.template.resource_count_is('AWS::SecretsManager::Secret', 2)
    minimal.template.resource_count_is('AWS::SNS::Subscription', 0)
    minimal.template.resource_count_is('AWS::SQS::Queue', 4 + len(c.JOBS))  # dead letters + a work queue per job


def test_without_the_digest_its_function_stays_but_is_not_scheduled(minimal: Any) -> None:
    names = {schedule['Properties']['Name'] for schedule in minimal.resources('AWS::Scheduler::Schedule').values()}
    # sync_positions every 10 minutes is not scheduled either: ensure_stops reads positions every minute
    assert names == {'tastyguard-ensure-stops', 'tastyguard-reconcile-orders'}
    assert 'tastyguard-digest' in minimal.functions()


def test_round_the_clock_schedules_in_the_configured_zone(minimal: Any) -> None:
    expressions = {
        schedule['Properties']['Name']: (
            schedule['Properties']['ScheduleExpression'],
            schedule['Properties']['ScheduleExpressionTimezone'],
        )
        for schedule in minimal.resources('AWS::Scheduler::Schedule').values()
    }
    assert expressions == {
        'tastyguard-ensure-stops': ('cron(* * ? * * *)', 'America/Chicago'),
        'tastyguard-reconcile-orders': ('cron(3 */2 ? * * *)', 'America/Chicago'),
    }


def test_a_one_minute_job_times_out_well_inside_its_minute(minimal: Any) -> None:
    assert minimal.functions()['tastyguard-ensure-stops']['Timeout'] == 30


def test_reserved_concurrency_can_be_switched_off_for_new_accounts(minimal: Any) -> None:
    for name, props in minimal.functions().items():
        assert 'ReservedConcurrentExecutions' not in props, name


def test_the_dead_mans_switch_window_grows_with_the_job_period(minimal: Any) -> None:
    alarms = {
        a['Properties']['AlarmName']: a['Properties'] for a in minimal.resources('AWS::CloudWatch::Alarm').values()
    }
    assert alarms['tastyguard-ensure-stops-no-completed-run']['EvaluationPeriods'] == 6
    attempted = alarms['tastyguard-ensure-stops-runs-attempted']
    periods = {query['MetricStat']['Period'] for query in attempted['Metrics'] if 'MetricStat' in query}
    assert periods == {60}


def test_cdk_nag_stops_the_synth_on_an_unacknowledged_finding(stack_for: Callable[..., Any], tmp_path: Path) -> None:
    # Given the stack plus a queue without a dead-letter queue or TLS enforcement (AwsSolutions-SQS3/SQS4)
    _, stack = stack_for(MINIMAL_CONFIG, tmp_path)
    sqs.Queue(stack, 'Careless')
    # When it is synthesized, Then the cdk-nag plugin fails it
    with pytest.raises(RuntimeError, match=r'(?s)ValidationFailed.*AwsSolutions-SQS3.*AwsSolutions-SQS4'):
        Template.from_stack(stack)
