"""Token lifetimes and revocation, fault matching, and DXLink row building."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from paperbroker.auth import AuthStore
from paperbroker.clock import VirtualClock
from paperbroker.dxlink_events import event_fields, row
from paperbroker.errors import ApiError, OAuthError
from paperbroker.faults import FaultRegistry
from paperbroker.model import Quote
from paperbroker.registry import Registry

pytestmark = pytest.mark.unit


@pytest.fixture
def auth() -> AuthStore:
    store = AuthStore(VirtualClock(), 'secret', 'refresh')
    store.reset('U1')
    return store


def _grant(secret: str = 'secret', refresh: str = 'refresh') -> dict[str, str]:  # noqa: S107
    return {'grant_type': 'refresh_token', 'client_secret': secret, 'refresh_token': refresh, 'scope': 'read trade'}


def test_refresh_grant_returns_a_fifteen_minute_bearer_token(auth: AuthStore) -> None:
    answer = auth.exchange(_grant())

    assert answer['token_type'] == 'Bearer'
    assert answer['expires_in'] == 900
    assert auth.authenticate(f'Bearer {answer["access_token"]}') == 'U1'


def test_access_token_expires_after_900_virtual_seconds(auth: AuthStore) -> None:
    token = auth.exchange(_grant())['access_token']

    auth.clock.advance(899)
    assert auth.check_access_token(str(token)) == 'U1'
    auth.clock.advance(1)

    with pytest.raises(ApiError) as caught:
        auth.check_access_token(str(token))
    assert (caught.value.status, caught.value.code) == (401, 'unauthorized')


@pytest.mark.parametrize(
    ('body', 'status', 'code'),
    [
        (_grant(secret='wrong'), 401, 'invalid_client'),
        (_grant(refresh='wrong'), 400, 'invalid_grant'),
        ({'grant_type': 'refresh_token'}, 400, 'invalid_request'),
        ({'grant_type': 'password'}, 400, 'unsupported_grant_type'),
        ([1, 2], 400, 'invalid_request'),
    ],
)
def test_token_endpoint_errors_are_oauth_style(auth: AuthStore, body: object, status: int, code: str) -> None:
    with pytest.raises(OAuthError) as caught:
        auth.exchange(body)

    assert (caught.value.status, caught.value.code) == (status, code)


def test_revoking_access_keeps_the_grant_usable(auth: AuthStore) -> None:
    old = auth.exchange(_grant())['access_token']

    auth.revoke('access')

    with pytest.raises(ApiError):
        auth.check_access_token(str(old))
    new = auth.exchange(_grant())['access_token']
    assert auth.check_access_token(str(new)) == 'U1'


def test_revoking_the_grant_makes_refresh_fail_with_invalid_grant(auth: AuthStore) -> None:
    auth.revoke('grant')

    with pytest.raises(OAuthError) as caught:
        auth.exchange(_grant())
    assert caught.value.code == 'invalid_grant'
    auth.reset('U1')
    assert auth.exchange(_grant())['token_type'] == 'Bearer'


def test_faults_match_method_and_path_regex_and_run_out() -> None:
    faults = FaultRegistry()
    faults.add({'kind': 'status', 'method': 'POST', 'path': '/orders$', 'status': 429, 'count': 2})

    assert faults.match_http('GET', '/accounts/5WT00001/orders') is None
    assert faults.match_http('POST', '/accounts/5WT00001/orders/dry-run') is None
    assert faults.match_http('POST', '/accounts/5WT00001/orders') is not None
    assert faults.match_http('POST', '/accounts/5WT00001/orders') is not None
    assert faults.match_http('POST', '/accounts/5WT00001/orders') is None
    assert faults.listing() == []


def test_forever_faults_keep_firing() -> None:
    faults = FaultRegistry()
    faults.add({'kind': 'html_401', 'count': -1})

    assert all(faults.match_http('GET', '/customers/me') is not None for _ in range(5))
    assert faults.listing()[0]['remaining'] == -1


@pytest.mark.parametrize(
    'spec',
    [
        {'kind': 'explode'},
        {'kind': 'status'},
        {'kind': 'status', 'status': 200},
        {'kind': 'delay'},
        {'kind': 'revoke_token', 'scope': 'everything'},
        {'kind': 'html_401', 'count': 0},
        {'kind': 'html_401', 'path': '('},
    ],
)
def test_invalid_fault_specs_are_refused(spec: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r'\w'):
        FaultRegistry().add(spec)


def test_websocket_faults_do_not_match_http_requests() -> None:
    faults = FaultRegistry()
    faults.add({'kind': 'dxlink_1012'})

    assert faults.match_http('GET', '/customers/me') is None
    assert faults.listing()[0]['kind'] == 'dxlink_1012'


def test_compact_rows_follow_the_requested_field_order_with_nan_for_unknown_fields() -> None:
    registry = Registry(date(2026, 11, 21))
    instrument = registry.ensure('AAPL')
    quote = Quote('AAPL', bid=Decimal('190.2'), ask=Decimal('190.24'), last=Decimal('190.22'))
    values = event_fields('Quote', 'AAPL', instrument, quote, now=datetime.now(UTC))

    assert row(['eventSymbol', 'askPrice', 'bidPrice', 'madeUpField'], values) == ['AAPL', 190.24, 190.2, 'NaN']
