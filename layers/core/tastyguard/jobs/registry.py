"""The job table: name → the module holding the job and the alert kinds it owns; :func:`run` is what handlers
and the CLI call.

Each job module exposes the job function (named like the job) and ``ALERT_KINDS``. A module is imported
the first time its job runs, so a Lambda whose handler runs one job never loads the other three (their
code and the models only they use are not part of that function's cold start).
"""

from __future__ import annotations

import importlib
from typing import cast

from tastyguard.jobs.context import JobContext
from tastyguard.jobs.invocation import JobInvocation, JobName
from tastyguard.jobs.results import AccountRunResult
from tastyguard.jobs.runner import AccountJob, run_job

JOB_MODULES: dict[JobName, str] = {job: f'tastyguard.jobs.{job.value}' for job in JobName}


def job_for(job: JobName) -> tuple[AccountJob, frozenset[str]]:
    """The job function of ``job`` and the alert kinds it owns (importing its module on first use)."""
    module = importlib.import_module(JOB_MODULES[job])
    return cast(AccountJob, getattr(module, job.value)), cast(frozenset[str], module.ALERT_KINDS)


def run(ctx: JobContext, invocation: JobInvocation) -> list[AccountRunResult]:
    """Run the invocation's job on its accounts."""
    job, kinds = job_for(invocation.job)
    return run_job(ctx, invocation, job, kinds)
