"""The admin API for events without an order, over HTTP: expirations, instructions, exercise/assign, splits,
session times, the next session; and the transactions they leave behind in the REST API."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import httpx
import pytest

from paperbroker.admin_client import AdminError
from paperbroker.clock import NEW_YORK, parse_datetime
from paperbroker.scenario_expiration import expiration_symbols, fridays
from paperbroker.server import PaperBroker

pytestmark = [pytest.mark.integration, pytest.mark.paper_scenario('expiration')]

ACCOUNT = '5WT00001'


def _symbols(broker: PaperBroker) -> dict[str, str]:
    return expiration_symbols(broker.broker.clock.now())


def _held(broker: PaperBroker) -> dict[str, str]:
    return {p['symbol']: p['quantity'] for p in broker.admin.positions(ACCOUNT)}


def test_the_expiration_scenario_seeds_four_fridays(paper_broker: PaperBroker) -> None:
    symbols = _symbols(paper_broker)
    days = fridays(paper_broker.broker.clock.now())

    assert all(day.weekday() == 4 for day in days) and len(set(days)) == 4
    assert set(_held(paper_broker)) == set(symbols.values())
    assert [o['status'] for o in paper_broker.admin.working_orders(ACCOUNT)] == ['Live'] * 4


def test_run_expiration_now_settles_everything_up_to_a_date(paper_broker: PaperBroker) -> None:
    last = fridays(paper_broker.broker.clock.now())[-1]

    result = paper_broker.admin.expire(last.isoformat())

    outcomes = sorted((s['symbol'].split()[0], s['outcome']) for s in result['settled'])
    assert outcomes == [
        ('AAPL', 'expired'),
        ('KO', 'assigned'),
        ('KO', 'expired'),
        ('NVDA', 'exercised'),
        ('SPY', 'assigned'),
    ]
    assert _held(paper_broker) == {'KO': '200', 'NVDA': '100', 'SPY': '300'}
    assert paper_broker.admin.working_orders(ACCOUNT) == []


def test_an_instruction_given_in_the_run_overrides_the_rule(paper_broker: PaperBroker) -> None:
    symbols = _symbols(paper_broker)
    day = fridays(paper_broker.broker.clock.now())[2]
    instruction = {'account_number': ACCOUNT, 'symbol': symbols['exercised_long_call'], 'action': 'expire'}

    result = paper_broker.admin.expire(day.isoformat(), instructions=[instruction])

    call = next(s for s in result['settled'] if s['symbol'] == symbols['exercised_long_call'])
    assert call['outcome'] == 'expired' and 'NVDA' not in _held(paper_broker)


def test_instructions_are_listed_and_cleared(paper_broker: PaperBroker) -> None:
    symbols = _symbols(paper_broker)
    paper_broker.admin.instruct(ACCOUNT, symbols['worthless_long'], 'exercise')

    listed = httpx.get(f'{paper_broker.api_url}/_paper/expiration-instructions').json()['instructions']
    cleared = httpx.delete(f'{paper_broker.api_url}/_paper/expiration-instructions').json()['instructions']

    assert listed == [{'account-number': ACCOUNT, 'symbol': symbols['worthless_long'], 'action': 'exercise'}]
    assert cleared == []


@pytest.mark.parametrize(
    ('body', 'message'),
    [
        ({'symbol': 'AAPL', 'action': 'exercise'}, 'not an option'),
        ({'symbol': 'worthless_long', 'action': 'sell'}, 'must be one of exercise, expire, assign'),
    ],
)
def test_a_bad_instruction_is_a_400_that_says_why(
    paper_broker: PaperBroker, body: dict[str, Any], message: str
) -> None:
    symbols = _symbols(paper_broker)
    body = {**body, 'symbol': symbols.get(body['symbol'], body['symbol']), 'account-number': ACCOUNT}

    response = httpx.post(f'{paper_broker.api_url}/_paper/expiration-instructions', json=body)

    assert response.status_code == 400 and message in response.json()['error']['message']


def test_early_assignment_over_http_and_its_transactions_in_the_rest_api(
    paper_broker: PaperBroker, api: httpx.Client
) -> None:
    symbols = _symbols(paper_broker)

    settled = paper_broker.admin.assign(ACCOUNT, symbols['assigned_short_put'], 1)

    assert settled['outcome'] == 'assigned' and settled['deliveries'] == [
        {'symbol': 'SPY', 'quantity': '100', 'price': '570.0'}
    ]
    items = api.get(
        f'/accounts/{ACCOUNT}/transactions', params={'type': 'Receive Deliver', 'sub-type[]': 'Assignment'}
    ).json()['data']['items']
    assert [(t['symbol'], t['quantity'], t['action']) for t in items] == [
        (symbols['assigned_short_put'], '1.0', 'Buy to Close')
    ]


def test_exercising_a_short_is_refused(paper_broker: PaperBroker) -> None:
    with pytest.raises(AdminError, match='can be assigned, not exercised'):
        paper_broker.admin.exercise(ACCOUNT, _symbols(paper_broker)['assigned_short_put'])


def test_a_split_over_http(paper_broker: PaperBroker, api: httpx.Client) -> None:
    paper_broker.admin.add_position(ACCOUNT, 'MSFT', 51, '400.00', bid='425.10', ask='425.20')

    result = paper_broker.admin.split('MSFT', '2:1', orders='cancel')

    assert result['positions'][0]['new-quantity'] == '102' and result['ratio'] == '2:1'
    items = api.get(f'/accounts/{ACCOUNT}/transactions', params={'sub-type[]': 'Forward Split'}).json()['data']['items']
    assert sorted(t['description'] for t in items) == [
        'Forward split: Close 51.0 MSFT',
        'Forward split: Open 102.0 MSFT',
    ]


def test_a_bad_split_is_a_400_that_says_why(paper_broker: PaperBroker) -> None:
    with pytest.raises(AdminError, match='must be one of adjust, cancel, keep'):
        paper_broker.admin.split('AAPL', '2:1', orders='ignore')
    with pytest.raises(AdminError, match='non-standard deliverable'):
        paper_broker.admin.split('AAPL', '3:2')


def test_next_session_moves_to_the_close_and_settles_what_expires_there(paper_broker: PaperBroker) -> None:
    symbols = _symbols(paper_broker)
    first = fridays(paper_broker.broker.clock.now())[0]

    while symbols['worthless_long'] in _held(paper_broker):
        clock = paper_broker.admin.next_session('close')

    now = parse_datetime(clock['now']).astimezone(NEW_YORK)
    assert now.date() == first and (now.hour, now.minute) == (16, 0)
    opened = parse_datetime(paper_broker.admin.next_session('open')['now']).astimezone(NEW_YORK)
    assert opened.weekday() == 0 and (opened.hour, opened.minute) == (9, 30)


def test_an_early_close_settles_expirations_at_that_time(paper_broker: PaperBroker) -> None:
    now = paper_broker.broker.clock.now().astimezone(NEW_YORK)
    first = fridays(now)[0]
    # 13:00, or (run on that Friday afternoon) a couple of minutes from now: an early close still ahead
    early = time(13, 0)
    if now.date() == first and now.time() >= time(12, 55):
        if now.time() >= time(15, 57):
            pytest.skip('run in the last minutes before a Friday close: no early close can still lie ahead')
        early = (now + timedelta(minutes=2)).time().replace(second=0, microsecond=0)
    hhmm = early.strftime('%H:%M')
    answer = paper_broker.admin.set_session(early_closes={first.isoformat(): hhmm})
    assert answer['early-closes'] == {first.isoformat(): hhmm}

    clock = paper_broker.admin.next_session('close')
    while parse_datetime(clock['now']).astimezone(NEW_YORK).date() < first:
        clock = paper_broker.admin.next_session('close')

    closed = parse_datetime(clock['now']).astimezone(NEW_YORK)
    assert (closed.date(), closed.hour, closed.minute) == (first, early.hour, early.minute)
    assert _symbols(paper_broker)['worthless_long'] not in _held(paper_broker)
