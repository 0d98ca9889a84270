"""The job table: name → function and the alert kinds it owns; :func:`run` is what handlers and the CLI call."""

from __future__ import annotations

from tastyguard.jobs import digest, ensure_stops, reconcile_orders, sync_positions
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.invocation import JobInvocation, JobName
from tastyguard.jobs.results import AccountRunResult
from tastyguard.jobs.runner import AccountJob, run_job

JOBS: dict[JobName, tuple[AccountJob, frozenset[str]]] = {
    JobName.SYNC_POSITIONS: (sync_positions.sync_positions, sync_positions.ALERT_KINDS),
    JobName.ENSURE_STOPS: (ensure_stops.ensure_stops, ensure_stops.ALERT_KINDS),
    JobName.RECONCILE_ORDERS: (reconcile_orders.reconcile_orders, reconcile_orders.ALERT_KINDS),
    JobName.DIGEST: (digest.digest, digest.ALERT_KINDS),
}


def run(ctx: JobContext, invocation: JobInvocation) -> list[AccountRunResult]:
    """Run the invocation's job on its accounts."""
    job, kinds = JOBS[invocation.job]
    return run_job(ctx, invocation, job, kinds)
