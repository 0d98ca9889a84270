"""checkov, an outside IaC scanner, on the synthesized template: no finding that is not explained in the template.

checkov runs in-process through its Python API, offline: the platform mapping download and the package
scan are switched off, no API key is visible to it, and every socket it might open is recorded (and
refused, as pytest-socket refuses anything but loopback). Two templates are scanned: the full stack and a
minimal one deployed without reserved concurrency, so every entry of ``infra/checkov_skips.py`` is exercised.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

from infra import checkov_skips
from infra.settings import StreamerCapacity, StreamerHours, StreamerSettings

pytestmark = pytest.mark.infra

# Read by checkov when it is imported: nothing to download (no platform mapping, no package scan, no version
# check, no secret validation), and no forked workers (the test process has the CDK's jsii threads).
CHECKOV_ENV = {
    'BC_SKIP_MAPPING': 'TRUE',
    'CHECKOV_RUN_SCA_PACKAGE_SCAN': 'false',
    'CKV_SKIP_PACKAGE_UPDATE_CHECK': 'true',
    'CKV_VALIDATE_SECRETS': 'false',
    'CHECKOV_PARALLELIZATION_TYPE': 'none',
}
PLATFORM_ENV = ('BC_API_KEY', 'BC_API_URL', 'PRISMA_API_URL', 'BC_REPO_ID')

NO_RESERVED_CONCURRENCY_CONFIG: dict[str, Any] = {
    'environment': 'paper',
    'accounts': [{'account_number': '5WX01234'}],
    'notifications': {'digest': False},
}


@dataclass
class Scan:
    """One checkov report, reduced to what the tests read."""

    resources: int
    parsing_errors: list[str]
    passed: list[tuple[str, str]]
    failed: list[tuple[str, str, str]]
    skipped: list[tuple[str, str, str]]  # (check id, resource, the comment checkov read)
    sockets: list[Any] = field(default_factory=list)


@pytest.fixture(scope='session')
def checkov_scan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[dict[str, Any]], Scan]]:
    """Scan a template with checkov's CloudFormation runner, offline."""
    attempts: list[Any] = []
    connect, getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def record_connect(sock: socket.socket, address: Any) -> Any:
        attempts.append(address)
        return connect(sock, address)

    def record_lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        attempts.append(host)
        return getaddrinfo(host, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        for name, value in CHECKOV_ENV.items():
            patch.setenv(name, value)
        for name in PLATFORM_ENV:
            patch.delenv(name, raising=False)
        patch.setattr(socket.socket, 'connect', record_connect)
        patch.setattr(socket, 'getaddrinfo', record_lookup)
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        # imported only now: checkov reads the environment at import time
        from checkov.cloudformation.runner import Runner
        from checkov.common.output.report import Report
        from checkov.runner_filter import RunnerFilter

        root.handlers[:], root.level = handlers, level  # checkov's import configures the root logger

        def scan(template: dict[str, Any]) -> Scan:
            path = tmp_path_factory.mktemp('checkov') / 'template.json'
            path.write_text(json.dumps(template))
            report = Runner().run(
                root_folder=None, files=[str(path)], runner_filter=RunnerFilter(framework=['cloudformation'])
            )
            assert isinstance(report, Report), report  # one framework, one report
            return Scan(
                resources=int(report.get_summary()['resource_count']),
                parsing_errors=list(report.parsing_errors),
                passed=[(r.check_id, r.resource) for r in report.passed_checks],
                failed=[(r.check_id, r.resource, r.check_name) for r in report.failed_checks],
                skipped=[
                    (r.check_id, r.resource, str(r.check_result.get('suppress_comment', '')))
                    for r in report.skipped_checks
                ],
                sockets=attempts,
            )

        yield scan


@pytest.fixture(scope='module')
def full_scan(full: Any, checkov_scan: Callable[[dict[str, Any]], Scan]) -> Scan:
    return checkov_scan(full.json)


# The cheapest streamer (Spot, market hours, no Container Insights) goes with the cheapest Lambda setup.
CHEAPEST_STREAMER = StreamerSettings(
    capacity=StreamerCapacity.SPOT, hours=StreamerHours.MARKET, container_insights=False
)


@pytest.fixture(scope='module')
def unreserved(synth_config: Callable[..., Any], tmp_path_factory: pytest.TempPathFactory) -> Any:
    return synth_config(
        NO_RESERVED_CONCURRENCY_CONFIG,
        tmp_path_factory.mktemp('cdk-unreserved'),
        reserved_concurrency=False,
        streamer=CHEAPEST_STREAMER,
    )


@pytest.fixture(scope='module')
def unreserved_scan(unreserved: Any, checkov_scan: Callable[[dict[str, Any]], Scan]) -> Scan:
    return checkov_scan(unreserved.json)


def findings(scan: Scan) -> list[str]:
    return [f'{check} on {resource}: {name}' for check, resource, name in scan.failed]


def test_checkov_finds_nothing_unexplained_in_the_full_stack(full: Any, full_scan: Scan) -> None:
    # Then checkov read every resource of the template
    assert full_scan.parsing_errors == []
    assert full_scan.resources == len(full.json['Resources'])
    # And every check it ran passed or was skipped with a reason in the template
    assert findings(full_scan) == []
    assert len(full_scan.passed) > 150


def test_checkov_finds_nothing_unexplained_without_reserved_concurrency(unreserved_scan: Scan) -> None:
    assert unreserved_scan.parsing_errors == []
    assert findings(unreserved_scan) == []


def test_checkov_stays_offline(full_scan: Scan, unreserved_scan: Scan) -> None:
    assert full_scan.sockets == unreserved_scan.sockets == []


def test_without_the_templates_skips_checkov_reports_exactly_the_accepted_findings(
    full: Any, full_scan: Scan, checkov_scan: Callable[[dict[str, Any]], Scan]
) -> None:
    # Given the full template without the checkov metadata the stack writes
    template = full.json
    for resource in template['Resources'].values():
        resource.get('Metadata', {}).pop('checkov', None)
    # When checkov scans it
    bare = checkov_scan(template)
    # Then it fails exactly the checks that were skipped, on the same resources
    assert sorted((check, resource) for check, resource, _ in bare.failed) == sorted(
        (check, resource) for check, resource, _ in full_scan.skipped
    )


def test_every_queue_and_log_group_passes_the_encryption_checks(full: Any, full_scan: Scan) -> None:
    # CKV_AWS_27: SQS encrypted with a KMS key; CKV_AWS_158: log group encrypted with a KMS key
    passed = set(full_scan.passed)
    for check, resource_type in (('CKV_AWS_27', 'AWS::SQS::Queue'), ('CKV_AWS_158', 'AWS::Logs::LogGroup')):
        resources = full.resources(resource_type)
        assert resources, resource_type
        for logical_id in resources:
            assert (check, f'{resource_type}.{logical_id}') in passed


def test_every_skip_checkov_honours_is_one_of_ours_with_its_reason(full_scan: Scan, unreserved_scan: Scan) -> None:
    reasons = {(skip.check, skip.comment) for skip in checkov_skips.ALL_SKIPS}
    for check, resource, comment in [*full_scan.skipped, *unreserved_scan.skipped]:
        assert (check, comment) in reasons, f'{check} on {resource}: {comment!r}'


def test_every_skip_in_the_table_still_skips_a_finding(full_scan: Scan, unreserved_scan: Scan) -> None:
    honoured = {(check, comment) for check, _, comment in [*full_scan.skipped, *unreserved_scan.skipped]}
    unused = [skip.check for skip in checkov_skips.ALL_SKIPS if (skip.check, skip.comment) not in honoured]
    assert unused == []


def skipped_functions(synth: Any, check: str) -> set[str]:
    """Names of the functions whose template metadata skips ``check``."""
    return {
        resource['Properties']['FunctionName']
        for resource in synth.resources('AWS::Lambda::Function').values()
        if check in {entry['id'] for entry in resource.get('Metadata', {}).get('checkov', {}).get('skip', [])}
    }


def test_the_concurrency_skip_covers_the_sweep_worker_only_when_reservations_are_off(
    full: Any, unreserved: Any
) -> None:
    # The ensure-stops sweep worker reserves its concurrency; the others are bounded by their queue, their tick
    # or the streamer (the reason is in the skip), the notifier by design
    everything = set(full.functions())
    assert skipped_functions(full, 'CKV_AWS_115') == everything - {'tastyguard-ensure-stops'}
    assert skipped_functions(unreserved, 'CKV_AWS_115') == set(unreserved.functions())


def test_a_function_without_an_on_failure_destination_keeps_its_dlq_finding(tmp_path: Path) -> None:
    # Given a function with no asynchronous failure destination, and one that carries a checkov skip already
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, 'Probe')
    bare = lambda_.Function(
        stack, 'Bare', code=lambda_.Code.from_inline('x'), handler='a.b', runtime=lambda_.Runtime.PYTHON_3_13
    )
    earlier = {'id': 'CKV_AWS_45', 'comment': 'skipped elsewhere'}
    cfn = bare.node.default_child
    assert isinstance(cfn, cdk.CfnResource)
    cfn.add_metadata('checkov', {'skip': [earlier]})
    cdk.Aspects.of(stack).add(checkov_skips.CheckovSkips(checkov_skips.ALL_SKIPS))
    # When the skips are written
    (function,) = Template.from_stack(stack).find_resources('AWS::Lambda::Function').values()
    entries = function['Metadata']['checkov']['skip']
    # Then the DLQ check is not skipped (its reason does not hold), and the earlier skip is kept
    assert [entry['id'] for entry in entries] == ['CKV_AWS_45', 'CKV_AWS_117', 'CKV_AWS_173', 'CKV_AWS_115']
    assert entries[0] == earlier
