"""The client package stays light: no heavy dependency at import, rarely used models load on demand."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import tastyguard.broker

pytestmark = pytest.mark.unit

HEAVY = ('pandas', 'numpy', 'boto3', 'botocore', 'aws_lambda_powertools', 'tastytrade', 'paperbroker')
LAZY = ('chains', 'market', 'transactions', 'streamer')


def test_import_loads_no_heavy_dependency_and_no_rarely_used_model() -> None:
    code = (
        'import json, sys, tastyguard.broker; '
        f'print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r} '
        f'or m in {tuple(f"tastyguard.broker.models.{name}" for name in LAZY)!r})))'
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, '-c', code], check=True, capture_output=True, text=True
    ).stdout
    assert json.loads(out) == []


def test_every_public_name_resolves() -> None:
    for name in tastyguard.broker.__all__:
        assert getattr(tastyguard.broker, name) is not None, name
    with pytest.raises(AttributeError):
        _ = tastyguard.broker.NoSuchThing  # type: ignore[attr-defined]
