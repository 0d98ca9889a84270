"""The intent log: every order write is recorded *before* it is sent.

tastytrade does not de-duplicate orders. If a run dies or the response is lost after an order POST, the
intent (with the order's deterministic external identifier) survives, and the next run looks the order up
at the broker before anything is sent again. An unconfirmed write is never assumed to have failed.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tastyguard.store.keys import account_pk, intent_sk
from tastyguard.store.table import StateTable, to_record

INTENT_TTL = timedelta(days=30)
OPEN_PREFIX = 'OPENINTENT#'


class IntentState(enum.StrEnum):
    """Where an order write stands."""

    PENDING = 'pending'  # recorded, about to be sent (or the sender died)
    SENT = 'sent'  # the broker confirmed it (order id known)
    AMBIGUOUS = 'ambiguous'  # sent, but the outcome is unknown (timeout, 5xx, dropped connection)
    REJECTED = 'rejected'  # the broker refused it (4xx with a reason): nothing was created
    NOT_FOUND = 'not_found'  # looked up after an ambiguous send and confirmed absent
    SKIPPED = 'skipped'  # not sent after all (kill switch, breaker, lease lost)

    @property
    def unresolved(self) -> bool:
        """True while the broker's side of this write is unknown."""
        return self in (IntentState.PENDING, IntentState.AMBIGUOUS)


class IntentOperation(enum.StrEnum):
    """What the write does."""

    PLACE = 'place'
    REPLACE = 'replace'
    CANCEL = 'cancel'


class Intent(BaseModel):
    """One recorded order write."""

    model_config = ConfigDict(frozen=True)

    account: str
    key: str  # the external identifier for place/replace, ``cancel:<order id>`` for a cancel
    operation: IntentOperation
    symbol: str
    state: IntentState = IntentState.PENDING
    request: dict[str, Any] = Field(default_factory=dict)  # the wire JSON (never secret)
    target_order_id: int | None = None  # the order a replace/cancel acts on
    order_id: int | None = None  # the order the broker created (place/replace)
    run_id: str
    mode: str
    environment: str
    created_at: datetime
    updated_at: datetime
    error: str | None = None


class IntentStore:
    """Intents of every account, in the state table."""

    def __init__(self, state: StateTable) -> None:
        self._state = state

    def begin(self, intent: Intent) -> tuple[Intent, bool]:
        """Record ``intent`` unless one with the same key exists.

        Returns ``(intent, True)`` when recorded now, ``(existing, False)`` when the key was already there
        (a retry of the same run): the caller must resolve the existing intent instead of sending again.
        """
        pk = account_pk(intent.account)
        # The open-intent pointer goes first: a crash between the two writes leaves a pointer without an
        # intent, which resolution treats as "look the order up" (safe); never an intent nobody checks.
        # No TTL: kept until resolved. The creation time lets a pointer whose intent is missing expire its grace.
        self._state.table.put_item(
            Item={'pk': pk, 'sk': OPEN_PREFIX + intent.key, 'created_at': intent.created_at.isoformat()}
        )
        try:
            self._state.put_record(
                pk, intent_sk(intent.key), intent, ttl=INTENT_TTL, ConditionExpression='attribute_not_exists(pk)'
            )
        except Exception as error:
            if not self._state.is_conditional_failure(error):
                raise
            existing = self.get(intent.account, intent.key)
            if existing is None:  # pragma: no cover - deleted between the put and the get
                raise
            return existing, False
        return intent, True

    def get(self, account: str, key: str) -> Intent | None:
        """The intent recorded under ``key``, or None."""
        return self._state.get_record(account_pk(account), intent_sk(key), Intent)

    def update(
        self, intent: Intent, state: IntentState, *, order_id: int | None = None, error: str | None = None
    ) -> Intent:
        """Move ``intent`` to ``state`` (keeping what was there) and return the stored version."""
        updated = intent.model_copy(
            update={
                'state': state,
                'order_id': order_id if order_id is not None else intent.order_id,
                'error': error,
                'updated_at': self._state.clock(),
            }
        )
        pk = account_pk(intent.account)
        self._state.put_record(pk, intent_sk(intent.key), updated, ttl=INTENT_TTL)
        if not state.unresolved:
            self._state.table.delete_item(Key={'pk': pk, 'sk': OPEN_PREFIX + intent.key})
        return updated

    def all(self, account: str) -> list[Intent]:
        """Every intent still kept for ``account`` (oldest first)."""
        return [to_record(item, Intent) for item in self._state.query_prefix(account_pk(account), 'INTENT#')]

    def unresolved(self, account: str) -> list[Intent]:
        """Intents whose outcome at the broker is still unknown (read through the open-intent pointers).

        A pointer whose intent was never written (the writer died in between) comes back as a PENDING
        placeholder with only the key and account known, so the caller still looks the order up.
        """
        found: list[Intent] = []
        for item in self._state.query_prefix(account_pk(account), OPEN_PREFIX):
            key = str(item['sk'])[len(OPEN_PREFIX) :]
            intent = self.get(account, key)
            if intent is None:
                stamp = item.get('created_at')
                now = datetime.fromisoformat(str(stamp)) if stamp else self._state.clock()
                intent = Intent(
                    account=account,
                    key=key,
                    operation=IntentOperation.PLACE,
                    symbol='',
                    run_id='unknown',
                    mode='unknown',
                    environment='unknown',
                    created_at=now,
                    updated_at=now,
                )
            if intent.state.unresolved:
                found.append(intent)
            else:  # resolved but the pointer delete was lost: tidy up
                self._state.table.delete_item(Key={'pk': account_pk(account), 'sk': item['sk']})
        return found
