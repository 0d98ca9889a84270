"""The notifier port and an in-memory implementation (tests, the CLI, shadow runs)."""

from __future__ import annotations

from typing import Protocol

from tastyguard.notify.notice import Notice


class Notifier(Protocol):
    """Sends a notice to people."""

    def publish(self, notice: Notice) -> None:
        """Send ``notice``; raise if it could not be handed over."""


class MemoryNotifier:
    """Keeps every published notice in a list."""

    def __init__(self) -> None:
        self.sent: list[Notice] = []

    def publish(self, notice: Notice) -> None:
        """Remember ``notice``."""
        self.sent.append(notice)
