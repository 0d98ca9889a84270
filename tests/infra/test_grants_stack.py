"""A configuration with three grants: each gets its secrets, and the roles reach exactly those."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.infra

GRANTS_CONFIG: dict[str, Any] = {
    'environment': 'production',
    'grants': [
        {'name': 'default', 'accounts': ['5WX01234']},
        {'name': 'family', 'accounts': ['5WX05678']},
        {'name': 'advisor', 'secret': 'clients/advisor-grant', 'discover': True, 'except': ['5WX09999']},
    ],
    'scale': {'concurrency': 12},
}


@pytest.fixture(scope='module')
def grants(synth_config: Callable[..., Any], tmp_path_factory: pytest.TempPathFactory) -> Any:
    return synth_config(GRANTS_CONFIG, tmp_path_factory.mktemp('cdk-grants'))


def _policy(synth: Any, function_name: str) -> dict[str, Any]:
    function = synth.functions()[function_name]
    role = function['Role']['Fn::GetAtt'][0]
    (policy,) = [
        p['Properties']['PolicyDocument']
        for p in synth.resources('AWS::IAM::Policy').values()
        if {'Ref': role} in p['Properties']['Roles']
    ]
    return {statement.get('Sid', ''): statement for statement in policy['Statement']}


def test_every_grant_gets_a_credentials_secret_and_a_token_cache(grants: Any) -> None:
    names = {s['Properties']['Name'] for s in grants.resources('AWS::SecretsManager::Secret').values()}
    assert names == {
        'tastyguard/broker',
        'tastyguard/access-token',
        'tastyguard/grants/family',
        'tastyguard/access-token/family',
        'clients/advisor-grant',
        'tastyguard/access-token/advisor',
    }


@pytest.mark.parametrize('function_name', ['tastyguard-ensure-stops', 'tastyguard-fast-path', 'tastyguard-dispatch'])
def test_workers_and_the_dispatcher_read_every_grant_and_share_every_token(grants: Any, function_name: str) -> None:
    secrets = grants.resources('AWS::SecretsManager::Secret')
    policy = _policy(grants, function_name)
    read = {secrets[r['Ref']]['Properties']['Name'] for r in policy['ReadBrokerGrant']['Resource']}
    shared = {secrets[r['Ref']]['Properties']['Name'] for r in policy['ShareAccessToken']['Resource']}
    assert read == {'tastyguard/broker', 'tastyguard/grants/family', 'clients/advisor-grant'}
    assert shared == {'tastyguard/access-token', 'tastyguard/access-token/family', 'tastyguard/access-token/advisor'}


def test_the_configured_concurrency_caps_every_work_queue(grants: Any) -> None:
    mappings = grants.resources('AWS::Lambda::EventSourceMapping').values()
    assert {m['Properties']['ScalingConfig']['MaximumConcurrency'] for m in mappings} == {12}
    assert grants.functions()['tastyguard-ensure-stops']['ReservedConcurrentExecutions'] == 12
