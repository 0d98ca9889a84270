"""The admin API, the scenarios, the request log, the in-process server and ``tastyguard paper`` commands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from paperbroker.admin_client import AdminError
from paperbroker.server import PaperBroker

pytestmark = pytest.mark.integration


def _positions(broker: PaperBroker, account: str) -> dict[str, str]:
    return {
        p['symbol']: ('-' if p['quantity-direction'] == 'Short' else '') + p['quantity']
        for p in broker.admin.positions(account)
    }


def test_demo_scenario_has_the_documented_positions(paper_broker: PaperBroker) -> None:
    assert paper_broker.accounts == ['5WT00001', '5WT00002']
    assert _positions(paper_broker, '5WT00001') == {
        'AAPL': '100',
        'MSFT': '50',
        'NVDA': '200',
        'TSLA': '-30',
        'SPY': '20',
        'AMD': '100',
        'AAPL  261218C00200000': '2',
        'SPY   261218P00520000': '-3',
        '/ESZ6': '1',
        './ESZ6 ESZ6  261218P5800': '-1',
        'KO': '300',
    }
    assert _positions(paper_broker, '5WT00002') == {'VTI': '40'}


def test_demo_scenario_has_the_documented_working_orders(paper_broker: PaperBroker) -> None:
    orders = {o['id']: o for o in paper_broker.admin.orders('5WT00001')}

    summary = {
        i: (
            o['order-type'],
            o['legs'][0]['symbol'],
            o['legs'][0]['quantity'],
            o.get('stop-trigger') or o.get('price'),
            o.get('external-identifier'),
            o['source'],
        )
        for i, o in orders.items()
    }
    assert summary == {
        100001: ('Stop', 'MSFT', 50, '395.0', None, 'WBT'),
        100002: ('Stop', 'NVDA', 100, '118.0', None, 'WBT'),
        100003: ('Stop', 'SPY', 20, '504.0', 'tg-demo-spy-1', 'tastyguard/0.1.0'),
        100004: ('Stop', 'SPY', 20, '504.0', 'tg-demo-spy-2', 'tastyguard/0.1.0'),
        100005: ('Stop', 'INTC', 100, '19.0', 'tg-demo-intc-1', 'tastyguard/0.1.0'),
        100006: ('Limit', 'F', 100, '9.0', None, 'WBT'),
    }
    assert all(o['status'] == 'Live' and o['time-in-force'] == 'GTC' for o in orders.values())
    assert orders[100003]['advanced-instructions'] == {'strict-position-effect-validation': True}
    now = datetime.fromisoformat(paper_broker.admin.clock()['now'])
    assert all(now - datetime.fromisoformat(o['received-at']) >= timedelta(hours=23) for o in orders.values())


def test_state_lists_balances_quotes_and_settings(paper_broker: PaperBroker) -> None:
    state = paper_broker.admin.state()

    assert state['scenario'] == 'demo'
    assert state['accounts'][0]['balances']['cash-balance'] == '250000.0'
    assert {q['symbol'] for q in state['quotes']} >= {'AAPL', 'INTC', 'F', 'VTI', '/ESZ6'}
    assert state['settings']['behavior'] == 'immediate'


@pytest.mark.paper_scenario('empty')
def test_empty_scenario_marker(paper_broker: PaperBroker) -> None:
    state = paper_broker.admin.state()

    assert [a['account']['account-number'] for a in state['accounts']] == ['5WT00001']
    assert state['accounts'][0]['positions'] == [] and state['accounts'][0]['orders'] == []


@pytest.mark.paper_scenario('large', positions=60, orders=40, accounts=2)
def test_large_scenario_is_sized_by_its_options(paper_broker: PaperBroker) -> None:
    state = paper_broker.admin.state()

    assert len(state['accounts']) == 2
    assert sum(len(a['positions']) for a in state['accounts']) == 60
    orders = [o for a in state['accounts'] for o in a['orders']]
    assert len(orders) == 40
    assert {o['source'] for o in orders} == {'WBT', 'tastyguard/0.1.0'}
    assert {o['order-type'] for o in orders} == {'Stop', 'Limit'}


def test_large_scenario_is_deterministic(paper_broker: PaperBroker) -> None:
    first = paper_broker.reset('large', positions=30, orders=20)
    symbols = [p['symbol'] for p in paper_broker.admin.positions('5WT00001')]
    paper_broker.reset('large', positions=30, orders=20)

    assert first == ['5WT00001']
    assert [p['symbol'] for p in paper_broker.admin.positions('5WT00001')] == symbols


def test_quotes_for_new_symbols_create_plausible_instruments(paper_broker: PaperBroker, api: httpx.Client) -> None:
    paper_broker.admin.set_quotes(
        [
            {'symbol': 'PLTR', 'bid': '80.00', 'ask': '80.05', 'last': '80.02'},
            {'symbol': 'PLTR  270115C00100000', 'bid': '5.00', 'ask': '5.20'},
        ]
    )

    equity = api.get('/instruments/equities/PLTR').json()['data']
    option = api.get('/instruments/equity-options/PLTR%20%20270115C00100000').json()['data']
    assert equity['tick-sizes'] == [{'threshold': '1.0', 'value': '0.0001'}, {'value': '0.01'}]
    assert option['underlying-symbol'] == 'PLTR'


def test_admin_seeds_accounts_positions_and_orders(paper_broker: PaperBroker) -> None:
    admin = paper_broker.admin
    admin.add_account(account_number='5WT00003', nickname='Trading', cash='5000')
    admin.add_position('5WT00003', 'NFLX', 10, '900.00', bid='950.00', ask='950.50')
    order = admin.add_order(
        '5WT00003',
        {
            'time-in-force': 'GTC',
            'order-type': 'Stop',
            'stop-trigger': '850.00',
            'legs': [{'instrument-type': 'Equity', 'symbol': 'NFLX', 'quantity': 10, 'action': 'Sell to Close'}],
        },
        kind='tastyguard',
    )

    assert '5WT00003' in paper_broker.accounts
    assert admin.positions('5WT00003')[0]['quantity'] == '10'
    assert order['status'] == 'Live'
    assert order['external-identifier'].startswith('tg-')
    admin.remove_position('5WT00003', 'NFLX')
    assert admin.positions('5WT00003') == []


def test_admin_refuses_bad_input_with_a_reason(paper_broker: PaperBroker) -> None:
    with pytest.raises(AdminError, match='unknown account'):
        paper_broker.admin.add_position('5WT09999', 'AAPL', 1, '1')
    with pytest.raises(AdminError, match='behavior'):
        paper_broker.admin.set_fill_behavior('sometimes')
    with pytest.raises(AdminError, match='unknown scenario'):
        paper_broker.admin.reset('nope')


def test_default_fill_behaviour_and_force(paper_broker: PaperBroker, api: httpx.Client) -> None:
    paper_broker.admin.set_fill_behavior('never', force=True)
    market = {
        'time-in-force': 'Day',
        'order-type': 'Market',
        'behavior': 'immediate',
        'legs': [{'instrument-type': 'Equity', 'symbol': 'KO', 'quantity': 1, 'action': 'Buy to Open'}],
    }

    order_id = api.post('/accounts/5WT00001/orders', json=market).json()['data']['order']['id']

    assert api.get(f'/accounts/5WT00001/orders/{order_id}').json()['data']['status'] == 'Live'


def test_closed_market_holds_orders_until_it_opens(paper_broker: PaperBroker, api: httpx.Client) -> None:
    paper_broker.admin.set_market_open(False)
    market = {
        'time-in-force': 'Day',
        'order-type': 'Market',
        'legs': [{'instrument-type': 'Equity', 'symbol': 'KO', 'quantity': 1, 'action': 'Buy to Open'}],
    }

    placed = api.post('/accounts/5WT00001/orders', json=market).json()['data']
    paper_broker.admin.set_market_open(True)

    assert placed['order']['status'] == 'Received'
    assert placed['warnings'][0]['code'] == 'tif.next_valid_session'
    assert api.get(f'/accounts/5WT00001/orders/{placed["order"]["id"]}').json()['data']['status'] == 'Filled'


def test_request_log_counts_api_calls_but_not_admin_calls(paper_broker: PaperBroker, api: httpx.Client) -> None:
    paper_broker.admin.clear_requests()
    api.get('/accounts/5WT00001/positions', params={'include-marks': 'true'})
    paper_broker.admin.state()
    api.post('/accounts/5WT00001/orders/dry-run', json={'order-type': 'Stop'})

    log = paper_broker.admin.requests()

    assert [(r['method'], r['path'], r['status']) for r in log] == [
        ('GET', '/accounts/5WT00001/positions', 200),
        ('POST', '/accounts/5WT00001/orders/dry-run', 422),
    ]
    assert log[0]['query'] == 'include-marks=true'
    assert log[1]['body'] == {'order-type': 'Stop'}
    assert paper_broker.admin.requests(method='POST', path='/orders$') == []


def test_reset_restores_the_scenario_clock_and_faults_but_keeps_credentials(paper_broker: PaperBroker) -> None:
    secret = paper_broker.client_secret
    paper_broker.admin.advance_clock(3600)
    paper_broker.admin.fault('status', status=500, count=-1)
    paper_broker.admin.set_quote('AAPL', bid='1', ask='2')

    paper_broker.reset('demo')

    assert paper_broker.admin.clock()['offset-seconds'] == 0
    assert paper_broker.admin.faults() == []
    assert paper_broker.admin.requests() == []
    assert paper_broker.client_secret == secret
    assert next(q for q in paper_broker.admin.state()['quotes'] if q['symbol'] == 'AAPL')['bid'] == '190.2'


def test_info_is_the_ready_line(paper_broker: PaperBroker) -> None:
    assert paper_broker.admin.info() == paper_broker.ready_line()


def test_in_process_start_is_well_under_a_second(paper_broker_factory: Any) -> None:
    started = time.perf_counter()
    broker = paper_broker_factory('demo', client_secret='s3cret', refresh_token='r3fresh')
    elapsed = time.perf_counter() - started

    assert elapsed < 0.5, f'start-up took {elapsed:.3f} s'
    assert (broker.client_secret, broker.refresh_token) == ('s3cret', 'r3fresh')
    assert httpx.get(f'{broker.api_url}/_paper/clock').status_code == 200


def test_stop_closes_open_websockets(paper_broker_factory: Any) -> None:
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    broker = paper_broker_factory('empty')
    with connect(broker.dxlink_url, open_timeout=5) as ws:
        broker.stop()
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)


@pytest.mark.slow
def test_serve_prints_one_json_line_and_stops_on_sigterm() -> None:
    env = {**os.environ, 'PYTHONUNBUFFERED': '1'}
    cli = [sys.executable, '-c', 'from tastyguard.cli.app import main; main()', 'paper', 'serve', '--scenario', 'empty']
    process = subprocess.Popen(cli, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)  # noqa: S603
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        ready = json.loads(line)
        assert set(ready) == {
            'api_url',
            'account_streamer_url',
            'dxlink_url',
            'client_secret',
            'refresh_token',
            'accounts',
            'tastyware_paper_url',
            'tastyware_paper_streamer_url',
            'tastyware_api_key',
        }
        assert ready['accounts'] == ['5WT00001']
        assert httpx.get(f'{ready["api_url"]}/_paper/clock').status_code == 200
        state = subprocess.run(  # noqa: S603
            [
                sys.executable,
                '-c',
                'from tastyguard.cli.app import main; main()',
                'paper',
                'state',
                '--api-url',
                ready['api_url'],
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        assert '5WT00001' in state.stdout
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=15)
    assert process.returncode == 0
    assert out == ''  # nothing after the ready line
