"""Several customers with their own grants, and per-token rate limits, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from paperbroker.server import PaperBroker
from tests.integration.paperbroker.conftest import USER_AGENT

pytestmark = pytest.mark.integration


@contextmanager
def session(broker: PaperBroker, customer: dict[str, Any]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=broker.api_url, headers={'User-Agent': USER_AGENT}) as client:
        yield login(client, customer)


def login(client: httpx.Client, customer: dict[str, Any]) -> httpx.Client:
    answer = client.post(
        '/oauth/token',
        json={
            'grant_type': 'refresh_token',
            'client_secret': customer['client-secret'],
            'refresh_token': customer['refresh-token'],
        },
    )
    answer.raise_for_status()
    client.headers['Authorization'] = f'Bearer {answer.json()["access_token"]}'
    return client


@pytest.mark.paper_scenario('fleet', customers=2, accounts=4, positions=2, universe=10)
def test_each_customer_sees_only_their_own_accounts(paper_broker: PaperBroker) -> None:
    first, second = sorted(
        paper_broker.admin.customers(), key=lambda c: c['user-id'] != paper_broker.broker.core.user_id
    )
    with session(paper_broker, second) as client:
        listed = [
            item['account']['account-number'] for item in client.get('/customers/me/accounts').json()['data']['items']
        ]
        assert listed == second['accounts'] == ['5WT00003', '5WT00004']
        assert client.get(f'/accounts/{first["accounts"][0]}/positions').status_code == 403
        assert len(client.get(f'/accounts/{listed[0]}/positions').json()['data']['items']) == 2


@pytest.mark.paper_scenario('fleet', customers=2, accounts=2, positions=1, universe=5)
def test_revoking_one_customer_leaves_the_others_working(paper_broker: PaperBroker) -> None:
    first, second = sorted(
        paper_broker.admin.customers(), key=lambda c: c['user-id'] != paper_broker.broker.core.user_id
    )
    with session(paper_broker, first) as seeded, session(paper_broker, second) as other:
        paper_broker.admin.revoke_customer(second['user-id'])
        assert other.get('/customers/me/accounts').status_code == 401
        refused = other.post(
            '/oauth/token',
            json={'grant_type': 'refresh_token', 'client_secret': second['client-secret'],
                  'refresh_token': second['refresh-token']},
        )  # fmt: skip
        assert (refused.status_code, refused.json()['error_code']) == (400, 'invalid_grant')
        assert seeded.get('/customers/me/accounts').status_code == 200


def test_a_new_customer_gets_a_grant_and_accounts_of_their_own(paper_broker: PaperBroker) -> None:
    customer = paper_broker.admin.add_customer(user_id='U7000001', username='second-login')
    paper_broker.admin.add_account(account_number='5WT09001', owner='U7000001')
    listed = {c['user-id']: c for c in paper_broker.admin.customers()}
    assert listed['U7000001']['accounts'] == ['5WT09001']
    with session(paper_broker, customer) as client:
        assert client.get('/accounts/5WT09001/balances/USD').status_code == 200


def test_past_the_per_token_rate_the_broker_answers_429_with_retry_after(paper_broker: PaperBroker) -> None:
    limits = paper_broker.admin.rate_limits()
    assert limits['enabled'] is True and limits['families']['positions'] == 1.0
    (customer,) = paper_broker.admin.customers()
    with session(paper_broker, customer) as client:
        assert client.get('/accounts/5WT00001/positions').status_code == 200
        refused = client.get('/accounts/5WT00001/positions')
        assert refused.status_code == 429
        assert refused.headers['Retry-After'] == '1'
        assert refused.json()['error']['code'] == 'too_many_requests'
    logged = [r for r in paper_broker.admin.requests() if r['path'] == '/accounts/5WT00001/positions']
    assert [(r['status'], r.get('throttled')) for r in logged] == [(200, None), (429, True)]
    assert {r['user-id'] for r in logged} == {customer['user-id']}
