"""What a job run reports: per account, in the shape of ``tastyguard run --json``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


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


class AccountRunResult(BaseModel):
    """One job run on one account."""

    model_config = ConfigDict(frozen=True)

    job: str
    run_id: str
    account: str
    mode: str
    environment: str
    status: str  # ok | skipped | failed
    positions: int = 0
    protected: int = 0
    unprotected: int = 0
    money_at_risk: Decimal = Decimal(0)
    actions: list[ActionResult] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    events: list[str] = Field(default_factory=list)
    api_calls: int = 0
    rate_limited: int = 0
    duration_ms: int = 0

    def to_cli_json(self) -> dict[str, Any]:
        """The documented ``--json`` object."""
        return {
            'job': self.job,
            'mode': self.mode,
            'environment': self.environment,
            'account': self.account,
            'status': self.status,
            'positions': self.positions,
            'protected': self.protected,
            'unprotected': self.unprotected,
            'money_at_risk': str(self.money_at_risk.quantize(Decimal('0.01'))),
            'actions': [
                {
                    'kind': action.kind,
                    'symbol': action.symbol,
                    'quantity': None if action.quantity is None else str(action.quantity),
                    'stop_trigger': None if action.stop_trigger is None else str(action.stop_trigger),
                    'reason': action.reason,
                    'result': action.result,
                    **({'order_id': action.order_id} if action.order_id else {}),
                    **({'detail': action.detail} if action.detail else {}),
                }
                for action in self.actions
            ],
            'errors': list(self.errors),
            'notes': list(self.notes),
            'events': list(self.events),
        }
