"""Quote tokens: fetched once, reused, renewed an hour before expiry, replaced when refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import SecretStr

from tastyguard.broker import QuoteToken
from tastyguard.streaming import ManualClock
from tastyguard.streaming.dxlink.tokens import QuoteTokens

pytestmark = [pytest.mark.unit, pytest.mark.anyio]


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


class Source:
    def __init__(self, clock: ManualClock, lifetime: timedelta | None = timedelta(hours=24)) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.calls = 0

    async def __call__(self) -> QuoteToken:
        self.calls += 1
        now = self.clock.wall()
        return QuoteToken(
            token=SecretStr(f'quote-token-number-{self.calls}'),
            dxlink_url='ws://127.0.0.1:1/dxlink',
            issued_at=now,
            expires_at=now + self.lifetime if self.lifetime else None,
        )


async def test_a_token_is_reused_until_an_hour_before_it_expires() -> None:
    clock = ManualClock()
    source = Source(clock)
    tokens = QuoteTokens(source, clock)

    first = await tokens.get()
    await clock.advance(22 * 3600)
    again = await tokens.get()
    await clock.advance(3600)
    renewed = await tokens.get()

    assert source.calls == 2
    assert again is first
    assert renewed.secret() == 'quote-token-number-2'
    assert first.renew_at == 23 * 3600


async def test_a_refused_token_is_replaced() -> None:
    clock = ManualClock()
    source = Source(clock)
    tokens = QuoteTokens(source, clock)
    await tokens.get()

    tokens.invalidate()
    replacement = await tokens.get()

    assert replacement.secret() == 'quote-token-number-2'


async def test_a_token_without_expiry_is_taken_for_24_hours() -> None:
    clock = ManualClock()
    tokens = QuoteTokens(Source(clock, lifetime=None), clock)

    held = await tokens.get()

    assert held.renew_at == 23 * 3600


async def test_a_token_already_due_is_used_for_a_minute_not_refetched_in_a_loop() -> None:
    clock = ManualClock()
    tokens = QuoteTokens(Source(clock, lifetime=timedelta(minutes=30)), clock)

    held = await tokens.get()

    assert held.renew_at == 60
