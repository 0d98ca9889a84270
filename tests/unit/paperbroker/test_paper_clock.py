"""The virtual clock's stopped mode: broker time moves only when a test advances it."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from paperbroker.clock import VirtualClock

pytestmark = pytest.mark.unit


def test_a_stopped_clock_moves_only_when_advanced() -> None:
    clock = VirtualClock()
    clock.stop()
    before = clock.now()

    time.sleep(0.01)  # real time passes (a few ms), broker time does not
    assert clock.now() == before
    clock.advance(2.5)
    assert clock.now() - before == timedelta(seconds=2.5)


def test_resuming_never_moves_time_backwards() -> None:
    clock = VirtualClock()
    clock.stop()
    clock.advance(10)
    stopped = clock.now()

    clock.resume()

    assert clock.now() >= stopped


def test_a_reset_lets_the_wall_clock_run_again() -> None:
    clock = VirtualClock()
    clock.stop()
    clock.reset()
    assert clock.stopped_at is None
