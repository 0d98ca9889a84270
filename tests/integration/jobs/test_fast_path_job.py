"""The fast path: an ensure-stops run for one symbol (a fill or a position change) plans only that position."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import botocore.client
import pytest

from paperbroker.server import PaperBroker
from tastyguard.jobs.invocation import JobInvocation, JobName
from tastyguard.jobs.registry import run
from tastyguard.store.quotes import LatestQuote
from tastyguard.store.table import utc_now
from tests.integration.jobs.conftest import Harness, make_harness

pytestmark = pytest.mark.integration
A = '5WT00001'


def _event(symbol: str, event_id: str = 'evt-1') -> JobInvocation:
    return JobInvocation(job=JobName.ENSURE_STOPS, account=A, symbol=symbol, event_id=event_id)


def test_an_event_for_one_symbol_places_only_that_symbols_stop(harness: Harness) -> None:
    # Given the demo account, where several positions have no stop
    [result] = run(harness.ctx, _event('AAPL'))
    writes = harness.writes()
    # Then only AAPL's stop is sent, and the result does not claim account totals it did not look at
    assert writes and all(w['body']['legs'][0]['symbol'] == 'AAPL' for w in writes if w['method'] == 'POST')
    assert {a.symbol for a in result.actions if a.kind in ('place', 'replace', 'cancel')} == {'AAPL'}
    assert result.positions is None and result.protected is None


def test_a_scoped_run_asks_for_quotes_of_its_symbol_only(harness: Harness) -> None:
    run(harness.ctx, _event('AAPL'))
    quote_reads = harness.broker.admin.requests(method='GET', path='/market-data/by-type')
    assert quote_reads and all('AAPL' in r['query'] and 'MSFT' not in r['query'] for r in quote_reads)


def test_a_scoped_run_neither_raises_nor_resolves_other_positions_alerts(harness: Harness) -> None:
    # Given a full run that left open alerts (the breached AMD, the futures option)
    harness.run(JobName.ENSURE_STOPS, account=A)
    open_before = {k for k, r in harness.ctx.stores.alerts.all(A).items() if r.open}
    assert any('AMD' in key for key in open_before)
    # When a fill on AAPL runs the fast path
    run(harness.ctx, _event('AAPL', 'evt-2'))
    # Then the other positions' alerts are still open
    open_after = {k for k, r in harness.ctx.stores.alerts.all(A).items() if r.open}
    assert open_before - {k for k in open_before if ':AAPL' in k} <= open_after


def test_fresh_streamed_quotes_replace_the_rest_quote_call(harness: Harness) -> None:
    # Given the streamer wrote a fresh AAPL quote
    harness.ctx.stores.quotes.put_many(
        [LatestQuote(symbol='AAPL', bid=Decimal('185.20'), ask=Decimal('185.25'), quoted_at=utc_now())]
    )
    run(harness.ctx, _event('AAPL', 'evt-3'))
    # Then no REST quote was needed, and the stop was placed
    assert harness.broker.admin.requests(method='GET', path='/market-data/by-type') == []
    assert any(w['method'] == 'POST' for w in harness.writes())


def test_a_stale_streamed_quote_is_not_used(harness: Harness) -> None:
    old = utc_now() - timedelta(minutes=10)
    harness.ctx.stores.quotes.put_many([LatestQuote(symbol='AAPL', bid=Decimal('1.00'), quoted_at=old)])
    run(harness.ctx, _event('AAPL', 'evt-4'))
    assert harness.broker.admin.requests(method='GET', path='/market-data/by-type')


def _values(condition: Any) -> list[Any]:
    """The names and values in a boto3 key condition (its ``repr`` shows neither)."""
    if condition is None:
        return []
    if hasattr(condition, 'get_expression'):
        return [value for part in condition.get_expression()['values'] for value in _values(part)]
    return [getattr(condition, 'name', condition)]


class _DynamoDbLog:
    """Every DynamoDB request of the test: operation and key (or key condition values)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.requests: list[tuple[str, str]] = []
        self.items = 0
        send = botocore.client.BaseClient._make_api_call

        def logged(client: Any, operation: str, params: dict[str, Any]) -> Any:
            response = send(client, operation, params)
            if client.meta.service_model.service_name == 'dynamodb':
                key = params.get('Key') or _values(params.get('KeyConditionExpression'))
                if operation == 'BatchGetItem':
                    key = [k['sk'] for wanted in params['RequestItems'].values() for k in wanted['Keys']]
                self.requests.append((operation, str(key)))
                self.items += len(response.get('Items', ()))
                self.items += sum(len(found) for found in response.get('Responses', {}).values())
            return response

        monkeypatch.setattr(botocore.client.BaseClient, '_make_api_call', logged)

    def count(self, operation: str, containing: str = '') -> int:
        return sum(1 for op, key in self.requests if op == operation and containing in key)


def _fast_path_cost(harness: Harness, monkeypatch: pytest.MonkeyPatch, held: int) -> _DynamoDbLog:
    """The DynamoDB requests of one fill's scoped run on an account of ``held`` protected positions."""
    for index in range(held):
        harness.broker.admin.add_position(A, f'H{index:03d}', 100, '50', bid='50.00', ask='50.02', last='50.01')
    harness.run(JobName.ENSURE_STOPS, account=A)
    # (the first read after the full run records its stops as the broker now shows them: Live, not Received)
    harness.broker.admin.add_position(A, 'FIRST', 100, '50', bid='50.00', ask='50.02', last='50.01')
    run(harness.ctx, _event('FIRST', f'evt-first-{held}'))
    harness.broker.admin.add_position(A, 'NEWCO', 100, '50', bid='50.00', ask='50.02', last='50.01')
    log = _DynamoDbLog(monkeypatch)
    run(harness.ctx, _event('NEWCO', f'evt-held-{held}'))
    assert any(o['legs'][0]['symbol'] == 'NEWCO' and o['status'] == 'Live' for o in harness.working())
    return log


@pytest.mark.parametrize('held', [3, 40])
def test_a_fills_run_reads_the_snapshot_and_the_ledger_once(
    paper_broker: PaperBroker, aws: None, monkeypatch: pytest.MonkeyPatch, held: int
) -> None:
    harness = make_harness(paper_broker, safety={'max_order_writes': 500})
    log = _fast_path_cost(harness, monkeypatch, held)
    # The run saves the next snapshot from the one it read, and reads ledger entries in two batches, never the
    # whole ledger: those of the orders it judges, and those of the orders it wrote (to record them). So the
    # requests do not grow with the account
    assert log.count('GetItem', 'SNAPSHOT#LATEST') == 1
    assert log.count('Query', 'ORDER#') == 0
    assert log.count('BatchGetItem', 'ORDER#') == 2
    assert len(log.requests) <= 24
    assert log.items <= 2 * held + 30


def _resized(harness: Harness, monkeypatch: pytest.MonkeyPatch, times: int) -> _DynamoDbLog:
    """The DynamoDB requests of the run after a position grew ``times`` times, each a fill resizing our stop."""
    for step in range(1, times + 1):  # (each seed adds 100 shares to the position)
        harness.broker.admin.add_position(A, 'NEWCO', 100, '50', bid='50.00', ask='50.02', last='50.01')
        run(harness.ctx, _event('NEWCO', f'evt-grow-{step}'))
    harness.broker.admin.add_position(A, 'NEWCO', 100, '50', bid='50.00', ask='50.02', last='50.01')
    log = _DynamoDbLog(monkeypatch)
    run(harness.ctx, _event('NEWCO', 'evt-grow-last'))
    [stop] = [o for o in harness.working() if o['legs'][0]['symbol'] == 'NEWCO']
    assert stop['legs'][0]['quantity'] == 100 * (times + 1)
    return log


@pytest.mark.parametrize('times', [2, 12])
def test_a_fills_run_does_not_read_back_the_days_ended_orders(
    paper_broker: PaperBroker, aws: None, monkeypatch: pytest.MonkeyPatch, times: int
) -> None:
    # Given a position whose stop tastyguard resized at every fill today (each replace leaves a Cancelled order)
    harness = make_harness(paper_broker, safety={'max_order_writes': 500, 'max_writes_per_symbol': 100})
    harness.broker.reset('empty')
    log = _resized(harness, monkeypatch, times)
    # Then the next fill's run reads back the entries of the orders that changed (our working stop, the one it
    # replaced last time and the one before that, which the replaced one replaces) and of the orders it writes
    # (the new stop and the one it replaces): the same few at the 3rd fill and the 13th, not one per ended order
    ledger_keys = sum(key.count('ORDER#') for op, key in log.requests if op == 'BatchGetItem')
    assert log.count('Query', 'ORDER#') == 0
    assert ledger_keys <= 5, log.requests
    # and the stop it replaced last time, now Cancelled, is known as its own replace by that one intent
    assert log.count('Query', "'INTENT#'") == 0, log.requests
    assert not [n for n in harness.notifier.sent if 'a person cancelled' in str(n)]
