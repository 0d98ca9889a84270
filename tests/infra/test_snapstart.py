"""SnapStart on the fast-path function: off by default; when on, a published version behind an alias."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import ManualArgs, lint

from infra import constants as c
from infra.settings import StackSettings, load_settings
from tastyguard.config import parse_config
from tests.infra.conftest import FULL_CONFIG, Synth, synthesize

pytestmark = pytest.mark.infra


@pytest.fixture(scope='module')
def snap(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    settings = StackSettings.from_config(parse_config(FULL_CONFIG, source='test'), source='test', snap_start=True)
    return synthesize(settings, tmp_path_factory.mktemp('cdk-snapstart'))


def _only(synth: Synth, resource_type: str) -> dict[str, Any]:
    (resource,) = synth.resources(resource_type).values()
    return resource


def test_snapstart_is_off_by_default(full: Synth) -> None:
    assert full.settings.snap_start is False
    assert all('SnapStart' not in props for props in full.functions().values())
    assert full.resources('AWS::Lambda::Version') == {}
    assert full.resources('AWS::Lambda::Alias') == {}


def test_the_context_flag_turns_it_on(tmp_path: Path) -> None:
    (tmp_path / 'tg.yaml').write_text('environment: paper\naccounts: [{account_number: 5WT00001}]\n')
    values = {'config': 'tg.yaml', 'snap_start': 'true'}
    assert load_settings(values.get, tmp_path).snap_start is True
    assert load_settings({'config': 'tg.yaml'}.get, tmp_path).snap_start is False


def test_only_the_fast_path_function_gets_snapstart(snap: Synth) -> None:
    functions = snap.functions()
    fast = functions['tastyguard-fast-path']
    assert fast['SnapStart'] == {'ApplyOn': 'PublishedVersions'}
    assert [name for name, props in functions.items() if 'SnapStart' in props] == ['tastyguard-fast-path']


def test_fill_events_invoke_the_alias_of_the_published_version(snap: Synth) -> None:
    alias_id, alias = next(iter(snap.resources('AWS::Lambda::Alias').items()))
    version_id = alias['Properties']['FunctionVersion']['Fn::GetAtt'][0]
    version = snap.json['Resources'][version_id]
    function_id = snap.logical_id('AWS::Lambda::Function', 'FunctionName', 'tastyguard-fast-path')
    assert alias['Properties']['Name'] == c.SNAP_START_ALIAS
    assert version['Properties']['FunctionName'] == {'Ref': function_id}
    # Replaced versions are deleted: each one's snapshot is billed while it exists
    assert version['DeletionPolicy'] == 'Delete'
    [rule] = snap.resources('AWS::Events::Rule').values()
    [target] = rule['Properties']['Targets']
    assert target['Arn'] == {'Ref': alias_id}
    # The schedule still invokes the function itself (a sweep gains nothing from a snapshot of itself)
    assert all('Live' not in json.dumps(s) for s in snap.resources('AWS::Scheduler::Schedule').values())


def test_the_alias_keeps_the_functions_retry_age_and_failure_queue(snap: Synth) -> None:
    function_id = snap.logical_id('AWS::Lambda::Function', 'FunctionName', 'tastyguard-fast-path')
    configs = [
        props['Properties']
        for props in snap.resources('AWS::Lambda::EventInvokeConfig').values()
        if props['Properties']['FunctionName'] == {'Ref': function_id}
    ]
    [latest] = [config for config in configs if config['Qualifier'] == '$LATEST']
    [alias_config] = [config for config in configs if config['Qualifier'] != '$LATEST']  # the alias's name
    alias_id = next(iter(snap.resources('AWS::Lambda::Alias')))
    assert alias_id in json.dumps(alias_config['Qualifier'])
    for key in ('MaximumRetryAttempts', 'MaximumEventAgeInSeconds', 'DestinationConfig'):
        assert alias_config[key] == latest[key], key


def test_snapstart_stack_is_cdk_nag_and_cfn_lint_clean(snap: Synth, synth_config: Callable[..., Synth]) -> None:
    assert [(v.rule_name, v.description) for v in AwsSolutionsChecks().validate_scope(snap.app).violations] == []
    matches = lint(json.dumps(snap.json), config=ManualArgs(regions=['us-east-1'], ignore_checks=['W3005']))
    assert [str(match) for match in matches] == []
