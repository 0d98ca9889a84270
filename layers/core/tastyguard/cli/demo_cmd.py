"""``tastyguard demo``: the paper broker and an embedded AWS; no tastytrade or AWS account needed."""

from __future__ import annotations


def demo() -> None:
    """Run the demo (no account needed).

    A paper broker and an embedded AWS in this process: plan, shadow, live, a fill, the digest.
    """
    from tastyguard.cli.demo import demo as run_demo  # noqa: PLC0415 - keeps --help fast

    run_demo()
