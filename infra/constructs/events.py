"""The streamer's event bus and the rule that turns a fill or a position change into an ``ensure_stops`` run
in the fast-path function (its own function: a fill never waits behind a sweep).

The Fargate streamer (a later issue) publishes ``OrderFilled`` / ``PositionChanged`` events with source
``tastyguard.streamer`` and ``detail.account`` / ``detail.symbol`` to this bus; it will need only
``events:PutEvents`` on :attr:`Events.bus`.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import constants as c
from infra.constructs.dead_letters import DeadLetterQueue


class Events(Construct):
    """A custom bus (so nothing else in the account can trigger tastyguard by accident) and its routing rule."""

    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(
            self,
            'Bus',
            event_bus_name=c.EVENT_BUS_NAME,
            description='tastyguard: fills and position changes from the streamer',
        )
        self.dead_letters = DeadLetterQueue(
            self, 'StreamerEventDeadLetters', purpose='streamer events not delivered to ensure_stops', key=key
        )
        self.rule: events.Rule | None = None

    def trigger(self, function: lambda_.IFunction) -> events.Rule:
        """Route the streamer's events to ``function`` as ``{"job", "account", "symbol", "event_id"}``."""
        self.rule = events.Rule(
            self,
            'StreamerToEnsureStops',
            rule_name=c.STREAMER_RULE_NAME,
            event_bus=self.bus,
            description='a fill, a position change or an ended order: protect that position now',
            event_pattern=events.EventPattern(source=[c.STREAMER_SOURCE], detail_type=list(c.STREAMER_DETAIL_TYPES)),
        )
        self.rule.add_target(
            targets.LambdaFunction(
                function,
                event=events.RuleTargetInput.from_object(
                    {
                        'job': c.EVENT_JOB,
                        'account': events.EventField.from_path('$.detail.account'),
                        'symbol': events.EventField.from_path('$.detail.symbol'),
                        'event_id': events.EventField.event_id,
                    }
                ),
                dead_letter_queue=self.dead_letters.queue,
                retry_attempts=c.EVENT_TARGET_RETRIES,
                max_event_age=c.EVENT_TARGET_MAX_AGE,
            )
        )
        # EventBridge sends dead letters as itself: let it use the queue key for this rule only.
        rule_arn = Stack.of(self).format_arn(
            service='events', resource='rule', resource_name=f'{c.EVENT_BUS_NAME}/{c.STREAMER_RULE_NAME}'
        )
        self.dead_letters.allow_service('events.amazonaws.com', rule_arn)
        return self.rule
