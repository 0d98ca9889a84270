"""What the bytecode tests share: the runtime's magic number and a skip for machines without python3.13."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from infra import constants as c
from infra.bytecode import lambda_python

LAMBDA_VERSION = tuple(int(part) for part in c.LAYER_PYTHON_VERSION.split('.'))
# check_tree recomputes source hashes with the running interpreter, so the checks run on the runtime's minor.
RUNTIME_MAGIC = importlib.util.MAGIC_NUMBER

needs_lambda_python = pytest.mark.skipif(
    sys.version_info[:2] != LAMBDA_VERSION or lambda_python() is None,
    reason=f'bytecode checks need the tests to run on CPython {c.LAYER_PYTHON_VERSION}, the Lambda runtime',
)
