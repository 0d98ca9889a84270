"""``transactions()``: every page, the filters tastytrade takes, typed rows from the recorded payload."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from tastyguard.broker import MalformedResponseError, TastytradeClient
from tastyguard.broker.models.transactions import TransactionSubType, TransactionType
from tests.unit.broker.support import ACCOUNT, items

pytestmark = pytest.mark.unit

PATH = f'/accounts/{ACCOUNT}/transactions'
PAYLOADS = Path(__file__).resolve().parents[4] / 'shared' / 'reference' / 'payloads'
RECORDED = PAYLOADS / 'tastytrade_get_transactions.json'


def recorded() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(RECORDED.read_text())['items']
    return rows


def test_the_recorded_transactions_parse_with_their_types_and_signs(
    router: respx.Router, client: TastytradeClient
) -> None:
    router.get(PATH).respond(json=items(recorded(), pagination={'page-offset': 0, 'total-pages': 1}))

    found = client.transactions(ACCOUNT)

    trade, deposit = found[0], found[1]
    assert trade.transaction_type == TransactionType.TRADE and trade.transaction_type.is_known
    assert trade.transaction_sub_type == TransactionSubType.BUY_TO_OPEN
    assert trade.signed_value == Decimal('-75.0') and trade.signed_net_value == Decimal('-76.12')
    assert deposit.transaction_sub_type == TransactionSubType.DEPOSIT and not deposit.is_receive_deliver


def test_every_page_is_read_and_the_filters_are_sent(router: respx.Router, client: TastytradeClient) -> None:
    def page(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params['page-offset'])
        row = {'id': 100 + offset, 'account-number': ACCOUNT, 'transaction-type': 'Receive Deliver'}
        return httpx.Response(200, json=items([row], pagination={'page-offset': offset, 'total-pages': 3}))

    route = router.get(PATH).mock(side_effect=page)

    found = client.transactions(
        ACCOUNT,
        types=['Receive Deliver'],
        sub_types=[TransactionSubType.ASSIGNMENT, 'Expiration'],
        start_date=date(2026, 12, 1),
        start_at=datetime(2026, 12, 1, 21, tzinfo=UTC),
        sort='Asc',
    )

    assert [t.id for t in found] == [100, 101, 102] and all(t.is_receive_deliver for t in found)
    params = route.calls.last.request.url.params
    assert params.get_list('types[]') == ['Receive Deliver']
    assert params.get_list('sub-type[]') == ['Assignment', 'Expiration']
    assert params['start-date'] == '2026-12-01' and params['start-at'] == '2026-12-01T21:00:00+00:00'
    assert params['sort'] == 'Asc' and params['per-page'] == '250' and route.call_count == 3


def test_a_sub_type_tastytrade_adds_later_still_parses(router: respx.Router, client: TastytradeClient) -> None:
    row = {'id': 7, 'account-number': ACCOUNT, 'transaction-type': 'Receive Deliver', 'transaction-sub-type': 'Spinoff'}
    router.get(PATH).respond(json=items([row], pagination={'page-offset': 0, 'total-pages': 1}))

    (found,) = client.transactions(ACCOUNT)

    assert found.transaction_sub_type == 'Spinoff' and found.transaction_sub_type is not None
    assert not found.transaction_sub_type.is_known


def test_too_many_pages_is_an_error_not_a_partial_history(router: respx.Router, client: TastytradeClient) -> None:
    router.get(PATH).respond(json=items([{'id': 1, 'account-number': ACCOUNT}], pagination={'total-pages': 50}))

    with pytest.raises(MalformedResponseError, match='more than 3 pages'):
        client.transactions(ACCOUNT, max_pages=3)


def test_sort_must_be_asc_or_desc(client: TastytradeClient) -> None:
    with pytest.raises(ValueError, match='Asc'):
        client.transactions(ACCOUNT, sort='newest')
