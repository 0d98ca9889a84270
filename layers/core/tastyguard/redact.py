"""Defence in depth for secrets: every secret value we load is registered here, and log output passes
through :func:`scrub` before it is written. The first line of defence is never logging secrets at all
(``SecretStr`` everywhere); this catches the mistake nobody saw.
"""

from __future__ import annotations

import threading

MASK = '***'
_MIN_LENGTH = 8  # shorter values would mask innocent text; real secrets are long
_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember ``value`` so :func:`scrub` masks it wherever it appears."""
    if value and len(value) >= _MIN_LENGTH:
        with _lock:
            _secrets.add(value)


def scrub(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    if not _secrets:
        return text
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def forget_secrets() -> None:
    """Drop every registered value (tests)."""
    with _lock:
        _secrets.clear()
