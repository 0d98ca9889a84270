"""The reusable socket helpers: jittered backoff, the silence watchdog and the manual clock."""

from __future__ import annotations

import asyncio
import random

import pytest

from tastyguard.streaming import Backoff, ManualClock, SilenceWatchdog

pytestmark = [pytest.mark.unit, pytest.mark.anyio]


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


def test_delays_grow_exponentially_up_to_the_cap_with_full_jitter() -> None:
    backoff = Backoff(base=1, factor=2, cap=30, rng=random.Random(7))

    ceilings, delays = [], []
    for _ in range(8):
        ceilings.append(backoff.ceiling())
        delays.append(backoff.next_delay())

    assert ceilings == [1, 2, 4, 8, 16, 30, 30, 30]
    assert all(0 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert len(set(delays)) == len(delays)  # jittered, not lockstep


def test_a_short_connection_does_not_reset_the_backoff() -> None:
    backoff = Backoff(healthy_after=60, rng=random.Random(1))
    for _ in range(4):
        backoff.next_delay()

    backoff.next_delay(healthy_for=59)

    assert backoff.ceiling() == 30  # five attempts: 1, 2, 4, 8, 16 -> the sixth may wait up to 30 (capped)


def test_a_healthy_connection_resets_the_backoff() -> None:
    backoff = Backoff(healthy_after=60, rng=random.Random(1))
    for _ in range(5):
        backoff.next_delay()

    delay = backoff.next_delay(healthy_for=60)

    assert delay <= 1
    assert backoff.attempt == 1


def test_many_clients_do_not_reconnect_in_lockstep() -> None:
    first = [Backoff(rng=random.Random(seed)).next_delay() for seed in range(200)]

    assert max(first) - min(first) > 0.8  # spread over the whole first second


@pytest.mark.parametrize('kwargs', [{'base': 0}, {'factor': 0.5}, {'base': 10, 'cap': 5}, {'healthy_after': -1}])
def test_nonsense_backoff_settings_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match='backoff needs'):
        Backoff(**kwargs)  # type: ignore[arg-type]


async def test_the_watchdog_fires_after_the_timeout_of_silence() -> None:
    clock = ManualClock()
    watchdog = SilenceWatchdog(60, clock)
    fired = asyncio.create_task(watchdog.expired())

    await clock.advance(59)
    assert not fired.done()
    await clock.advance(1)

    assert fired.done()
    assert fired.result() == 60


async def test_every_message_postpones_the_watchdog() -> None:
    clock = ManualClock()
    watchdog = SilenceWatchdog(60, clock)
    fired = asyncio.create_task(watchdog.expired())

    for _ in range(5):
        await clock.advance(50)
        watchdog.touch()
    await clock.advance(59)

    assert not fired.done()
    await clock.advance(1)
    assert fired.done()
    fired.cancel()


def test_the_watchdog_needs_a_positive_timeout() -> None:
    with pytest.raises(ValueError, match='positive'):
        SilenceWatchdog(0, ManualClock())


async def test_the_manual_clock_wakes_sleepers_in_deadline_order() -> None:
    clock = ManualClock()
    woke: list[str] = []

    async def nap(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(f'{name}@{clock.monotonic():g}')

    tasks = [asyncio.create_task(nap(n, s)) for n, s in (('b', 20), ('a', 10), ('c', 30))]
    await asyncio.sleep(0)
    assert clock.sleepers == 3

    await clock.advance(25)

    assert woke == ['a@10', 'b@20']
    assert clock.monotonic() == 25
    await clock.advance(5)
    assert woke[-1] == 'c@30'
    await asyncio.gather(*tasks)
