"""Fixtures of the broker client's unit tests: a fake clock/sleep and a respx-mocked sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import respx

from tastyguard.broker import TastytradeClient
from tests.unit.broker.support import SANDBOX, FakeTime, make_client, token_responder


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def router() -> respx.Router:
    router = respx.Router(base_url=SANDBOX, assert_all_called=False)
    router.post('/oauth/token', name='token').mock(side_effect=token_responder())
    return router


@pytest.fixture
def client(router: respx.Router, fake_time: FakeTime) -> Iterator[TastytradeClient]:
    with make_client(router, fake_time) as tt:
        yield tt
