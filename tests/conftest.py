"""Shared test setup.

Environment first: fake AWS credentials and Powertools settings are set before any module under test is
imported, so no test can reach a real AWS account and Powertools never tries to talk to X-Ray.
Sockets are restricted to loopback by pytest-socket (``--allow-hosts`` in ``pyproject.toml``).
"""

from __future__ import annotations

import os

for _key, _value in {
    'AWS_ACCESS_KEY_ID': 'testing',
    'AWS_SECRET_ACCESS_KEY': 'testing',
    'AWS_SECURITY_TOKEN': 'testing',
    'AWS_SESSION_TOKEN': 'testing',
    'AWS_DEFAULT_REGION': 'us-east-1',
    'AWS_REGION': 'us-east-1',
    'POWERTOOLS_TRACE_DISABLED': '1',
    'POWERTOOLS_SERVICE_NAME': 'tastyguard',
    'POWERTOOLS_METRICS_NAMESPACE': 'tastyguard',
    'POWERTOOLS_DEV': '0',
    # jsii (the CDK's Node bridge) prints a multi-line banner, as Python bytes, on a Node past its end of life;
    # `make synth` says it once in words instead (see the Makefile's node-check).
    'JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION': '18,19,20,21',
}.items():
    os.environ[_key] = _value
# A developer's own AWS configuration must never leak into the tests.
for _key in ('AWS_PROFILE', 'AWS_ENDPOINT_URL', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE'):
    os.environ.pop(_key, None)
os.environ['AWS_CONFIG_FILE'] = os.devnull
os.environ['AWS_SHARED_CREDENTIALS_FILE'] = os.devnull

pytest_plugins = ['paperbroker.testing']
