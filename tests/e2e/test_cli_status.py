"""``status``, ``history`` and the operations commands, for people (tables, local times with the zone) and for
scripts (``--json``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from rich.console import Console

from paperbroker.server import PaperBroker
from tastyguard.cli import exit_codes
from tastyguard.cli.status_view import Status, watch_loop
from tastyguard.cli.timezones import Zone
from tastyguard.store.schema import STATE_TABLE
from tastyguard.store.table import StateTable
from tastyguard.streaming.health import Health, HealthReport, SocketHealth

from .conftest import MotoEndpoint, invoke

pytestmark = pytest.mark.e2e


@pytest.fixture
def local_store(paper: PaperBroker, moto_endpoint: MotoEndpoint, workdir: Path) -> str:
    """A local store with one live run of each account behind it."""
    assert invoke('store', 'init', '--store', moto_endpoint.url).exit_code == 0
    invoke('run', 'ensure-stops', '--mode', 'live', '--api-url', paper.api_url, '--store', moto_endpoint.url)
    return moto_endpoint.url


def _status(paper: PaperBroker, store: str, *extra: str) -> dict[str, Any]:
    result = invoke('status', '--api-url', paper.api_url, '--store', store, '--json', *extra)
    assert result.exit_code in (exit_codes.OK, exit_codes.CRITICAL), result.output
    return json.loads(result.stdout)


def test_status_json_lists_every_position_with_its_stops_and_coverage(paper: PaperBroker, local_store: str) -> None:
    payload = _status(paper, local_store)
    main = next(a for a in payload['accounts'] if a['account'] == '5WT00001')
    positions = {row['symbol']: row for row in main['positions']}
    aapl = positions['AAPL']
    assert aapl['quantity'] == '100' and aapl['mark'] is not None
    [stop] = aapl['stops']
    assert stop['owner'] == 'tastyguard' and stop['trigger'] == '160.65' and stop['quantity'] == '100'
    assert aapl['protected'] == '100' and aapl['status'] == 'protected'
    assert positions['AMD']['status'] == 'unprotected' and any('breached' in a for a in positions['AMD']['alerts'])
    assert {s['owner'] for s in positions['NVDA']['stops']} == {'tastyguard', 'yours'}


def test_status_shows_software_stops_on_the_futures_option_and_on_both_legs_of_a_spread(
    paper: PaperBroker, local_store: str
) -> None:
    long_call, short_call = 'QQQ   270115C00500000', 'QQQ   270115C00510000'
    paper.admin.add_position('5WT00001', long_call, 1, '10.00', bid='9.00', ask='9.20', last='9.10')
    paper.admin.add_position('5WT00001', short_call, -1, '6.00', bid='5.40', ask='5.60', last='5.50')
    main = next(a for a in _status(paper, local_store)['accounts'] if a['account'] == '5WT00001')
    rows = {row['symbol']: row for row in main['positions']}
    software = {symbol for symbol, row in rows.items() if any(a.startswith('software stop') for a in row['alerts'])}
    assert {long_call, short_call} <= software
    assert any(symbol.startswith('./') for symbol in software)  # the futures option's own
    assert rows[long_call]['stops'] == [] and rows[short_call]['stops'] == []  # nothing placed on a leg


def _health_item(moto_endpoint: MotoEndpoint, *, age: timedelta, healthy: bool = True) -> None:
    """The item a running streamer writes every 30 s, written ``age`` ago."""
    table = boto3.resource('dynamodb', endpoint_url=moto_endpoint.url, region_name='us-east-1').Table(
        STATE_TABLE.default_name
    )
    state = StateTable(table)
    Health(
        check=lambda: HealthReport(
            {
                'account': SocketHealth(connected=True, silent_for=1.0, reconnects=0),
                'dxlink': SocketHealth(connected=healthy, silent_for=2.0, reconnects=3),
            },
            healthy=healthy,
            symbols=12,
            detail='' if healthy else 'dxlink: reconnecting',
            held=dict.fromkeys(['5WT00001', '5WT00002'], datetime.now(UTC) - age) if healthy else {},
        ),
        wall=lambda: datetime.now(UTC) - age,
        owner='streamer-test',
        state=state,
    ).beat(0.0)


def test_status_shows_whether_the_streamer_reports(
    paper: PaperBroker, local_store: str, moto_endpoint: MotoEndpoint
) -> None:
    assert _status(paper, local_store)['streamer'] is None  # never ran
    _health_item(moto_endpoint, age=timedelta(seconds=5))
    streamer = _status(paper, local_store)['streamer']
    assert streamer['healthy'] is True and streamer['reporting'] is True and streamer['symbols'] == 12
    assert streamer['sockets']['dxlink']['reconnects'] == 3
    table = invoke('status', '--api-url', paper.api_url, '--store', local_store).stdout
    assert 'streamer: healthy' in table and '12 symbols · holds 2' in table
    assert streamer['accounts_held'] == 2
    _health_item(moto_endpoint, age=timedelta(seconds=20), healthy=False)
    assert _status(paper, local_store)['streamer']['healthy'] is False
    assert 'streamer unhealthy: dxlink: reconnecting' in invoke('status', '--store', local_store, '--api-url',
                                                                paper.api_url).stdout  # fmt: skip
    _health_item(moto_endpoint, age=timedelta(minutes=10))
    silent = _status(paper, local_store)['streamer']
    assert silent['reporting'] is False and silent['healthy'] is False and silent['age_seconds'] >= 600
    assert 'streamer SILENT' in invoke('status', '--api-url', paper.api_url, '--store', local_store).stdout


def test_status_json_shows_the_switches_and_the_last_run_of_each_job(paper: PaperBroker, local_store: str) -> None:
    invoke('kill-switch', 'on', '--reason', 'broker outage', '--store', local_store)
    payload = _status(paper, local_store)
    assert payload['kill_switch']['engaged'] is True and payload['kill_switch']['reason'] == 'broker outage'
    main = payload['accounts'][0]
    assert main['breaker'] is None
    assert main['last_runs']['ensure_stops']['status'] == 'ok'
    assert 'sync_positions' not in main['last_runs']
    assert any(alert['severity'] == 'critical' for alert in main['open_alerts'])


def test_status_exits_3_while_critical_alerts_are_open(paper: PaperBroker, local_store: str) -> None:
    result = invoke('status', '--api-url', paper.api_url, '--store', local_store)
    assert result.exit_code == exit_codes.CRITICAL
    assert 'critical alerts present' in result.stdout


def test_status_shows_times_in_the_chosen_zone_with_the_zone_named(paper: PaperBroker, local_store: str) -> None:
    payload = _status(paper, local_store, '--tz', 'Asia/Tokyo')
    assert payload['timezone'] == 'Asia/Tokyo'
    assert payload['accounts'][0]['last_runs']['ensure_stops']['started_at'].endswith('+09:00')
    table = invoke('status', '--api-url', paper.api_url, '--store', local_store, '--tz', 'Asia/Tokyo')
    assert 'times in Asia/Tokyo' in table.stdout and 'JST' in table.stdout


def test_status_table_reads_at_80_columns(paper: PaperBroker, local_store: str) -> None:
    result = invoke('status', '--api-url', paper.api_url, '--store', local_store)
    for expected in ('AAPL', '160.65', 'tastyguard', 'protected', 'unprotected', 'kill switch: off', 'last runs'):
        assert expected in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


def test_status_without_credentials_still_shows_the_store(
    paper: PaperBroker, local_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv('TASTYTRADE_CLIENT_SECRET')
    monkeypatch.delenv('TASTYTRADE_REFRESH_TOKEN')
    result = invoke('status', '--api-url', paper.api_url, '--store', local_store, '--json')
    payload = json.loads(result.stdout)
    assert payload['accounts'][0]['positions'] is None
    assert payload['accounts'][0]['last_runs']['ensure_stops']['status'] == 'ok'
    assert any('TASTYTRADE_CLIENT_SECRET' in note for note in payload['notes'])


def test_status_watch_refreshes_until_stopped() -> None:
    reads: list[int] = []

    def read() -> Status:
        reads.append(1)
        return Status({}, 'store: embedded', 'paper', Zone.named('UTC'), _now(), {'engaged': False}, [], [])

    waits: list[float] = []
    code = watch_loop(read, interval=30, console=Console(quiet=True), wait=lambda s: waits.append(s) or len(waits) >= 3)
    assert code == exit_codes.OK and len(reads) == 3 and waits == [30, 30, 30]


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


def test_history_json_has_order_ids_and_prices(paper: PaperBroker, local_store: str) -> None:
    result = invoke('history', '-a', '5WT00002', '--store', local_store, '--json', '--tz', 'America/New_York')
    payload = json.loads(result.stdout)
    [run] = payload['runs']
    [place] = run['actions']
    assert place['order_id'] and place['stop_trigger'] == '225.00' and place['quantity'] == '40'
    assert run['started_at'].endswith(('-05:00', '-04:00'))


def test_history_table_names_each_write_with_its_order(paper: PaperBroker, local_store: str) -> None:
    result = invoke('history', '-a', '5WT00002', '--store', local_store)
    assert 'place VTI' in result.stdout and '225.00' in result.stdout and '(order ' in result.stdout


def test_kill_switch_status_json(local_store: str) -> None:
    invoke('kill-switch', 'on', '--reason', 'earnings week', '--store', local_store)
    payload = json.loads(invoke('kill-switch', 'status', '--store', local_store, '--json').stdout)
    assert payload['engaged'] is True and payload['reason'] == 'earnings week'
    invoke('kill-switch', 'off', '--store', local_store)
    assert json.loads(invoke('kill-switch', 'status', '--store', local_store, '--json').stdout)['engaged'] is False


def test_breaker_status_json_and_reset(local_store: str) -> None:
    from tastyguard.cli.stores import open_store, parse_store
    from tastyguard.store.control import CircuitBreaker

    with open_store(parse_store(local_store)) as session:
        CircuitBreaker(session.state, max_writes=1, window_seconds=60).trip('5WT00001', 'test burst')
    payload = json.loads(invoke('breaker', 'status', '--store', local_store, '--json').stdout)
    rows = {row['account']: row for row in payload['accounts']}
    assert rows['5WT00001']['tripped'] is True and rows['5WT00001']['reason'] == 'test burst'
    assert rows['5WT00002']['tripped'] is False
    assert invoke('breaker', 'reset', '-a', '5WT00001', '--store', local_store).exit_code == 0
    assert invoke('breaker', 'status', '-a', '5wt00001', '--store', local_store).stdout.strip() == 'closed'


def test_token_reset_closes_the_breaker_of_the_named_environment(local_store: str) -> None:
    from tastyguard.broker.tokens import BreakerTrip
    from tastyguard.cli.stores import open_store, parse_store

    with open_store(parse_store(local_store)) as session:
        cache = session.token_cache('paper')
        cache.trip_breaker(BreakerTrip(reason='invalid_grant', tripped_at=_now()))
    result = invoke('token', 'reset', '-e', 'paper', '--store', local_store)
    assert 'closed again' in result.stdout and 'invalid_grant' in result.stdout
    with open_store(parse_store(local_store)) as session:
        cache = session.token_cache('paper')
        assert cache.breaker() is None


def test_config_check_json(workdir: Path) -> None:
    payload = json.loads(invoke('config', 'check', '--json').stdout)
    assert payload['valid'] is True and [a['account_number'] for a in payload['accounts']] == ['5WT00001', '5WT00002']
    (workdir / 'bad.yaml').write_text('environment: paper\nmode: liev\naccounts: []\n')
    result = invoke('config', 'check', 'bad.yaml', '--json')
    assert result.exit_code == exit_codes.ERROR
    bad = json.loads(result.stdout)
    assert bad['valid'] is False and any(p['path'] == 'mode' for p in bad['problems'])


def test_config_check_deploy_refuses_the_example_and_a_paper_broker(workdir: Path) -> None:
    example = Path(__file__).resolve().parents[2] / 'tastyguard.example.yaml'
    result = invoke('config', 'check', '--deploy', str(example))
    assert result.exit_code == exit_codes.ERROR and 'made-up' in result.stdout
    paper = invoke('config', 'check', '--deploy', 'tastyguard.yaml')
    assert paper.exit_code == exit_codes.ERROR and 'paper cannot be deployed' in paper.stdout


def test_paper_state_json(paper: PaperBroker) -> None:
    payload = json.loads(invoke('paper', 'state', '--api-url', paper.api_url, '--json').stdout)
    assert [a['account']['account-number'] for a in payload['accounts']] == ['5WT00001', '5WT00002']
