"""What a Lambda handler loads at import: its own job, never the other jobs, the CLI or the test tools."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tastyguard.jobs.invocation import JobName
from tastyguard.jobs.registry import JOB_MODULES, job_for

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
OTHER_JOBS = {job.value: {f'tastyguard.jobs.{other.value}' for other in JobName if other is not job} for job in JobName}


def _modules_after_import(module: str) -> set[str]:
    code = f'import sys, json; import {module}; print(json.dumps(sorted(sys.modules)))'
    env = {'PATH': '/usr/bin:/bin', 'POWERTOOLS_TRACE_DISABLED': '1', 'AWS_DEFAULT_REGION': 'us-east-1'}
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed import
        [sys.executable, '-c', code], cwd=ROOT, env={**env, 'PYTHONPATH': f'{ROOT}:{ROOT / "layers" / "core"}'},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_every_job_resolves_to_its_function_and_alert_kinds() -> None:
    for job in JobName:
        function, kinds = job_for(job)
        assert function.__name__ == job.value
        assert function.__module__ == JOB_MODULES[job]
        assert isinstance(kinds, frozenset)


@pytest.mark.parametrize('job', ['sync_positions', 'ensure_stops'])
def test_a_handler_loads_its_own_job_and_not_the_others(job: str) -> None:
    loaded = _modules_after_import(f'functions.{job}.handler')
    assert not loaded & OTHER_JOBS[job]
    # (rich and click may appear here: httpx imports its CLI when they are installed, as in this venv; the layer
    # has neither, which bench/bench_coldstart.py checks on the real assets)
    assert not {name for name in loaded if name.split('.')[0] in {'typer', 'yaml', 'moto', 'paperbroker'}}
    assert not {name for name in loaded if name.startswith('tastyguard.cli')}


QUEUE_SIDE = {'functions.common.queued', 'tastyguard.fanout.worker'}
DISPATCHER = {'functions.common.dispatching', 'tastyguard.fanout.dispatch', 'tastyguard.fanout.plan'}
# Only a token refresh reads the broker secret (through Powertools Parameters); most cold starts find a
# valid access token in the shared cache.
REFRESH_ONLY = {'aws_lambda_powertools.utilities.parameters'}


def test_the_fast_path_loads_nothing_of_the_work_queues_or_the_dispatcher() -> None:
    loaded = _modules_after_import('functions.fast_path.handler')
    assert not loaded & (QUEUE_SIDE | DISPATCHER | REFRESH_ONLY)
    assert 'functions.common.jobs' in loaded


@pytest.mark.parametrize('job', ['sync_positions', 'ensure_stops', 'reconcile_orders', 'digest'])
def test_a_queue_worker_loads_its_queue_side_and_not_the_dispatcher(job: str) -> None:
    loaded = _modules_after_import(f'functions.{job}.handler')
    assert loaded >= QUEUE_SIDE
    assert not loaded & (DISPATCHER | REFRESH_ONLY)
