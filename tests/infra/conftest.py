"""Synthesizing the stack in-process: no AWS, no Docker, no pip, no network.

The App gets ``cdk.json``'s context (the CLI passes it, a bare ``App()`` would not, so tests and deploys
would otherwise synthesize different templates) plus ``aws:cdk:bundling-stacks: []`` so no asset is
bundled. Synthesizing is the slow part (the CDK's built-in CloudFormation validation loads once per
process, ~5-15 s), so the full stack is synthesized once per session and shared.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from infra import constants as c
from infra.settings import StackSettings, StreamerSettings
from infra.stacks.tastyguard_stack import TastyguardStack
from tastyguard.config import parse_config

ROOT = Path(__file__).resolve().parents[2]

# Slack on, two addresses, the digest on: every optional resource exists.
FULL_CONFIG: dict[str, Any] = {
    'environment': 'sandbox',
    'accounts': [{'account_number': '5WX01234'}],
    'notifications': {
        'email': ['trader@example.com', 'backup@example.com'],
        'slack': {'enabled': True, 'webhook_secret_name': 'tastyguard/slack-test'},
        'digest': True,
    },
}


@dataclass(frozen=True)
class Synth:
    """A synthesized stack and what tests look at."""

    app: cdk.App
    stack: TastyguardStack
    template: Template
    settings: StackSettings

    @property
    def json(self) -> dict[str, Any]:
        """The template as a dict."""
        return dict(self.template.to_json())

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Logical id -> resource, for one type."""
        return {key: value for key, value in self.json['Resources'].items() if value['Type'] == resource_type}

    def functions(self) -> dict[str, dict[str, Any]]:
        """Function name (``tastyguard-ensure-stops``) -> the function's properties."""
        return {
            resource['Properties']['FunctionName']: resource['Properties']
            for resource in self.resources('AWS::Lambda::Function').values()
        }

    def logical_id(self, resource_type: str, name_key: str, name: str) -> str:
        """The logical id of the resource of ``resource_type`` whose ``name_key`` property is ``name``."""
        matches = [
            key for key, value in self.resources(resource_type).items() if value['Properties'].get(name_key) == name
        ]
        assert len(matches) == 1, f'{len(matches)} {resource_type} named {name}'
        return matches[0]


def cdk_json_context() -> dict[str, Any]:
    """cdk.json's context, plus "bundle nothing"."""
    context: dict[str, Any] = json.loads((ROOT / 'cdk.json').read_text())['context']
    return {**context, 'aws:cdk:bundling-stacks': []}


def settings_for(
    config: dict[str, Any], *, reserved_concurrency: bool = True, streamer: StreamerSettings | None = None
) -> StackSettings:
    """Stack settings from a config dict (validated exactly like tastyguard.yaml) and streamer settings."""
    return StackSettings.from_config(
        parse_config(config, source='test'),
        source='test',
        reserved_concurrency=reserved_concurrency,
        streamer=streamer,
    )


def build(settings: StackSettings, outdir: Path) -> tuple[cdk.App, TastyguardStack]:
    """The app and the stack, not synthesized yet."""
    app = cdk.App(context=cdk_json_context(), outdir=str(outdir))
    return app, TastyguardStack(app, c.STACK_NAME, settings=settings)


def synthesize(settings: StackSettings, outdir: Path) -> Synth:
    """Build and synthesize the stack (cdk-nag runs as part of it and raises on a finding)."""
    app, stack = build(settings, outdir)
    return Synth(app=app, stack=stack, template=Template.from_stack(stack), settings=settings)


@pytest.fixture(scope='session')
def full(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    """The stack with every optional part, synthesized once per session."""
    yield synthesize(settings_for(FULL_CONFIG), tmp_path_factory.mktemp('cdk-full'))


@pytest.fixture(scope='session')
def synth_config() -> Callable[..., Synth]:
    """Synthesize another configuration (one per test module, please: each synth costs ~1 s)."""

    def synth(
        config: dict[str, Any],
        outdir: Path,
        *,
        reserved_concurrency: bool = True,
        streamer: StreamerSettings | None = None,
    ) -> Synth:
        return synthesize(settings_for(config, reserved_concurrency=reserved_concurrency, streamer=streamer), outdir)

    return synth


@pytest.fixture(scope='session')
def stack_for() -> Callable[[dict[str, Any], Path], tuple[cdk.App, TastyguardStack]]:
    """Build (without synthesizing) the stack of a configuration, to add to it before synth."""
    return lambda config, outdir: build(settings_for(config), outdir)
