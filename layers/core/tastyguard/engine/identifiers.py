"""Deterministic external identifiers for tastyguard's orders.

``tg-`` + 26 lowercase base32 characters of a SHA-256 digest over (account, symbol, side, purpose,
quantity, trigger, salt): 29 characters, only ``[a-z2-7-]``. The same inputs always give the same
identifier, so a retried run (same salt: the run's scheduled time) re-derives the identifier of an order
whose response was lost and finds it at the broker instead of sending it twice; the next run (another salt)
gets new identifiers. Numbers are normalised first, so ``100`` and ``100.00`` give the same identifier.
"""

from __future__ import annotations

import base64
import hashlib
from decimal import Decimal

from tastyguard.engine.types import OWN_PREFIX

DIGEST_CHARS = 26
"""130 bits: collisions are not a practical concern."""


def _number(value: Decimal | None) -> str:
    return '' if value is None else format(value.normalize(), 'f')


def external_identifier(
    *,
    account_number: str,
    symbol: str,
    side: str,
    purpose: str,
    quantity: Decimal,
    trigger: Decimal | None,
    salt: str,
) -> str:
    """The identifier for one intended order (see the module docstring)."""
    material = '\x1f'.join((account_number, symbol, side, purpose, _number(quantity), _number(trigger), salt)).encode(
        'utf-8'
    )
    digest = base64.b32encode(hashlib.sha256(material).digest()).decode('ascii').lower()
    return OWN_PREFIX + digest[:DIGEST_CHARS]
