"""Every command the docs print is run, so the docs cannot drift from the command line.

The README, ``docs/deploy.md``, ``docs/operations.md`` and the demo's last screen are read top to bottom like a
person would: each shell line of their code blocks, and each ``./tastyguard ...`` in their prose, is executed in a
scratch folder. ``./tastyguard`` runs in-process; ``./tastyguard paper serve ... &`` starts a paper broker with
the printed credentials; the moto server line starts a real ``moto_server`` process; ``aws`` lines are checked
against botocore's service models and executed against "the stack" (a moto server standing in for the AWS
account, with the stack's tables, secrets and topic), ``aws lambda invoke`` by calling the function's handler.
The deployed configuration's broker (``environment: sandbox``) is served by the paper broker. Fixed numbers in
the docs (ports, account numbers, placeholders) are mapped to the test's. A line of any other kind fails the
test until a rule for it is added here.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from aws_lambda_powertools.utilities import parameters

from functions.common import jobs as job_runtime
from paperbroker.server import PaperBroker
from tastyguard.broker.environments import Environment
from tastyguard.cli import exit_codes
from tastyguard.cli.demo import NEXT_STEPS
from tastyguard.config.loader import config_to_json, load_config
from tastyguard.redact import forget_secrets

from .conftest import MotoEndpoint, invoke

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
DOCS = ('README.md', 'docs/deploy.md', 'docs/operations.md', 'demo')
DEPLOYED_CONFIG = """\
environment: sandbox
mode: shadow
accounts:
  - account_number: 5WT00001
    nickname: Individual
  - account_number: 5WT00002
    nickname: Roth IRA
notifications:
  email: [trader@example.com]
"""
ACCOUNTS = {'5WX01234': '5WT00001', '5WX05678': '5WT00002'}
CLI_OPTIONS = {'--cli-binary-format', '--output', '--region', '--profile', '--query'}


class LambdaContext:
    function_name = 'tastyguard-sync-positions'
    memory_limit_in_mb = 512
    invoked_function_arn = 'arn:aws:lambda:us-east-1:123456789012:function:tastyguard-sync-positions'
    aws_request_id = 'docs-1'

    def get_remaining_time_in_millis(self) -> int:
        return 120_000


def shell_lines(doc: str) -> list[str]:
    """The shell lines of a document's code blocks (continuations joined, heredocs kept whole), then the
    ``./tastyguard`` commands of its prose, in order of appearance."""
    if doc == 'demo':
        lines = [line.strip() for line in NEXT_STEPS.splitlines()]
        return [line for line in lines if line.startswith(('./tastyguard', 'export'))]
    text = (ROOT / doc).read_text()
    found: list[tuple[int, str]] = []
    for block in re.finditer(r'```(bash|console|sh)\n(.*?)```', text, re.S):
        lines = block.group(2).splitlines()
        i = 0
        while i < len(lines):
            line = lines[i].strip().removeprefix('$ ')
            while line.endswith('\\') and i + 1 < len(lines):
                i += 1
                line = line[:-1] + ' ' + lines[i].strip()
            if "<<'EOF'" in line:
                body = []
                while lines[i + 1].strip() != 'EOF':
                    i += 1
                    body.append(lines[i])
                i += 1
                line += '\n' + '\n'.join(body) + '\nEOF'
            if line:
                found.append((block.start(), line))
            i += 1
    prose = re.sub(r'```.*?```', lambda m: ' ' * len(m.group(0)), text, flags=re.S)
    for span in re.finditer(r'`(\./tastyguard [^`]+)`', prose):
        command = ' '.join(span.group(1).split())
        if not any(mark in command for mark in ('...', '|', '<')):
            found.append((span.start(), command))
    return [line for _, line in sorted(found, key=lambda pair: pair[0])]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return int(sock.getsockname()[1])


@dataclass
class Shell:
    """A person's shell in a scratch folder, with the docs' numbers mapped to the test's."""

    cwd: Path
    stack: MotoEndpoint
    operator_broker: PaperBroker
    monkeypatch: pytest.MonkeyPatch
    substitutions: dict[str, str] = field(default_factory=dict)
    brokers: list[PaperBroker] = field(default_factory=list)
    servers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    exported: dict[str, str] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)

    def substitute(self, text: str) -> str:
        for old, new in {**ACCOUNTS, **self.substitutions}.items():
            text = text.replace(old, new)
        return text

    # -- the kinds of line ---------------------------------------------------------------------------
    def run(self, line: str) -> None:
        for part in line.split(' && '):
            self._one(self.substitute(part))
        self.ran.append(line)

    def _one(self, line: str) -> None:
        head, _, heredoc = line.partition('\n')
        words = shlex.split(head, comments=True)
        background = bool(words) and words[-1] == '&'
        words = words[:-1] if background else words
        if not words:
            return
        command = words[0]
        if command == './tastyguard':
            self._tastyguard(words[1:], background=background)
        elif command == 'export':
            self._export(words[1:])
        elif command == 'make':
            self._make(words[1:])
        elif command == 'aws':
            self._aws(words[1:])
        elif command == 'scripts/uv' and 'moto_server' in words:
            self._moto_server(words)
        elif command == 'cp':
            self._cp(words[1:])
        elif command == 'cat':
            self._cat(words[1:], heredoc)
        elif command == 'rm':
            for name in words[1:]:
                (self.cwd / name).unlink()
        elif command != 'umask':
            pytest.fail(f'the docs print a command this test does not know how to run: {line!r}')

    def _tastyguard(self, args: list[str], *, background: bool) -> None:
        if args[:2] == ['paper', 'serve']:
            assert background, 'a paper broker in the docs must run in the background (&) to be usable as printed'
            self._paper_serve(args[2:])
            return
        operator = '--store' in args and args[args.index('--store') + 1] == 'tastyguard'
        env = self._operator_env() if operator else {}
        result = invoke(*args, env=env)
        assert result.exit_code in (exit_codes.OK, exit_codes.CRITICAL), (
            f'./tastyguard {shlex.join(args)} exited {result.exit_code}:\n{result.output}'
        )

    def _operator_env(self) -> dict[str, Any]:
        """An operator's shell: the stack's account, no paper broker, no credentials in the environment."""
        return {
            'TASTYGUARD_API_URL': None,
            'TASTYGUARD_STORE': None,
            'TASTYTRADE_CLIENT_SECRET': None,
            'TASTYTRADE_REFRESH_TOKEN': None,
        }

    def _paper_serve(self, args: list[str]) -> None:
        options = dict(zip(args[::2], args[1::2], strict=True))
        broker = PaperBroker(
            'demo', port=0, client_secret=options['--client-secret'], refresh_token=options['--refresh-token']
        ).start()
        self.brokers.append(broker)
        self.substitutions[f':{options["--port"]}'] = f':{broker.port}'

    def _moto_server(self, words: list[str]) -> None:
        port = words[words.index('-p') + 1]
        actual = _free_port()
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, '-m', 'moto.server', '-H', '127.0.0.1', '-p', str(actual)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.servers.append(server)
        for _ in range(200):
            try:
                with socket.create_connection(('127.0.0.1', actual), timeout=0.2):
                    break
            except OSError:
                threading.Event().wait(0.05)
        self.substitutions[f':{port}'] = f':{actual}'

    def _export(self, assignments: list[str]) -> None:
        for assignment in assignments:
            key, _, value = assignment.partition('=')
            self.exported[key] = value
            if key in ('AWS_PROFILE', 'AWS_REGION'):
                continue  # the test's "AWS account" is the stack's moto server, in its region
            self.monkeypatch.setenv(key, value)

    def _make(self, args: list[str]) -> None:
        makefile = (ROOT / 'Makefile').read_text()
        target = args[0]
        assert re.search(rf'^{re.escape(target)}:.*##', makefile, re.M), f'make {target} is not a documented target'
        for assignment in args[1:]:
            assert re.fullmatch(r'[A-Z_]+=.*', assignment) and assignment.split('=')[0] in makefile, assignment

    def _cp(self, args: list[str]) -> None:
        source, target = args
        shutil.copy(self.cwd / source, self.cwd / target)
        if target == 'tastyguard.yaml':  # "then edit it": what the docs tell the reader to set
            (self.cwd / target).write_text(DEPLOYED_CONFIG)

    def _cat(self, args: list[str], heredoc: str) -> None:
        if args and args[0] == '>':
            body = heredoc.rsplit('\nEOF', 1)[0]
            (self.cwd / args[1]).write_text(self.substitute(body) + '\n')
            return
        content = (self.cwd / args[0]).read_text()
        if args[0] == 'result.json':
            accounts = json.loads(content)['accounts']
            assert accounts and {a['status'] for a in accounts} == {'ok'}, content

    def _aws(self, args: list[str]) -> None:
        service, operation, rest = args[0], args[1], args[2:]
        if (service, operation) == ('logs', 'tail'):
            self._logs_tail(rest)
            return
        model = botocore.session.get_session().get_service_model(service)
        names = {model.operation_model(name).name: name for name in model.operation_names}
        wanted = ''.join(part.title() for part in operation.split('-'))
        assert wanted in names, f'aws {service} {operation}: no such operation'
        members = model.operation_model(wanted).input_shape.members if model.operation_model(wanted).input_shape else {}
        params: dict[str, Any] = {}
        positional: list[str] = []
        i = 0
        # --secret-id -> SecretId (Secrets Manager), --desired-count -> desiredCount (ECS): the model's own spelling
        spelled = {member.lower(): member for member in members}
        while i < len(rest):
            word = rest[i]
            if word.startswith('--'):
                name = spelled.get(word[2:].replace('-', '').lower(), word)
                if word not in CLI_OPTIONS and name in members and members[name].type_name == 'boolean':
                    params[name] = True  # a flag: --force-new-deployment
                    i += 1
                    continue
                value = rest[i + 1]
                i += 2
                if word in CLI_OPTIONS:
                    continue
                assert name in members, f'aws {service} {operation}: no parameter {word}'
                if value.startswith('file://'):
                    value = (self.cwd / value.removeprefix('file://')).read_text()
                kind = members[name].type_name
                params[name] = [value] if kind == 'list' else int(value) if kind == 'integer' else value
            else:
                positional.append(word)
                i += 1
        if (service, operation) == ('lambda', 'invoke'):
            self._invoke(params, positional)
            return
        method = re.sub(r'(?<!^)(?=[A-Z])', '_', wanted).lower()
        getattr(self.stack.client(service), method)(**params)

    def _logs_tail(self, rest: list[str]) -> None:
        """``aws logs tail GROUP [--since D] [--follow]``: a CLI command, not an API; reads the group's events."""
        group, options = rest[0], rest[1:]
        assert set(options[::2]) <= {'--since', '--follow', '--format'}, f'aws logs tail: {options}'
        self.stack.client('logs').filter_log_events(logGroupName=group)

    def _invoke(self, params: dict[str, Any], positional: list[str]) -> None:
        """``aws lambda invoke``: call the named function's handler as Lambda would, in the stack's account."""
        function = params['FunctionName'].removeprefix('tastyguard-').replace('-', '_')
        module = __import__(f'functions.{function}.handler', fromlist=['lambda_handler'])
        config = self.cwd / 'bundled-config.json'
        config.write_text(config_to_json(load_config(self.cwd / 'tastyguard.yaml')))
        topic = self.stack.client('sns').create_topic(Name='tastyguard-notifications')['TopicArn']
        for key, value in {
            'TASTYGUARD_BROKER_SECRET': 'tastyguard/broker',
            'TASTYGUARD_TOKEN_SECRET': 'tastyguard/access-token',
            'TASTYGUARD_TOPIC_ARN': topic,
            'TASTYGUARD_CONFIG_FILE': str(config),
        }.items():
            self.monkeypatch.setenv(key, value)
        parameters.clear_caches()
        job_runtime.reset_for_tests()
        result = module.lambda_handler(json.loads(params['Payload']), LambdaContext())
        job_runtime.reset_for_tests()
        (self.cwd / positional[-1]).write_text(json.dumps(result))


@pytest.fixture
def shell(
    tmp_path: Path, paper_broker: PaperBroker, stack: MotoEndpoint, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Shell]:
    """A fresh clone's folder, "your AWS account" with the stack deployed, and a sandbox served by a paper broker."""
    for key in ('TASTYGUARD_API_URL', 'TASTYGUARD_STORE', 'TASTYTRADE_CLIENT_SECRET', 'TASTYTRADE_REFRESH_TOKEN'):
        monkeypatch.delenv(key, raising=False)
    shutil.copy(ROOT / 'tastyguard.example.yaml', tmp_path / 'tastyguard.example.yaml')
    monkeypatch.chdir(tmp_path)
    sandbox = Environment.paper(paper_broker.api_url, paper_broker.account_streamer_url)
    original = Environment.named.__func__  # type: ignore[attr-defined]

    def named(cls: type[Environment], name: str, **urls: Any) -> Environment:
        return sandbox if name == 'sandbox' else original(cls, name, **urls)

    monkeypatch.setattr(Environment, 'named', classmethod(named))
    secrets = stack.client('secretsmanager')
    secrets.create_secret(Name='tastyguard/broker', SecretString='{}')  # as the stack creates it: no grant yet
    secrets.create_secret(Name='tastyguard/slack-webhook', SecretString='{}')  # with Slack enabled
    stack.client('sns').create_topic(Name='tastyguard-notifications')
    _streamer_deployed(stack)
    created = Shell(tmp_path, stack, paper_broker, monkeypatch)
    created.substitutions = {
        '<OAuth client secret>': paper_broker.client_secret,
        '<grant refresh token>': paper_broker.refresh_token,
    }
    try:
        yield created
    finally:
        for broker in created.brokers:
            broker.stop()
        for server in created.servers:
            server.terminate()
            server.wait(timeout=10)
        forget_secrets()


def _streamer_deployed(stack: MotoEndpoint) -> None:
    """The streamer's cluster, service and log group, with the stack's names (infra/constants.py)."""
    ecs = stack.client('ecs')
    ecs.create_cluster(clusterName='tastyguard')
    ecs.register_task_definition(
        family='tastyguard-streamer',
        requiresCompatibilities=['FARGATE'],
        networkMode='awsvpc',
        cpu='256',
        memory='512',
        containerDefinitions=[{'name': 'streamer', 'image': 'tastyguard-streamer', 'essential': True}],
    )
    ecs.create_service(
        cluster='tastyguard', serviceName='tastyguard-streamer', taskDefinition='tastyguard-streamer', desiredCount=1
    )
    stack.client('logs').create_log_group(logGroupName='/tastyguard/streamer')


def _grant_stored(shell: Shell) -> None:
    """What deploy.md step 5 does (for the pages that assume a deployed stack with its grant)."""
    grant = {'client_secret': shell.operator_broker.client_secret, 'refresh_token': shell.operator_broker.refresh_token}
    shell.stack.client('secretsmanager').put_secret_value(SecretId='tastyguard/broker', SecretString=json.dumps(grant))
    (shell.cwd / 'tastyguard.yaml').write_text(DEPLOYED_CONFIG)


@pytest.mark.parametrize('doc', DOCS)
def test_every_command_the_docs_print_runs(doc: str, shell: Shell) -> None:
    lines = shell_lines(doc)
    assert lines, f'{doc} prints no commands?'
    if doc != 'docs/deploy.md':
        _grant_stored(shell)
        (shell.cwd / 'tastyguard.yaml').unlink()  # a fresh clone: the paper commands come first
    for line in lines:
        if '--store tastyguard' in line and not (shell.cwd / 'tastyguard.yaml').exists():
            (shell.cwd / 'tastyguard.yaml').write_text(DEPLOYED_CONFIG)  # the operator's clone has its config
        shell.run(line)
    assert shell.ran == lines
    if doc == 'docs/deploy.md':  # step 7's function logged in with the stored grant and recorded its run
        runs = [
            item
            for item in shell.stack.items()
            if item.get('pk', {}).get('S') == 'ACCOUNT#5WT00001' and item['sk']['S'].startswith('RUN#')
        ]
        assert any(item['job']['S'] == 'sync_positions' and item['status']['S'] == 'ok' for item in runs)


def test_the_docs_name_only_commands_that_exist() -> None:
    # A cheap guard next to the slow run: every documented sub-command is one the CLI has
    from typer.main import get_command

    from tastyguard.cli.app import app

    group = get_command(app)
    for doc in DOCS:
        for line in shell_lines(doc):
            words = shlex.split(line.partition('\n')[0], comments=True)
            if words and words[0] == './tastyguard':
                assert words[1] in group.commands, f'{doc}: ./tastyguard {words[1]}'  # type: ignore[attr-defined]
