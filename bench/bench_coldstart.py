"""The cold path as Lambda runs it: handler import, the first invocation, SnapStart, and a fill to a stop.

    python bench/bench_coldstart.py             # readable report (about 3-5 minutes)
    python bench/bench_coldstart.py --json
    python bench/bench_coldstart.py --runs 3 --skip-e2e

Every sample is a fresh cold worker (``bench/lambda_sandbox.py``): the layers and functions exactly as synth
bundles them, read-only where Lambda mounts them, Lambda's environment with X-Ray tracing on, CPython 3.13
``-I -S -B`` seeing only the assets. Runs are interleaved round by round; medians of CPU time lead (this
machine is shared), wall time follows.

1. **Handler import** (Lambda's init phase) for every handler, shipped as now (hash-based bytecode) and as
   before (no bytecode), against ``import tastytrade`` (the tastyware SDK with its bytecode, in the project
   venv) in the same rounds: the ratio handler / SDK is the yardstick of issue 13 (goal <= 0.4).
2. **First-call job context** (``lambda_context()``: config, boto3 clients, httpx client; no network).
3. **SnapStart on the fast path** (the fast_path function with ``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``): init
   with the context primed, the before-snapshot hooks, then what a restored environment runs (the
   after-restore hooks and the first invocation). Lambda's own restore time is not measurable here.
4. **A fill on a cold worker, end to end**: the paper broker and a moto server on loopback, the stack's
   resources created in moto, one streamer event ``{"job", "account", "symbol", "event_id"}`` to a fresh
   fast_path worker; the clock runs from spawning the interpreter to the stop being at the broker.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'layers' / 'core'))
from bench.lambda_sandbox import (  # noqa: E402
    Assets,
    XRayDaemon,
    build_assets,
    lambda_environment,
    launch,
    namespaces_available,
    probe_source,
)
from infra import constants as c  # noqa: E402

# What every job handler needs from outside tastyguard (with tracing on): no handler can import faster.
THIRD_PARTY_FLOOR = ','.join(
    (
        'boto3', 'pydantic', 'httpx', 'aws_lambda_powertools.logging', 'aws_lambda_powertools.metrics',
        'aws_lambda_powertools.tracing', 'aws_lambda_powertools.utilities.idempotency', 'aws_xray_sdk.core',
    )
)  # fmt: skip
HANDLERS = ('fast_path', 'ensure_stops', 'sync_positions', 'reconcile_orders', 'digest', 'notify_slack', 'dispatch')
FAST_PATH = 'fast_path'  # the function the streamer's fill events invoke (SnapStart applies to it)
ACCOUNT = '5WT00001'
# Not in the demo scenario: each fill opens a new, unprotected position (one symbol per run).
FILL_SYMBOLS = ('CRM', 'ORCL', 'ADBE', 'INTC', 'CSCO', 'PEP', 'KO', 'WMT', 'DIS', 'NKE', 'IBM', 'QCOM', 'TXN', 'AVGO')
BENCH_CONFIG: dict[str, Any] = {
    'environment': 'paper',
    'mode': 'live',
    'accounts': [{'account_number': ACCOUNT, 'nickname': 'Individual'}],
    'notifications': {'min_severity': 'info', 'slack': {'enabled': True, 'webhook_secret_name': 'tastyguard/slack'}},
}


def _median(samples: list[dict[str, float]], key: str) -> float:
    return round(statistics.median(sample[key] for sample in samples), 1)


def _summary(samples: list[dict[str, float]]) -> dict[str, float]:
    return {
        'cpu_ms': _median(samples, 'cpu_ms'),
        'wall_ms': _median(samples, 'wall_ms'),
        'cpu_min_ms': round(min(sample['cpu_ms'] for sample in samples), 1),
        'runs': len(samples),
    }


def _resolved(key: str, known: dict[str, str]) -> str:
    """The value an intrinsic gets in the account (a job's queue URL from its name)."""
    if key in known:
        return known[key]
    if key.startswith(c.ENV_QUEUE_PREFIX):
        job = key.removeprefix(c.ENV_QUEUE_PREFIX).lower().replace('_', '-')
        return f'https://sqs.us-east-1.amazonaws.com/123456789012/tastyguard-{job}'
    raise KeyError(f'{key}: an intrinsic the cold-start bench does not know how to resolve; add it to `resolved`')


def synthesized_functions() -> dict[str, dict[str, Any]]:
    """Handler, memory and environment of every function, from the stack synthesized without bundling."""
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from infra.settings import StackSettings
    from infra.stacks.tastyguard_stack import TastyguardStack
    from tastyguard.config import parse_config
    from tastyguard.store.schema import IDEMPOTENCY_TABLE, STATE_TABLE

    context = json.loads((ROOT / 'cdk.json').read_text())['context']
    outdir = tempfile.mkdtemp(prefix='tastyguard-synth-')
    try:
        app = cdk.App(context={**context, 'aws:cdk:bundling-stacks': []}, outdir=outdir)
        settings = StackSettings.from_config(parse_config(BENCH_CONFIG, source='bench'), source='bench')
        template = Template.from_stack(TastyguardStack(app, c.STACK_NAME, settings=settings)).to_json()
    finally:
        shutil.rmtree(outdir, ignore_errors=True)
    # Intrinsics have no value before a deploy: give them the names they get in the account.
    resolved = {
        c.ENV_STATE_TABLE: STATE_TABLE.default_name,
        c.ENV_IDEMPOTENCY_TABLE: IDEMPOTENCY_TABLE.default_name,
        c.ENV_TOPIC_ARN: f'arn:aws:sns:us-east-1:123456789012:{c.TOPIC_NAME}',
        c.ENV_EVENT_BUS: c.EVENT_BUS_NAME,
        c.ENV_KILL_SWITCH_PARAM: c.KILL_SWITCH_PARAMETER,
        c.ENV_SLACK_SECRET: 'tastyguard/slack',
    }
    functions = {}
    for resource in template['Resources'].values():
        if resource['Type'] != 'AWS::Lambda::Function':
            continue
        props = resource['Properties']
        variables = {
            key: value if isinstance(value, str) else _resolved(key, resolved)
            for key, value in props['Environment']['Variables'].items()
        }
        name = props['Handler'].split('.')[1]
        functions[name] = {
            'FunctionName': props['FunctionName'],
            'Handler': props['Handler'],
            'MemorySize': props['MemorySize'],
            'Tracing': props.get('TracingConfig', {}).get('Mode'),
            'SnapStart': props.get('SnapStart', {}).get('ApplyOn', 'None'),
            'Variables': variables,
        }
    return functions


def tastytrade_import(runs: int) -> Callable[[], dict[str, float]]:
    """``import tastytrade`` in the project venv with its bytecode (written once by a warm-up import)."""
    probe = probe_source('cold_worker')
    venv_python = str(ROOT / '.venv' / 'bin' / 'python')
    payload = json.dumps({'module': 'tastytrade', 'bootstrap': [], 'leaks': []})
    env = {key: value for key, value in os.environ.items() if key != 'PYTHONDONTWRITEBYTECODE'}
    subprocess.run([venv_python, '-I', '-c', 'import tastytrade'], check=True, capture_output=True, env=env)

    def one() -> dict[str, float]:
        done = subprocess.run(
            [venv_python, '-I', '-B', '-c', probe, payload], check=True, capture_output=True, text=True
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        if result['compiled_from_source']:
            raise RuntimeError('import tastytrade compiled modules: its bytecode is missing')
        return dict(result['init'])

    return one


class Worker:
    """Launches cold workers of one asset variant with one function's environment."""

    def __init__(self, assets: Assets, functions: dict[str, dict[str, Any]], scratch: Path, sandbox: bool) -> None:
        self.assets = assets
        self.functions = functions
        self.scratch = scratch
        self.sandbox = sandbox
        self.daemon = XRayDaemon()
        self.probe = probe_source('cold_worker')

    def run(
        self, handler: str, *, snap_start: bool = False, extra_env: dict[str, str] | None = None, **arguments: Any
    ) -> dict[str, Any]:
        function = self.functions[handler]
        env = lambda_environment(function, xray_daemon=self.daemon.address, snap_start=snap_start, extra=extra_env)
        arguments.setdefault('module', function['Handler'].rsplit('.', 1)[0])
        result = launch(
            self.assets, self.probe, {**arguments, 'snap_start': snap_start}, env, sandbox=self.sandbox,
            scratch=self.scratch,
        )  # fmt: skip
        result['segments'] = len(self.daemon.drain())
        return result


def measure_imports(compiled: Worker, plain: Worker, runs: int) -> dict[str, Any]:
    """Handler import, with and without bytecode, and ``import tastytrade``, interleaved round by round."""
    yardstick = tastytrade_import(runs)
    samples: dict[str, list[dict[str, float]]] = {}
    leaks: dict[str, list[str]] = {}
    compiled_counts: dict[str, int] = {}
    for _round in range(runs):
        samples.setdefault('import tastytrade', []).append(yardstick())
        samples.setdefault('third-party floor', []).append(compiled.run(FAST_PATH, module=THIRD_PARTY_FLOOR)['init'])
        samples.setdefault('boto3 alone', []).append(compiled.run(FAST_PATH, module='boto3')['init'])
        for handler in HANDLERS:
            for label, worker in (('bytecode', compiled), ('no bytecode', plain)):
                result = worker.run(handler)
                samples.setdefault(f'{handler} ({label})', []).append(result['init'])
                leaks[handler] = result['leaked']
                compiled_counts[f'{handler} ({label})'] = result['compiled_from_source']
    sdk = _summary(samples['import tastytrade'])['cpu_ms']
    report: dict[str, Any] = {'import tastytrade': _summary(samples['import tastytrade'])}
    for key in ('third-party floor', 'boto3 alone'):
        report[key] = {**_summary(samples[key]), 'ratio_to_tastytrade': round(_median(samples[key], 'cpu_ms') / sdk, 2)}
    for handler in HANDLERS:
        for label in ('bytecode', 'no bytecode'):
            key = f'{handler} ({label})'
            summary = _summary(samples[key])
            summary['ratio_to_tastytrade'] = round(summary['cpu_ms'] / sdk, 2)
            summary['compiled_from_source'] = compiled_counts[key]
            report[key] = summary
        report[f'{handler} ({"bytecode"})']['leaked'] = leaks[handler]
    return report


def importtime(worker: Worker, handler: str, runs: int) -> dict[str, Any]:
    """``-X importtime`` of one handler's import: self time summed by top-level package, and the top modules."""
    function = worker.functions[handler]
    env = lambda_environment(function, xray_daemon=worker.daemon.address, snap_start=False)
    by_package: dict[str, list[float]] = {}
    by_module: dict[str, list[float]] = {}
    for _ in range(runs):
        result = launch(
            worker.assets, worker.probe, {'module': function['Handler'].rsplit('.', 1)[0]}, env,
            sandbox=worker.sandbox, scratch=worker.scratch, python_flags=('-X', 'importtime'),
        )  # fmt: skip
        packages: dict[str, float] = {}
        for line in result['stderr'].splitlines():
            if not line.startswith('import time:') or 'self [us]' in line:
                continue
            self_us, _cumulative, name = (part.strip() for part in line.removeprefix('import time:').split('|'))
            packages[name.strip().split('.')[0]] = packages.get(name.strip().split('.')[0], 0.0) + int(self_us) / 1000
            by_module.setdefault(name.strip(), []).append(int(self_us) / 1000)
        for name, ms in packages.items():
            by_package.setdefault(name, []).append(ms)
    total = sum(statistics.median(v) for v in by_package.values())
    top = sorted(((statistics.median(v), k) for k, v in by_package.items()), reverse=True)[:20]
    modules = sorted(((statistics.median(v), k) for k, v in by_module.items()), reverse=True)[:25]
    return {
        'total_self_ms': round(total, 1),
        'packages': {name: round(ms, 1) for ms, name in top},
        'modules': {name: round(ms, 1) for ms, name in modules},
    }


def measure_context(worker: Worker, runs: int) -> dict[str, float]:
    """The first invocation's job-context build (no network), after the handler import."""
    paper = {'TASTYGUARD_API_URL': 'http://127.0.0.1:9', 'TASTYGUARD_STREAMER_URL': 'ws://127.0.0.1:9/ws'}
    return _summary([worker.run(FAST_PATH, context=True, extra_env=paper)['context'] for _ in range(runs)])


class Backends:
    """The paper broker and a moto server on loopback, with the stack's resources created."""

    def __init__(self) -> None:
        import boto3
        from moto.server import ThreadedMotoServer

        logging.getLogger('werkzeug').setLevel(logging.ERROR)  # one access-log line per AWS call otherwise

        from paperbroker.server import PaperBroker
        from tastyguard.store.schema import create_tables

        self.broker = PaperBroker('demo').start()
        self.used: set[str] = set()
        with socket.socket() as probe:
            probe.bind(('127.0.0.1', 0))
            port = probe.getsockname()[1]
        self.moto = ThreadedMotoServer(ip_address='127.0.0.1', port=port, verbose=False)
        self.moto.start()
        self.endpoint = f'http://127.0.0.1:{port}'
        session = boto3.Session(aws_access_key_id='bench', aws_secret_access_key='bench', region_name='us-east-1')  # noqa: S106
        create_tables(session.client('dynamodb', endpoint_url=self.endpoint))
        secrets = session.client('secretsmanager', endpoint_url=self.endpoint)
        grant = {'client_secret': self.broker.client_secret, 'refresh_token': self.broker.refresh_token}
        secrets.create_secret(Name=c.BROKER_SECRET_NAME, SecretString=json.dumps(grant))
        secrets.create_secret(Name=c.TOKEN_SECRET_NAME, SecretString=json.dumps({'access_token': None}))
        self.topic = session.client('sns', endpoint_url=self.endpoint).create_topic(Name=c.TOPIC_NAME)['TopicArn']
        session.client('ssm', endpoint_url=self.endpoint).put_parameter(
            Name=c.KILL_SWITCH_PARAMETER, Value=c.KILL_SWITCH_INITIAL_VALUE, Type='String'
        )

    def next_symbol(self) -> str:
        """A symbol no earlier run used and the scenario does not hold."""
        held = {position['symbol'] for position in self.broker.admin.positions(ACCOUNT)}
        for symbol in FILL_SYMBOLS:
            if symbol not in held and symbol not in self.used and not self.stops(symbol):
                self.used.add(symbol)
                return symbol
        raise RuntimeError('out of fill symbols: run fewer rounds or add symbols to FILL_SYMBOLS')

    def env(self) -> dict[str, str]:
        """What points a cold worker at these backends instead of AWS and tastytrade."""
        return {
            'AWS_ENDPOINT_URL': self.endpoint,
            c.ENV_TOPIC_ARN: self.topic,
            'TASTYGUARD_API_URL': self.broker.api_url,
            'TASTYGUARD_STREAMER_URL': self.broker.account_streamer_url,
        }

    def fill(self, symbol: str) -> dict[str, Any]:
        """A new position, as a fill leaves it, and the streamer's event for it."""
        if any(p['symbol'] == symbol for p in self.broker.admin.positions(ACCOUNT)) or self.stops(symbol):
            raise RuntimeError(f'{symbol} is already held or protected in the scenario; pick another symbol')
        self.broker.admin.add_position(ACCOUNT, symbol, 20, '250.00', bid='251.00', ask='251.10', last='251.05')
        return {'job': 'ensure_stops', 'account': ACCOUNT, 'symbol': symbol, 'event_id': str(uuid.uuid4())}

    def stops(self, symbol: str) -> list[dict[str, Any]]:
        """tastyguard's working stops on ``symbol``."""
        return [
            order
            for order in self.broker.admin.working_orders(ACCOUNT)
            if order.get('underlying-symbol') == symbol and str(order.get('external-identifier', '')).startswith('tg-')
        ]

    def close(self) -> None:
        """Stop both servers."""
        self.broker.stop()
        self.moto.stop()


def measure_fill_to_stop(worker: Worker, backends: Backends, runs: int, *, snap_start: bool) -> dict[str, Any]:
    """Spawn a cold fast_path worker for a fill event; the clock stops when the stop is at the broker."""
    totals, inits, invokes, restores = [], [], [], []
    placed = 0
    for _ in range(runs):
        symbol = backends.next_symbol()
        event = backends.fill(symbol)
        spawned = time.time()
        result = worker.run(FAST_PATH, snap_start=snap_start, extra_env=backends.env(), event=event)
        stops = backends.stops(symbol)
        if not stops:
            raise RuntimeError(f'no stop was placed for the fill: {json.dumps(result.get("response"))[:2000]}')
        placed += len(stops)
        totals.append((result['epoch_end'] - spawned) * 1000)
        inits.append(result['init'])
        invokes.append(result['invoke'])
        if snap_start:
            restores.append(result['after_restore'])
    report: dict[str, Any] = {
        'spawn_to_stop_placed_wall_ms': round(statistics.median(totals), 1),
        'init': _summary(inits),
        'first_invoke': _summary(invokes),
        'stops_placed': placed,
        'runs': runs,
    }
    if snap_start:
        # What a restored environment runs before the stop is placed (Lambda's own restore time comes on top)
        report['after_restore'] = _summary(restores)
        report['restored_to_stop_placed_wall_ms'] = round(
            report['after_restore']['wall_ms'] + report['first_invoke']['wall_ms'], 1
        )
    return report


def measure_snap_start(worker: Worker, runs: int) -> dict[str, Any]:
    """Init with SnapStart's priming, and what a restored environment still runs before the handler."""
    paper = {'TASTYGUARD_API_URL': 'http://127.0.0.1:9', 'TASTYGUARD_STREAMER_URL': 'ws://127.0.0.1:9/ws'}
    samples = [worker.run(FAST_PATH, snap_start=True, extra_env=paper) for _ in range(runs)]
    return {
        'init_with_priming': _summary([s['init'] for s in samples]),
        'before_snapshot': _summary([s['before_snapshot'] for s in samples]),
        'after_restore': _summary([s['after_restore'] for s in samples]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--json', action='store_true')
    parser.add_argument('--runs', type=int, default=7)
    parser.add_argument('--skip-e2e', action='store_true', help='no paper broker / moto run')
    parser.add_argument('--keep', type=Path, help='build the assets into this folder and keep them')
    parser.add_argument('--importtime', metavar='HANDLER', help='only profile this handler with -X importtime')
    args = parser.parse_args()
    from tastyguard.config import config_to_json, parse_config

    scratch = args.keep or Path(tempfile.mkdtemp(prefix='tastyguard-coldstart-'))
    scratch.mkdir(parents=True, exist_ok=True)
    sandbox = namespaces_available()
    report: dict[str, Any] = {'sandbox': 'mount namespace (read-only /var/task, /opt)' if sandbox else 'paths + -B'}
    try:
        functions = synthesized_functions()
        report['template'] = {
            name: {k: f[k] for k in ('MemorySize', 'Tracing', 'SnapStart')} for name, f in functions.items()
        }
        compiled, plain = build_assets(scratch / 'assets', config_to_json(parse_config(BENCH_CONFIG, source='bench')))
        bytecode_worker = Worker(compiled, functions, scratch, sandbox)
        plain_worker = Worker(plain, functions, scratch, sandbox)
        if args.importtime:
            print(json.dumps(importtime(bytecode_worker, args.importtime, args.runs), indent=2))
            return
        report['imports'] = measure_imports(bytecode_worker, plain_worker, args.runs)
        report['first_call_context'] = measure_context(bytecode_worker, args.runs)
        report['snap_start'] = measure_snap_start(bytecode_worker, args.runs)
        if not args.skip_e2e:
            backends = Backends()
            try:
                e2e_runs = max(3, args.runs // 2)
                cases = {
                    'on-demand': (bytecode_worker, False),
                    'snap-start (restored)': (bytecode_worker, True),
                    'on-demand, no bytecode (before)': (plain_worker, False),
                }
                report['fill_to_stop'] = {
                    label: measure_fill_to_stop(worker, backends, e2e_runs, snap_start=snap)
                    for label, (worker, snap) in cases.items()
                }
            finally:
                backends.close()
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print_report(report)


def print_report(report: dict[str, Any]) -> None:
    """The readable form."""
    print(f'Cold workers: {report["sandbox"]}; X-Ray tracing on; CPython 3.13 -I -S -B')
    print('\nHandler import (init), median CPU / wall ms, and CPU ratio to `import tastytrade`')
    sdk = report['imports']['import tastytrade']
    print(f'  {"import tastytrade (SDK, bytecode)":40} {sdk["cpu_ms"]:7.0f} / {sdk["wall_ms"]:6.0f}')
    for key, value in report['imports'].items():
        if key == 'import tastytrade':
            continue
        leaked = f'  LEAKED {value["leaked"]}' if value.get('leaked') else ''
        compiled = f'   compiled {value["compiled_from_source"]}' if 'compiled_from_source' in value else ''
        print(
            f'  {key:40} {value["cpu_ms"]:7.0f} / {value["wall_ms"]:6.0f}   {value["ratio_to_tastytrade"]:.2f}x'
            f'{compiled}{leaked}'
        )
    ctx = report['first_call_context']
    print(f'\nFirst-call job context: {ctx["cpu_ms"]:.0f} ms CPU / {ctx["wall_ms"]:.0f} ms wall')
    snap = report['snap_start']
    print(
        f'SnapStart ({FAST_PATH}): init with priming {snap["init_with_priming"]["cpu_ms"]:.0f} ms CPU, '
        f'before-snapshot hooks {snap["before_snapshot"]["cpu_ms"]:.1f} ms, '
        f'after-restore hooks {snap["after_restore"]["cpu_ms"]:.1f} ms'
    )
    for label, e2e in report.get('fill_to_stop', {}).items():
        if 'restored_to_stop_placed_wall_ms' in e2e:
            print(
                f'Fill -> stop placed, {label:32} {e2e["restored_to_stop_placed_wall_ms"]:6.0f} ms wall from the '
                f"restore (after-restore hooks + first invoke; plus Lambda's restore, not measurable here)"
            )
            continue
        print(
            f'Fill -> stop placed, {label:32} {e2e["spawn_to_stop_placed_wall_ms"]:6.0f} ms wall '
            f'(init {e2e["init"]["wall_ms"]:.0f}, first invoke {e2e["first_invoke"]["wall_ms"]:.0f}; '
            f'{e2e["stops_placed"]} stops in {e2e["runs"]} runs)'
        )


if __name__ == '__main__':
    main()
