"""The fan-out handlers as Lambda runs them: Scheduler → dispatcher → SQS (moto) → job worker, and the fast path."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest

from functions.common import dispatching
from functions.common import jobs as job_runtime
from paperbroker.server import PaperBroker
from tastyguard.config.loader import config_fingerprint
from tastyguard.store.runs import RunStore
from tastyguard.store.table import StateTable
from tastyguard.store.ticks import TickStore
from tests.integration.jobs.test_handlers import FRIDAY_MORNING, LambdaContext, _tick, _warm_container, lambda_env

pytestmark = pytest.mark.integration
__all__ = ['lambda_env']  # the fixture
TICK = '2026-11-20T15:00:00Z'


@pytest.fixture
def queues(lambda_env: PaperBroker, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """One work queue per job, named to the dispatcher like the stack does."""
    sqs = boto3.client('sqs')
    urls = {job: sqs.create_queue(QueueName=f'{job}-work')['QueueUrl'] for job in ('ensure_stops', 'digest')}
    for job, url in urls.items():
        monkeypatch.setenv(f'TASTYGUARD_QUEUE_{job.upper()}', url)
    dispatching.reset_for_tests()
    yield urls
    dispatching.reset_for_tests()


def receive(url: str, expected: int) -> list[dict[str, Any]]:
    """``expected`` messages, shaped like the SQS event source's records (the dispatcher delays them by their
    place in the grant's pace, so the second one becomes visible a second after the first)."""
    sqs, records = boto3.client('sqs'), []
    for _ in range(10):
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=['All'], WaitTimeSeconds=1)
        for message in answer.get('Messages', []):
            records.append(
                {'messageId': message['MessageId'], 'body': message['Body'], 'attributes': message['Attributes']}
            )
        if len(records) >= expected:
            return records
    raise AssertionError(f'{len(records)} of {expected} messages arrived')


def warm_dispatcher() -> None:
    dispatching._context(LambdaContext()).clock = lambda: FRIDAY_MORNING  # type: ignore[arg-type]


def test_a_tick_is_dispatched_as_one_message_per_account_then_run_by_the_worker(
    lambda_env: PaperBroker, queues: dict[str, str]
) -> None:
    from functions.dispatch.handler import lambda_handler as dispatcher
    from functions.ensure_stops.handler import lambda_handler as worker

    # Given a Scheduler tick for ensure_stops
    warm_dispatcher()
    summary = dispatcher(_tick(), LambdaContext())
    assert (summary['dispatched'], summary['grants']) == (2, {'default': 2})
    records = receive(queues['ensure_stops'], 2)
    assert sorted(json.loads(r['body'])['account'] for r in records) == ['5WT00001', '5WT00002']
    # When the worker gets each message as its SQS event source would deliver it
    _warm_container(FRIDAY_MORNING)
    answers = [worker({'Records': [record]}, LambdaContext()) for record in records]
    # Then every account was protected, nothing went back to the queue and the tick is finished
    assert answers == [{'batchItemFailures': []}] * 2
    assert len([o for o in lambda_env.admin.working_orders('5WT00001') if o.get('external-identifier')]) >= 7
    record = TickStore(StateTable()).get('ensure_stops', FRIDAY_MORNING)
    assert record is not None and (record.expected, record.done) == (2, 2)


def test_the_worker_records_an_account_verified_only_by_a_run_that_left_nothing_to_do(
    lambda_env: PaperBroker, queues: dict[str, str]
) -> None:
    from functions.dispatch.handler import lambda_handler as dispatcher
    from functions.ensure_stops.handler import lambda_handler as worker

    ticks, accounts = TickStore(StateTable()), ['5WT00001', '5WT00002']
    config = config_fingerprint(dispatching._context(LambdaContext()).config)  # type: ignore[arg-type]
    # Given a first tick whose runs place the missing stops: that is work, not a verification
    warm_dispatcher()
    dispatcher(_tick(), LambdaContext())
    _warm_container(FRIDAY_MORNING)
    for record in receive(queues['ensure_stops'], 2):
        worker({'Records': [record]}, LambdaContext())
    assert ticks.verified('ensure_stops', accounts, config) == {}
    # When the next tick finds every position protected and nothing to do
    later = FRIDAY_MORNING + timedelta(minutes=5)
    dispatching._context(LambdaContext()).clock = lambda: later  # type: ignore[arg-type]
    dispatcher(_tick('2026-11-20T15:05:00Z'), LambdaContext())
    _warm_container(later)
    for record in receive(queues['ensure_stops'], 2):
        assert worker({'Records': [record]}, LambdaContext()) == {'batchItemFailures': []}
    # Then the account with every position protected and nothing to say is verified as of that run's start (the
    # dispatcher may leave it to the streamer); the demo account, whose run still reports positions without a
    # broker stop, stays due every tick
    [demo] = RunStore(StateTable()).recent('5WT00001', limit=1)
    assert demo.summary['unprotected'] == 2  # the futures option's software stop, and AMD's stop already breached
    assert ticks.verified('ensure_stops', accounts, config) == {'5WT00002': later}


def test_a_duplicate_delivery_of_an_account_message_runs_once(lambda_env: PaperBroker, queues: dict[str, str]) -> None:
    from functions.dispatch.handler import lambda_handler as dispatcher
    from functions.ensure_stops.handler import lambda_handler as worker

    warm_dispatcher()
    dispatcher(_tick(), LambdaContext())
    record = receive(queues['ensure_stops'], 1)[0]
    _warm_container(FRIDAY_MORNING)
    worker({'Records': [record]}, LambdaContext())
    lambda_env.admin.clear_requests()
    assert worker({'Records': [record]}, LambdaContext()) == {'batchItemFailures': []}
    assert lambda_env.admin.requests() == []


def test_a_duplicate_tick_is_dispatched_once(lambda_env: PaperBroker, queues: dict[str, str]) -> None:
    from functions.dispatch.handler import lambda_handler as dispatcher

    warm_dispatcher()
    first = dispatcher(_tick(), LambdaContext())
    assert dispatcher(_tick(), LambdaContext()) == first
    assert len(receive(queues['ensure_stops'], 2)) == 2


def test_a_message_that_is_not_a_work_message_goes_back_for_the_dead_letter_queue(lambda_env: PaperBroker) -> None:
    from functions.ensure_stops.handler import lambda_handler as worker

    _warm_container(FRIDAY_MORNING)
    bad = [
        {'messageId': 'm1', 'body': 'not json'},
        {
            'messageId': 'm2',
            'body': json.dumps({'job': 'digest', 'account': '5WT00001', 'scheduled_time': '2026-11-20T15:00:00Z'}),
        },
        {'messageId': 'm3', 'body': json.dumps({'job': 'ensure_stops', 'scheduled_time': '2026-11-20T15:00:00Z'})},
    ]
    answer = worker({'Records': bad}, LambdaContext())
    assert answer == {
        'batchItemFailures': [{'itemIdentifier': 'm1'}, {'itemIdentifier': 'm2'}, {'itemIdentifier': 'm3'}]
    }
    assert lambda_env.admin.requests() == []


def test_a_failing_account_run_is_returned_to_the_queue_and_counts_on_its_last_delivery(
    lambda_env: PaperBroker, queues: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.dispatch.handler import lambda_handler as dispatcher
    from functions.ensure_stops.handler import lambda_handler as worker

    warm_dispatcher()
    dispatcher(_tick(), LambdaContext())
    record = receive(queues['ensure_stops'], 1)[0]
    _warm_container(FRIDAY_MORNING)

    def crash(*_: Any) -> Any:
        raise RuntimeError('a bug')

    monkeypatch.setattr(job_runtime, '_run_logged', crash)
    assert worker({'Records': [record]}, LambdaContext()) == {
        'batchItemFailures': [{'itemIdentifier': record['messageId']}]
    }
    ticks = TickStore(StateTable())
    assert ticks.get('ensure_stops', FRIDAY_MORNING).done == 0  # type: ignore[union-attr]
    last = {**record, 'attributes': {'ApproximateReceiveCount': '3'}}
    worker({'Records': [last]}, LambdaContext())
    assert ticks.get('ensure_stops', FRIDAY_MORNING).done == 1  # type: ignore[union-attr]


def test_the_fast_path_runs_ensure_stops_for_the_events_account(lambda_env: PaperBroker) -> None:
    from functions.fast_path.handler import lambda_handler

    _warm_container(FRIDAY_MORNING)
    event = {'job': 'ensure_stops', 'account': '5WT00001', 'symbol': 'AAPL', 'event_id': 'evt-1'}
    result = lambda_handler(event, LambdaContext())
    assert [a['account'] for a in result['accounts']] == ['5WT00001']
    assert job_runtime._context is not None
