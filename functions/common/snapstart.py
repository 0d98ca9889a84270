"""SnapStart runtime hooks (``snapshot_restore_py`` ships with Lambda's Python runtime, not with tastyguard).

With SnapStart on (``cdk deploy -c snap_start=true``, see ``infra/settings.py``) Lambda runs a published
version's init once, snapshots the memory, and resumes every new execution environment of that version from
the snapshot. The job functions then:

* **prime before the snapshot**: the job context is built at init (config validated, boto3 and httpx
  clients made, *no network call*) and the broker's deferred pydantic models are completed, so a restored
  environment starts with all of it instead of paying it in its first invocation;
* **make every restored environment unique again** (``after_restore``): the module-level ``random`` and the
  broker's jitter generator are reseeded from the OS (otherwise all copies draw the same backoff and retry
  in lockstep), and the token-refresh lock gets a new owner identity (two copies must never both believe they
  hold it).

What needs no hook, and why: no connection exists at snapshot time (priming makes no network call; a test runs
it with sockets blocked); no access token is in memory (none is fetched before the first invocation); lease
owners and run ids are made per invocation from the request id and ``uuid4``; the rate limiter's buckets
are full and unused. Outside Lambda the module is missing and registering does nothing.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Mapping

from pydantic import BaseModel

SNAP_START_INIT = 'snap-start'  # AWS_LAMBDA_INITIALIZATION_TYPE while Lambda initializes a SnapStart version


def snap_start_init(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this init is the one Lambda snapshots (a SnapStart version being published)."""
    environ = os.environ if environ is None else environ
    return environ.get('AWS_LAMBDA_INITIALIZATION_TYPE') == SNAP_START_INIT


def register(*, before_snapshot: Callable[[], None], after_restore: Callable[[], None]) -> bool:
    """Register the two hooks with the runtime; False where there is no SnapStart runtime (tests, the CLI)."""
    try:
        import snapshot_restore_py  # noqa: PLC0415 - present only in Lambda's Python runtime
    except ImportError:
        return False
    snapshot_restore_py.register_before_snapshot(before_snapshot)
    snapshot_restore_py.register_after_restore(after_restore)
    return True


def complete_deferred_models(*bases: type[BaseModel]) -> int:
    """Build the validators of every loaded subclass of ``bases`` whose build was deferred; returns how many."""
    built = 0
    pending: list[type[BaseModel]] = list(bases)
    seen: set[type[BaseModel]] = set()
    while pending:
        model = pending.pop()
        if model in seen:
            continue
        seen.add(model)
        pending.extend(model.__subclasses__())
        if model in bases or model.__pydantic_complete__:
            continue
        model.model_rebuild()
        built += 1
    return built


def reseed_process_random() -> None:
    """Reseed the module-level ``random`` generator from the OS's entropy."""
    random.seed()
