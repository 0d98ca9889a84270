"""The command line end to end: the paper broker on loopback, AWS embedded or a moto server on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from click.testing import Result
from typer.testing import CliRunner

from paperbroker.server import PaperBroker
from tastyguard.cli.app import app
from tastyguard.store.schema import create_tables

PAPER_CONFIG = """\
environment: paper
mode: shadow
accounts:
  - account_number: 5WT00001
    nickname: Individual
  - account_number: 5WT00002
    nickname: Roth IRA
notifications:
  email: [trader@example.com]
"""


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run ``tastyguard ARGS`` in-process (stdout and stderr apart), 80 columns wide like a small terminal."""
    return CliRunner().invoke(app, list(args), env={'COLUMNS': '80', **(env or {})})


@pytest.fixture
def paper(paper_broker: PaperBroker, monkeypatch: pytest.MonkeyPatch) -> PaperBroker:
    """The paper broker's credentials in the environment, as `./tastyguard paper serve` users export them."""
    monkeypatch.setenv('TASTYTRADE_CLIENT_SECRET', paper_broker.client_secret)
    monkeypatch.setenv('TASTYTRADE_REFRESH_TOKEN', paper_broker.refresh_token)
    monkeypatch.delenv('TASTYGUARD_API_URL', raising=False)
    monkeypatch.delenv('TASTYGUARD_STORE', raising=False)
    return paper_broker


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with a paper configuration as tastyguard.yaml, as the current directory."""
    (tmp_path / 'tastyguard.yaml').write_text(PAPER_CONFIG)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@dataclass
class MotoEndpoint:
    """A moto server on loopback: a local AWS endpoint (``--store URL``) or, via AWS_ENDPOINT_URL, "the stack"."""

    url: str

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.url, region_name='us-east-1')  # type: ignore[call-overload]

    def items(self) -> list[dict[str, Any]]:
        """Every item of every tastyguard table (what a read-only command must leave untouched)."""
        dynamodb = self.client('dynamodb')
        found: list[dict[str, Any]] = []
        for name in dynamodb.list_tables()['TableNames']:
            for page in dynamodb.get_paginator('scan').paginate(TableName=name):
                found.extend(page['Items'])
        return sorted(found, key=repr)

    def parameters(self) -> list[dict[str, Any]]:
        return [
            {'name': p['Name'], 'value': p['Value'], 'version': p['Version']}
            for p in self.client('ssm').describe_parameters().get('Parameters', [])
            for p in [self.client('ssm').get_parameter(Name=p['Name'])['Parameter']]
        ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope='session')
def moto_server() -> Iterator[MotoEndpoint]:
    """moto's server in its own process (as `moto_server` users run it) on a free loopback port.

    Its own process, because an in-process server shares moto's state with the embedded store (`mock_aws`).
    """
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, '-m', 'moto.server', '-H', '127.0.0.1', '-p', str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(400):
            try:
                with socket.create_connection(('127.0.0.1', port), timeout=0.2):
                    break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError('moto_server did not start') from None
                threading.Event().wait(0.05)
        yield MotoEndpoint(f'http://127.0.0.1:{port}')
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def moto_endpoint(moto_server: MotoEndpoint) -> MotoEndpoint:
    """A local AWS endpoint with nothing in it (the session's moto server, reset for this test)."""
    httpx.post(f'{moto_server.url}/moto-api/reset', timeout=10).raise_for_status()
    return moto_server


@pytest.fixture
def stack(moto_endpoint: MotoEndpoint, monkeypatch: pytest.MonkeyPatch) -> MotoEndpoint:
    """ "The deployed stack": its tables exist in "your AWS account" (a moto server your profile points at)."""
    monkeypatch.setenv('AWS_ENDPOINT_URL', moto_endpoint.url)
    create_tables(moto_endpoint.client('dynamodb'))
    return moto_endpoint


@pytest.fixture
def real_looking_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """A trader's machine with AWS credentials and a region configured (any AWS call would go to AWS)."""
    for key in ('AWS_ENDPOINT_URL', 'AWS_PROFILE'):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv('AWS_ACCESS_KEY_ID', 'AKIAREALLOOKING000000')
    monkeypatch.setenv('AWS_SECRET_ACCESS_KEY', 'not-a-real-secret')
    monkeypatch.setenv('AWS_DEFAULT_REGION', 'us-east-1')
    assert os.environ.get('AWS_ENDPOINT_URL') is None
