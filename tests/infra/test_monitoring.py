"""Alarms: every failure path ends in a notification, and the dead-man's switch only pages in session."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import constants as c

pytestmark = pytest.mark.infra

TASTYGUARD_DIMENSIONS = [{'Name': 'job', 'Value': 'ensure_stops'}, {'Name': 'service', 'Value': 'tastyguard'}]


def alarms(full: Any) -> dict[str, dict[str, Any]]:
    """Alarm name -> properties (metric and composite alarms)."""
    found = {**full.resources('AWS::CloudWatch::Alarm'), **full.resources('AWS::CloudWatch::CompositeAlarm')}
    return {props['Properties'].get('AlarmName', key): props['Properties'] for key, props in found.items()}


def topic_id(full: Any) -> str:
    return str(full.logical_id('AWS::SNS::Topic', 'TopicName', 'tastyguard-notifications'))


def sorted_dimensions(metric: dict[str, Any]) -> list[dict[str, str]]:
    return sorted(metric['Dimensions'], key=lambda dimension: dimension['Name'])


def test_every_function_alarms_on_any_error(full: Any) -> None:
    by_name = alarms(full)
    for name in full.functions():
        alarm = by_name[f'{name}-errors']
        assert (alarm['Namespace'], alarm['MetricName'], alarm['Statistic']) == ('AWS/Lambda', 'Errors', 'Sum')
        assert (alarm['ComparisonOperator'], alarm['Threshold'], alarm['EvaluationPeriods']) == (
            'GreaterThanThreshold',
            0,
            1,
        )
        assert alarm['TreatMissingData'] == 'notBreaching'


def test_jobs_alarm_on_sustained_throttling(full: Any) -> None:
    by_name = alarms(full)
    for name in (
        'tastyguard-sync-positions',
        'tastyguard-ensure-stops',
        'tastyguard-reconcile-orders',
        'tastyguard-digest',
    ):
        alarm = by_name[f'{name}-throttled']
        assert alarm['MetricName'] == 'Throttles'
        assert (alarm['EvaluationPeriods'], alarm['DatapointsToAlarm']) == (3, 3)


def test_every_dead_letter_queue_alarms_on_its_first_message(full: Any) -> None:
    by_name = alarms(full)
    queue_alarms = [a for a in by_name.values() if a.get('MetricName') == 'ApproximateNumberOfMessagesVisible']
    alarmed = {alarm['Dimensions'][0]['Value']['Fn::GetAtt'][0] for alarm in queue_alarms}
    dead_letter_queues = {key for key in full.resources('AWS::SQS::Queue') if 'DeadLetters' in key or 'Failures' in key}
    assert alarmed == dead_letter_queues  # work queues hold messages by design: their age is alarmed instead
    for alarm in queue_alarms:
        assert (alarm['Statistic'], alarm['ComparisonOperator'], alarm['Threshold']) == (
            'Maximum',
            'GreaterThanThreshold',
            0,
        )


def test_unprotected_positions_alarm_after_three_five_minute_periods(full: Any) -> None:
    alarm = alarms(full)['tastyguard-positions-unprotected']
    assert (alarm['Namespace'], alarm['MetricName'], alarm['Statistic']) == (
        'tastyguard',
        'PositionsUnprotected',
        'Maximum',
    )
    assert sorted_dimensions(alarm) == TASTYGUARD_DIMENSIONS
    assert (alarm['Period'], alarm['EvaluationPeriods'], alarm['DatapointsToAlarm']) == (300, 3, 3)
    assert (alarm['ComparisonOperator'], alarm['Threshold']) == ('GreaterThanThreshold', 0)


def test_dead_mans_switch_pages_only_when_runs_are_attempted_but_none_completes(full: Any) -> None:
    by_name = alarms(full)
    # Given the two halves of the switch
    no_run = by_name['tastyguard-ensure-stops-no-completed-run']
    attempted = by_name['tastyguard-ensure-stops-runs-attempted']
    switch = by_name['tastyguard-ensure-stops-dead-mans-switch']
    # Then "no completed run" covers 30 minutes, missing data counting as no run
    assert (no_run['MetricName'], no_run['Statistic'], no_run['Period']) == ('RunsCompleted', 'Sum', 300)
    assert sorted_dimensions(no_run) == TASTYGUARD_DIMENSIONS
    assert (no_run['EvaluationPeriods'], no_run['DatapointsToAlarm']) == (6, 6)
    assert (no_run['ComparisonOperator'], no_run['Threshold']) == ('LessThanThreshold', 1)
    assert no_run['TreatMissingData'] == 'breaching'
    # And "runs attempted" is the session window the job itself reports (completed + skipped + failed)
    expression = next(query for query in attempted['Metrics'] if 'Expression' in query)
    assert expression['Expression'] == 'completed + skipped + failed'
    names = {query['MetricStat']['Metric']['MetricName'] for query in attempted['Metrics'] if 'MetricStat' in query}
    assert names == {'RunsCompleted', 'RunsSkipped', 'RunsFailed'}
    assert (attempted['EvaluationPeriods'], attempted['DatapointsToAlarm']) == (3, 2)
    assert attempted['TreatMissingData'] == 'notBreaching'
    # And neither half notifies by itself; only the composite of both does
    assert 'AlarmActions' not in no_run
    assert 'AlarmActions' not in attempted
    rule = str(switch['AlarmRule'])
    assert 'no-completed-run' in rule or 'NoCompletedRun' in rule
    assert 'RunsAttempted' in rule or 'runs-attempted' in rule
    assert ' AND ' in rule


def test_every_alarm_that_notifies_notifies_the_topic(full: Any) -> None:
    topic = topic_id(full)
    notifying = [props for props in alarms(full).values() if 'AlarmActions' in props]
    # the two silent halves of the dead-man's switch, and the silent "no heartbeat" half of "streamer silent"
    assert len(notifying) == len(alarms(full)) - 3
    for props in notifying:
        assert props['AlarmActions'] == [{'Ref': topic}]


def test_cloudwatch_may_use_the_key_of_the_encrypted_topic(full: Any) -> None:
    key = next(iter(full.resources('AWS::KMS::Key').values()))
    statements = key['Properties']['KeyPolicy']['Statement']
    assert any(
        statement.get('Principal') == {'Service': 'cloudwatch.amazonaws.com'}
        and set(statement['Action']) == {'kms:Decrypt', 'kms:GenerateDataKey*'}
        for statement in statements
    )


def test_cloudwatch_of_this_account_may_publish_to_the_topic(full: Any) -> None:
    (policy,) = full.resources('AWS::SNS::TopicPolicy').values()
    assert any(
        statement.get('Principal') == {'Service': 'cloudwatch.amazonaws.com'}
        and statement['Action'] == 'sns:Publish'
        and statement['Condition'] == {'StringEquals': {'aws:SourceAccount': {'Ref': 'AWS::AccountId'}}}
        for statement in policy['Properties']['PolicyDocument']['Statement']
    )


def test_a_tick_that_outlasts_its_period_alarms(full: Any) -> None:
    by_name = alarms(full)
    for job, period in (('ensure-stops', 300), ('reconcile-orders', 900)):
        alarm = by_name[f'tastyguard-{job}-tick-unfinished']
        assert (alarm['Namespace'], alarm['MetricName'], alarm['Statistic']) == ('tastyguard', 'TicksUnfinished', 'Sum')
        assert (alarm['Period'], alarm['Threshold'], alarm['ComparisonOperator']) == (
            period,
            0,
            'GreaterThanThreshold',
        )
        assert {'Name': 'job', 'Value': job.replace('-', '_')} in alarm['Dimensions']
    assert 'tastyguard-digest-tick-unfinished' not in by_name


def test_failed_account_runs_and_a_queue_falling_behind_alarm(full: Any) -> None:
    by_name = alarms(full)
    failed = by_name['tastyguard-ensure-stops-account-runs-failed']
    assert (failed['MetricName'], failed['Statistic'], failed['Threshold']) == ('RunsFailed', 'Sum', 0)
    behind = by_name['tastyguard-ensure-stops-work-queue-behind']
    assert (behind['MetricName'], behind['Threshold']) == ('ApproximateAgeOfOldestMessage', 300)
    assert 'EnsureStopsWork' in behind['Dimensions'][0]['Value']['Fn::GetAtt'][0]


def test_streamer_silent_pages_only_when_no_heartbeat_arrives_in_session(full: Any) -> None:
    by_name = alarms(full)
    # Given the two parts of "streamer silent"
    no_heartbeat = by_name['tastyguard-streamer-no-heartbeat']
    silent = by_name['tastyguard-streamer-silent']
    # Then "no heartbeat" is the streamer's StreamerHeartbeat (service dimension only) below 1 for 10 minutes,
    # missing data counting as silence
    assert (no_heartbeat['Namespace'], no_heartbeat['MetricName'], no_heartbeat['Statistic']) == (
        'tastyguard',
        'StreamerHeartbeat',
        'Sum',
    )
    assert no_heartbeat['Dimensions'] == [{'Name': 'service', 'Value': 'tastyguard'}]
    assert (no_heartbeat['Period'], no_heartbeat['EvaluationPeriods'], no_heartbeat['DatapointsToAlarm']) == (300, 2, 2)
    assert (no_heartbeat['ComparisonOperator'], no_heartbeat['Threshold']) == ('LessThanThreshold', 1)
    assert no_heartbeat['TreatMissingData'] == 'breaching'
    assert 'AlarmActions' not in no_heartbeat
    # And the composite pages only while the jobs attempt runs, i.e. in session (the dead-man's switch's window)
    rule = json.dumps(silent['AlarmRule'])
    assert 'NoStreamerHeartbeat' in rule and 'RunsAttempted' in rule and ' AND ' in rule
    assert silent['AlarmActions'] == [{'Ref': topic_id(full)}]


def test_the_streamer_metric_names_are_the_streamers_contract() -> None:
    assert (c.METRIC_STREAMER_HEARTBEAT, c.METRIC_STREAMER_RECONNECTS) == ('StreamerHeartbeat', 'StreamerReconnects')
