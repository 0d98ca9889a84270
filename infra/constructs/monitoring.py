"""Alarms to the notification topic, and a small dashboard.

Alarms: every function's errors, sustained job throttling, every dead-letter queue's depth, positions left
without a stop, a dead-man's switch on ``ensure_stops``, and for the fan-out: a tick that had not finished
when the next one was due (the dispatcher's ``TicksUnfinished``), failed account runs (``RunsFailed``) and
a work queue whose oldest message is older than its job's period. The jobs publish ``PositionsUnprotected`` and
``RunsCompleted`` with Powertools Metrics in namespace ``tastyguard`` with dimensions ``service=tastyguard``
and ``job=<job>``.

The dead-man's switch. CloudWatch alarms cannot be limited to market hours, and ``RunsCompleted`` is
naturally zero or absent every evening, weekend and holiday, so "no completed run = alarm" alone would page
every evening. The switch is therefore a composite alarm of two metric alarms without actions of their own:

* ``no completed run``: ``RunsCompleted`` (Sum) < 1 in every 5-minute period of the last 30 minutes (or of
  two job periods, if longer), missing data breaching. It sits in ALARM every night, silently.
* ``runs attempted``: ``RunsCompleted + RunsSkipped + RunsFailed`` >= 1 in at least 2 of the last 3 job
  periods, missing data not breaching. The job counts an account run only when the market calendar says
  the session is on (outside it, and on holidays, it reports zeros), so this alarm *is* the market-hours
  window, daylight saving, holidays and early closes included. Needing 2 of 3 periods arms it only after
  the first runs of the day had time to report, so the first alarm's overnight state never pages at the open.

The composite (``no completed run AND runs attempted``) pages when runs are attempted in session but none
completes for 30 minutes: a stuck lease, a broker that keeps failing, a grant that needs re-authorizing.
A job that crashes before it reports raises the Errors alarm; a schedule that cannot invoke the job fills
the tick dead-letter queue; throttled runs raise the throttle alarm and age into the run-failure queue.
(Lambda ``Invocations`` was the other candidate for the second alarm, but the schedule runs past the
session and on holidays, where the job rightly completes nothing: it would page every afternoon.)

"Streamer silent" follows the same pattern: ``StreamerHeartbeat`` (one a minute from the streamer while both
its sockets are healthy, dimension ``service=tastyguard``) below 1 in two 5-minute periods, missing data
breaching, AND the same "runs attempted" alarm. It pages only in session, whether the streamer runs all
day (``streamer.hours=always``) or only in market hours.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants as c
from infra.constructs.dead_letters import DeadLetterQueue
from infra.constructs.function import TastyguardFunction

_GT = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
_NOT_BREACHING = cloudwatch.TreatMissingData.NOT_BREACHING


def service_metric(name: str, *, statistic: str, period: Duration = c.ALARM_PERIOD) -> cloudwatch.Metric:
    """A metric the streamer publishes (namespace ``tastyguard``, dimension service only)."""
    return cloudwatch.Metric(
        namespace=c.METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={c.METRIC_DIMENSION_SERVICE: c.SERVICE},
        statistic=statistic,
        period=period,
    )


def job_metric(name: str, job: str, *, statistic: str, period: Duration = c.ALARM_PERIOD) -> cloudwatch.Metric:
    """A metric a job publishes through Powertools (namespace ``tastyguard``, dimensions service + job)."""
    return cloudwatch.Metric(
        namespace=c.METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={c.METRIC_DIMENSION_SERVICE: c.SERVICE, c.METRIC_DIMENSION_JOB: job},
        statistic=statistic,
        period=period,
    )


class Monitoring(Construct):
    """Everything that should wake the user up goes to the topic (and from there to email and Slack)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic: sns.ITopic,
        jobs: Mapping[str, TastyguardFunction],
        notifier: TastyguardFunction | None,
        dead_letters: Sequence[DeadLetterQueue],
        ensure_stops_minutes: int,
        extra_functions: Sequence[TastyguardFunction] = (),
        work_queues: Mapping[str, sqs.IQueue] | None = None,
        periods: Mapping[str, int | None] | None = None,
        streamer: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self._action = actions.SnsAction(topic)
        self.alarms: list[cloudwatch.AlarmBase] = []
        functions = [*jobs.values(), *extra_functions, *([notifier] if notifier else [])]
        for function in functions:
            self._alarm(
                f'{function.function_name}-errors',
                function.function.metric_errors(period=c.ALARM_PERIOD, statistic='Sum'),
                f'{function.function_name} failed (see its log group)',
            )
        for function in jobs.values():
            self._alarm(
                f'{function.function_name}-throttled',
                function.function.metric_throttles(period=c.ALARM_PERIOD, statistic='Sum'),
                f'{function.function_name} was throttled for 15 minutes: runs are overlapping or the account is '
                'out of Lambda concurrency',
                periods=c.THROTTLE_EVALUATION_PERIODS,
            )
        for queue in dead_letters:
            self._alarm(
                f'{c.SERVICE}-{queue.slug}',
                queue.queue.metric_approximate_number_of_messages_visible(period=c.ALARM_PERIOD, statistic='Maximum'),
                f'dead letters waiting: {queue.purpose}',
            )
        self._alarm(
            f'{c.SERVICE}-positions-unprotected',
            job_metric(c.METRIC_POSITIONS_UNPROTECTED, c.EVENT_JOB, statistic='Maximum'),
            'a position has had no protective stop for 15 minutes',
            periods=c.UNPROTECTED_EVALUATION_PERIODS,
        )
        for job, queue in (work_queues or {}).items():
            period = (periods or {}).get(job)
            if period is None:
                continue  # the daily digest: its errors and dead letters are alarmed already
            self._fanout_alarms(job, queue, period)
        self.dead_mans_switch = self._dead_mans_switch(ensure_stops_minutes)
        self.streamer_silent = self._streamer_silent() if streamer else None
        self.dashboard = self._dashboard(jobs, dead_letters, streamer=streamer)

    def _fanout_alarms(self, job: str, queue: sqs.IQueue, period_minutes: int) -> None:
        slug = job.replace('_', '-')
        period = Duration.minutes(max(period_minutes, int(c.ALARM_PERIOD.to_minutes())))
        self._alarm(
            f'{c.SERVICE}-{slug}-tick-unfinished',
            job_metric(c.METRIC_TICKS_UNFINISHED, job, statistic='Sum', period=period),
            f'a {job} tick had not finished all its accounts when the next tick was due: the sweep is slower than '
            'its period (broker slow or throttling, too many accounts for the grant, too little concurrency)',
        )
        self._alarm(
            f'{c.SERVICE}-{slug}-account-runs-failed',
            job_metric(c.METRIC_RUNS_FAILED, job, statistic='Sum'),
            f'{job} failed on at least one account (see the run records and the function log)',
        )
        age = cloudwatch.Alarm(
            self,
            f'{c.SERVICE}-{slug}-work-queue-behind',
            alarm_name=f'{c.SERVICE}-{slug}-work-queue-behind',
            alarm_description=f'the oldest {job} account run has waited longer than the job period',
            metric=queue.metric_approximate_age_of_oldest_message(period=c.ALARM_PERIOD, statistic='Maximum'),
            threshold=period_minutes * 60,
            comparison_operator=_GT,
            evaluation_periods=1,
            treat_missing_data=_NOT_BREACHING,
        )
        age.add_alarm_action(self._action)
        self.alarms.append(age)

    def _alarm(self, name: str, metric: cloudwatch.IMetric, description: str, *, periods: int = 1) -> None:
        alarm = cloudwatch.Alarm(
            self,
            name,
            alarm_name=name,
            alarm_description=description,
            metric=metric,
            threshold=0,
            comparison_operator=_GT,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            treat_missing_data=_NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        self.alarms.append(alarm)

    def _dead_mans_switch(self, period_minutes: int) -> cloudwatch.CompositeAlarm:
        step = int(c.ALARM_PERIOD.to_minutes())
        window = max(c.DEAD_MAN_MIN_WINDOW_MINUTES, 2 * period_minutes)
        window_periods = math.ceil(window / step)
        no_runs = cloudwatch.Alarm(
            self,
            'NoCompletedRun',
            alarm_name=f'{c.SERVICE}-ensure-stops-no-completed-run',
            alarm_description=f'part of the dead-man switch (no actions): no completed ensure_stops run in '
            f'{window_periods * step} minutes; in ALARM every night by design',
            metric=job_metric(c.METRIC_RUNS_COMPLETED, c.EVENT_JOB, statistic='Sum'),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=window_periods,
            datapoints_to_alarm=window_periods,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        period = Duration.minutes(period_minutes)
        attempted = cloudwatch.Alarm(
            self,
            'RunsAttempted',
            alarm_name=f'{c.SERVICE}-ensure-stops-runs-attempted',
            alarm_description='part of the dead-man switch (no actions): ensure_stops is attempting runs, i.e. '
            'the market session is on',
            metric=cloudwatch.MathExpression(
                expression='completed + skipped + failed',
                using_metrics={
                    'completed': job_metric(c.METRIC_RUNS_COMPLETED, c.EVENT_JOB, statistic='Sum', period=period),
                    'skipped': job_metric(c.METRIC_RUNS_SKIPPED, c.EVENT_JOB, statistic='Sum', period=period),
                    'failed': job_metric(c.METRIC_RUNS_FAILED, c.EVENT_JOB, statistic='Sum', period=period),
                },
                period=period,
                label='ensure_stops account runs attempted',
            ),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=c.DEAD_MAN_ACTIVE_PERIODS,
            datapoints_to_alarm=c.DEAD_MAN_ACTIVE_PERIODS - 1,
            treat_missing_data=_NOT_BREACHING,
        )
        self.session_on = attempted
        switch = cloudwatch.CompositeAlarm(
            self,
            'DeadMansSwitch',
            composite_alarm_name=f'{c.SERVICE}-ensure-stops-dead-mans-switch',
            alarm_description=f'ensure_stops is attempting runs in session but none has completed for '
            f'{window_periods * step} minutes: positions may be unwatched',
            alarm_rule=cloudwatch.AlarmRule.all_of(
                cloudwatch.AlarmRule.from_alarm(no_runs, cloudwatch.AlarmState.ALARM),
                cloudwatch.AlarmRule.from_alarm(attempted, cloudwatch.AlarmState.ALARM),
            ),
        )
        switch.add_alarm_action(self._action)
        self.alarms.append(switch)
        return switch

    def _streamer_silent(self) -> cloudwatch.CompositeAlarm:
        """No streamer heartbeat for two 5-minute periods while the session is on (see the module docstring)."""
        periods = c.STREAMER_SILENT_PERIODS
        minutes = periods * int(c.ALARM_PERIOD.to_minutes())
        no_heartbeat = cloudwatch.Alarm(
            self,
            'NoStreamerHeartbeat',
            alarm_name=f'{c.SERVICE}-streamer-no-heartbeat',
            alarm_description=f'part of "streamer silent" (no actions): no StreamerHeartbeat for {minutes} minutes; '
            'in ALARM whenever the streamer is stopped, by design',
            metric=service_metric(c.METRIC_STREAMER_HEARTBEAT, statistic='Sum'),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        silent = cloudwatch.CompositeAlarm(
            self,
            'StreamerSilent',
            composite_alarm_name=f'{c.SERVICE}-streamer-silent',
            alarm_description=f'the streamer has sent no heartbeat for {minutes} minutes while the market session is '
            'on: fills are protected by the 5-minute schedule only (docs/operations.md, "The streamer")',
            alarm_rule=cloudwatch.AlarmRule.all_of(
                cloudwatch.AlarmRule.from_alarm(no_heartbeat, cloudwatch.AlarmState.ALARM),
                cloudwatch.AlarmRule.from_alarm(self.session_on, cloudwatch.AlarmState.ALARM),
            ),
        )
        silent.add_alarm_action(self._action)
        self.alarms.append(silent)
        return silent

    def _dashboard(
        self, jobs: Mapping[str, TastyguardFunction], dead_letters: Sequence[DeadLetterQueue], *, streamer: bool
    ) -> cloudwatch.Dashboard:
        def graph(title: str, metrics: Sequence[cloudwatch.IMetric]) -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(title=title, left=list(metrics), width=8, height=6)

        functions = list(jobs.values())
        return cloudwatch.Dashboard(
            self,
            'Dashboard',
            dashboard_name=c.DASHBOARD_NAME,
            widgets=[
                [
                    graph(
                        'Runs completed', [job_metric(c.METRIC_RUNS_COMPLETED, job, statistic='Sum') for job in jobs]
                    ),
                    graph(
                        'Positions without a stop',
                        [job_metric(c.METRIC_POSITIONS_UNPROTECTED, c.EVENT_JOB, statistic='Maximum')],
                    ),
                    graph(
                        'Dead letters', [q.queue.metric_approximate_number_of_messages_visible() for q in dead_letters]
                    ),
                ],
                [
                    graph('Invocations', [f.function.metric_invocations() for f in functions]),
                    graph('Errors', [f.function.metric_errors() for f in functions]),
                    graph('Duration (p95)', [f.function.metric_duration(statistic='p95') for f in functions]),
                ],
                *(
                    [
                        [
                            graph(
                                'Streamer heartbeats and reconnects',
                                [
                                    service_metric(c.METRIC_STREAMER_HEARTBEAT, statistic='Sum'),
                                    service_metric(c.METRIC_STREAMER_RECONNECTS, statistic='Sum'),
                                ],
                            )
                        ]
                    ]
                    if streamer
                    else []
                ),
            ],
        )
