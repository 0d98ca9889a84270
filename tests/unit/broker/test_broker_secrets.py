"""No secret (client secret, refresh token, access token, quote token) in a repr, a message or a log line."""

from __future__ import annotations

import logging
from decimal import Decimal

import httpx
import pytest
import respx

from tastyguard.broker import (
    AmbiguousOrderError,
    AuthenticationError,
    BrokerError,
    InstrumentType,
    OAuthCredentials,
    OrderAction,
    ServerError,
    TastytradeClient,
    TokenRefreshError,
    stop_order,
)
from tests.unit.broker.support import (
    ACCESS_PREFIX,
    ACCOUNT,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    FakeTime,
    envelope,
    items,
)

pytestmark = pytest.mark.unit

QUOTE_TOKEN = 'dxlink-quote-secret-5521'


def test_no_secret_leaks_across_refreshes_401s_and_errors(
    router: respx.Router, client: TastytradeClient, fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token_route = router.routes['token']
    positions = f'/accounts/{ACCOUNT}/positions'
    # Servers that echo secrets back in their error bodies.
    echo_access = httpx.Response(401, json={'error': {'code': 'unauthorized', 'message': f'bad {ACCESS_PREFIX}1'}})
    router.get(positions).mock(side_effect=[echo_access, httpx.Response(200, json=items([]))])
    router.get('/api-quote-tokens').respond(json=envelope({'token': QUOTE_TOKEN, 'dxlink-url': 'wss://dx.test'}))
    router.get('/market-data/by-type').respond(500, json={'error': {'message': f'{QUOTE_TOKEN} failed'}})
    router.post(f'/accounts/{ACCOUNT}/orders').mock(side_effect=httpx.ReadTimeout('no answer'))
    raised: list[BaseException] = []

    client.positions(ACCOUNT)  # refresh, 401 (echoing the token), refresh again, retry
    client.quote_token()
    try:
        client.quotes({InstrumentType.EQUITY: ['AAPL']})
    except ServerError as exc:
        raised.append(exc)
    order = stop_order(
        symbol='AAPL',
        instrument_type=InstrumentType.EQUITY,
        action=OrderAction.SELL_TO_CLOSE,
        quantity=1,
        stop_trigger=Decimal(1),
        external_identifier='tg-secret-test',
    )
    try:
        client.place_order(ACCOUNT, order)
    except AmbiguousOrderError as exc:
        raised.append(exc)
    # The token endpoint echoing the client secret and refresh token, then failing for good.
    echo = f'{CLIENT_SECRET} / {REFRESH_TOKEN}'
    token_route.mock(side_effect=None, return_value=httpx.Response(503, json={'error_description': echo}))
    fake_time.advance(900)  # the access token expires: the next call must refresh
    try:
        client.positions(ACCOUNT)
    except TokenRefreshError as exc:
        raised.append(exc)
    token_route.mock(
        side_effect=None, return_value=httpx.Response(400, json={'error': 'invalid_grant', 'error_description': echo})
    )
    try:
        client.positions(ACCOUNT)
    except AuthenticationError as exc:
        raised.append(exc)

    assert len(raised) == 4
    texts = [caplog.text, repr(client), repr(client.token_cache), str(client.stats.snapshot())]
    texts += [repr(OAuthCredentials(client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN))]
    texts += [repr(client.token_cache.load()), repr(client.token_cache.breaker())]
    for exc in raised:
        chain: BaseException | None = exc
        while chain is not None:
            texts += [str(chain), repr(chain)]
            chain = chain.__cause__ or chain.__context__
    assert any('***' in text for text in texts), 'the echoed secrets were seen and redacted'
    for secret in (CLIENT_SECRET, REFRESH_TOKEN, f'{ACCESS_PREFIX}1', f'{ACCESS_PREFIX}2', QUOTE_TOKEN):
        for text in texts:
            assert secret not in text
    assert isinstance(raised[-1], BrokerError) and 'new grant' in str(raised[-1])
