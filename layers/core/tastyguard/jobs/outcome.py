"""What one job does on one account, before the runner records and announces it."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from tastyguard.engine.actions import CoverageStatus, Plan, PositionCoverage
from tastyguard.jobs.results import ActionResult
from tastyguard.notify.dedupe import AlertCandidate
from tastyguard.notify.notice import Notice

DONE = frozenset({'placed', 'replaced', 'cancelled', 'already_sent'})


@dataclass
class Outcome:
    """A job's result on one account (the runner adds timing, status and notifications)."""

    mode: str
    actions: list[ActionResult] = field(default_factory=list)
    alerts: list[AlertCandidate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)  # what happened (info): sent when min_severity is info
    # What the job established; None when it did not (a skipped run, a job that does not look at stops).
    positions: int | None = None
    protected: int | None = None
    unprotected: int | None = None
    money_at_risk: Decimal | None = None
    notice: Notice | None = None  # a job's own message (the digest), published as is
    publish_notice: bool = True  # False: ``notice`` is reported in the result but not sent (digest turned off)
    scope_symbols: frozenset[str] | None = None  # a symbol-scoped run resolves only these symbols' alerts


def summarise_coverage(plan: Plan, actions: list[ActionResult], *, applied: bool) -> tuple[int, int, int, Decimal]:
    """(positions, protected, unprotected, money at risk) as the broker holds them after this run.

    With ``applied`` (live mode) a position counts its planned coverage only if every write for its symbol
    went through; otherwise (observe, shadow, failures) the coverage at the broker is what it was.
    """
    failed = {a.symbol for a in actions if a.kind in ('place', 'replace', 'cancel') and a.result not in DONE}
    protected = unprotected = 0
    at_risk = Decimal(0)
    for cover in plan.coverage:
        after = applied and cover.symbol not in failed
        missing = cover.unprotected_after if after else cover.unprotected_now
        if cover.status in (CoverageStatus.HANDS_OFF,):
            continue
        if missing == 0:
            protected += 1
        else:
            unprotected += 1
            at_risk += _risk(cover, after)
    return len(plan.coverage), protected, unprotected, at_risk


def _risk(cover: PositionCoverage, after: bool) -> Decimal:
    return cover.money_at_risk_after if after else cover.money_at_risk_now
