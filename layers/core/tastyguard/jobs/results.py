"""What a job run reports: per account, in the shape of ``tastyguard run --json``.

Counts a job did not establish are ``None`` (``null`` in JSON), never a reassuring zero: a skipped or failed
run knows nothing about coverage, and ``sync_positions`` counts positions but not their stops.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tastyguard.notify.notice import Notice

RESULT_WORDS = {
    'planned': 'planned',
    'dry_run_ok': 'dry-run ok',
    'dry_run_rejected': 'dry-run rejected',
    'dry_run_failed': 'dry-run failed',
    'would_cancel': 'would cancel',
    'placed': 'placed',
    'replaced': 'resized',
    'cancelled': 'cancelled',
    'already_sent': 'already at the broker',
    'not_cancelled': 'not cancelled',
    'cancel_pending': 'cancel not confirmed yet',
    'filled': 'filled before the cancel',
    'rejected': 'rejected',
    'ambiguous': 'unconfirmed',
    'invalid': 'not sent (invalid)',
    'blocked': 'blocked',
    'deferred': 'deferred',
    'raised': 'alert',
    'left alone': 'left alone',
}
"""Each ``ActionResult.result`` code in words, for messages and tables (the codes stay in ``--json``)."""


def result_words(result: str) -> str:
    """``dry_run_ok`` → ``dry-run ok``; an unknown code with its underscores as spaces."""
    return RESULT_WORDS.get(result, result.replace('_', ' '))


class ActionResult(BaseModel):
    """One planned action and what became of it at the broker."""

    model_config = ConfigDict(frozen=True)

    kind: str  # place | replace | cancel | alert | report
    symbol: str | None
    quantity: Decimal | None = None
    stop_trigger: Decimal | None = None
    limit_price: Decimal | None = None
    order_type: str | None = None
    action: str | None = None
    reason: str
    result: str  # planned | dry_run_ok | dry_run_rejected | placed | replaced | cancelled | rejected | ...
    order_id: str | None = None
    external_identifier: str | None = None
    detail: str | None = None
    severity: str | None = None
    alert: str | None = None  # an alert's kind (``breached``, ``stop_triggering``, ...)


class AlertView(BaseModel):
    """A problem the run saw (before de-duplication decided whether to send it again)."""

    model_config = ConfigDict(frozen=True)

    kind: str
    severity: str
    message: str
    symbol: str | None = None


class AccountRunResult(BaseModel):
    """One job run on one account."""

    model_config = ConfigDict(frozen=True)

    job: str
    run_id: str
    account: str
    mode: str
    environment: str
    status: str  # ok | skipped | failed
    positions: int | None = None
    protected: int | None = None
    unprotected: int | None = None
    money_at_risk: Decimal | None = None
    actions: list[ActionResult] = Field(default_factory=list)
    alerts: list[AlertView] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    events: list[str] = Field(default_factory=list)
    digest: Notice | None = None  # the digest job's message (also when notifications.digest is off)
    api_calls: int = 0
    rate_limited: int = 0
    duration_ms: int = 0

    @property
    def critical(self) -> bool:
        """True when the run saw a critical problem (a person has to act)."""
        return any(alert.severity == 'critical' for alert in self.alerts)

    def to_cli_json(self) -> dict[str, Any]:
        """The documented ``--json`` object of one account (``docs/operations.md``, "Output for scripts")."""
        return {
            'job': self.job,
            'run_id': self.run_id,
            'mode': self.mode,
            'environment': self.environment,
            'account': self.account,
            'status': self.status,
            'positions': self.positions,
            'protected': self.protected,
            'unprotected': self.unprotected,
            'money_at_risk': None if self.money_at_risk is None else str(self.money_at_risk.quantize(Decimal('0.01'))),
            'actions': [
                {
                    'kind': action.kind,
                    'symbol': action.symbol,
                    'action': action.action,
                    'order_type': action.order_type,
                    'quantity': None if action.quantity is None else str(action.quantity),
                    'stop_trigger': None if action.stop_trigger is None else str(action.stop_trigger),
                    'limit_price': None if action.limit_price is None else str(action.limit_price),
                    'reason': action.reason,
                    'result': action.result,
                    'order_id': action.order_id,
                    'detail': action.detail,
                    'severity': action.severity,
                }
                for action in self.actions
            ],
            'alerts': [alert.model_dump(mode='json') for alert in self.alerts],
            'critical': self.critical,
            'digest': None if self.digest is None else _digest_json(self.digest),
            'errors': list(self.errors),
            'notes': list(self.notes),
            'events': list(self.events),
            'api_calls': self.api_calls,
            'duration_ms': self.duration_ms,
        }


def _digest_json(notice: Notice) -> dict[str, Any]:
    return {
        'title': notice.title,
        'severity': notice.severity.value,
        'summary': notice.summary,
        'sections': [{'title': section.title, 'lines': list(section.lines)} for section in notice.sections],
    }
