"""A stateful randomized test of the protection invariants against the paper broker.

A hypothesis ``RuleBasedStateMachine`` plays a person (trades that add, trim, close and flip; their own stops,
take-profits, OCOs and waiting OTOs; cancels and edits of anyone's orders: a looser trigger, a larger
quantity, a PATCH, a limit instead of a stop, strict position effect off), the market (small moves, gaps,
spikes, zero bids, missing offers, crossed quotes, the market closing), the broker's fill behaviour
(immediate, partial, never, delayed) and faults (429, 5xx, a delay past the client timeout, malformed JSON,
an HTML 401, a write accepted but its response lost, a revoked access token), the kill switch, and live
runs of ``ensure_stops`` (one at a time, two at once, and reconcile). After every run the invariants in
:mod:`tests.integration.chaos.invariants` are checked on the broker's own state and request log.

CI runs a bounded number of examples (``TASTYGUARD_CHAOS_EXAMPLES``, default 12); ``make chaos`` runs
thousands. The seed is printed by hypothesis on failure (``--hypothesis-seed`` replays it).
"""

from __future__ import annotations

import os
import threading
from decimal import Decimal
from typing import Any

import boto3
import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from moto import mock_aws
from pydantic import SecretStr

from paperbroker.server import PaperBroker
from tastyguard.broker import Environment, OAuthCredentials, RateLimits, RetryPolicy, TastytradeClient
from tastyguard.config.loader import parse_config
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.invocation import JobInvocation, JobName
from tastyguard.jobs.registry import run
from tastyguard.jobs.results import AccountRunResult
from tastyguard.jobs.wiring import build_context
from tastyguard.notify.ports import MemoryNotifier
from tastyguard.store.schema import create_tables
from tastyguard.store.table import StateTable, utc_now
from tests.integration.chaos import invariants as inv
from tests.integration.person import Person, PersonActionError, take_profit

pytestmark = [pytest.mark.integration, pytest.mark.slow]

A = '5WT00001'
D = Decimal
SYMBOLS = ('AAA', 'BBB', 'CCC')
START = {'AAA': D('100.00'), 'BBB': D('25.00'), 'CCC': D('4.00')}
EXAMPLES = int(os.environ.get('TASTYGUARD_CHAOS_EXAMPLES', '12'))
STEPS = int(os.environ.get('TASTYGUARD_CHAOS_STEPS', '30'))
PERSON_AGENT = 'person-at-the-desk/1.0'
WRITE_FAULTS = (r'/orders$', r'/orders/\d+$')

POLICIES = st.fixed_dictionaries(
    {
        'kind': st.sampled_from(['stop', 'stop_limit']),
        'basis': st.sampled_from(['entry', 'mark', 'high_water']),
        'distance': st.sampled_from(['5%', '10%']),
        'when_breached': st.sampled_from(['alert', 'clamp', 'skip']),
        'on_human_cancel': st.sampled_from(['respect', 'replace']),
    }
)
FAULTS = st.sampled_from(
    [
        ('status', 'GET', r'/positions$', {'status': 429, 'retry_after': 0}),
        ('status', 'GET', r'/positions$', {'status': 429}),
        ('status', 'GET', r'/orders/live$', {'status': 503}),
        ('status', 'POST', r'/orders$', {'status': 500}),
        ('delay', 'POST', r'/orders$', {'seconds': 1.2}),
        ('delay', 'GET', r'/positions$', {'seconds': 1.2}),
        ('malformed', 'GET', r'/positions$', {}),
        ('malformed', 'POST', r'/orders$', {}),
        ('html_401', 'GET', r'/orders/live$', {}),
        ('accept_then_drop', 'POST', r'/orders$', {}),
        ('accept_then_drop', 'PUT', r'/orders/\d+$', {}),
        ('accept_then_drop', 'DELETE', r'/orders/\d+$', {}),
        ('revoke_token', '*', r'.*', {'scope': 'access'}),
    ]
)


def _client(broker: PaperBroker) -> TastytradeClient:
    return TastytradeClient(
        Environment.paper(broker.api_url, broker.account_streamer_url),
        OAuthCredentials(client_secret=SecretStr(broker.client_secret), refresh_token=SecretStr(broker.refresh_token)),
        rate_limits=RateLimits.disabled(),
        retry=RetryPolicy(max_attempts=3, base_delay=0.0, max_delay=0.0, max_total_wait=1.0),
        timeout=0.8,
    )


class ProtectionMachine(RuleBasedStateMachine):
    """The world around one account (see the module docstring)."""

    def __init__(self, broker: PaperBroker) -> None:
        super().__init__()
        self.broker = broker
        self.admin = broker.admin
        self.mock = mock_aws()
        self.mock.start()
        create_tables(boto3.client('dynamodb'))
        self.state = StateTable()
        self.contexts: list[JobContext] = []
        self.person: Person | None = None
        self.theirs: set[int] = set()  # orders the person created (their trades, stops, edits' replacements)
        self.kill_switch = False
        self.delays = False  # a fill behaviour or fault that leaves work pending at the broker
        self.armed: tuple[str, str, str, dict[str, Any]] | None = None
        self.runs = 0
        self.violations = inv.Violations()

    # -- set-up and tear-down ---------------------------------------------------------------------------------
    @initialize(policy=POLICIES, sizes=st.lists(st.integers(-300, 300), min_size=3, max_size=3))
    def start(self, policy: dict[str, str], sizes: list[int]) -> None:
        self.broker.reset('empty')
        self.policy = policy
        for symbol, size in zip(SYMBOLS, sizes, strict=True):
            price = START[symbol]
            if size:
                self.admin.add_position(A, symbol, size, str(price), bid=str(price), ask=str(price + D('0.05')))
            else:
                self.admin.set_quote(symbol, bid=str(price), ask=str(price + D('0.05')), last=str(price))
        config = parse_config(
            {
                'environment': 'paper',
                'mode': 'live',
                'accounts': [{'account_number': A, 'nickname': 'Individual'}],
                'policy': policy,
                'notifications': {'min_severity': 'info'},
                'safety': {'max_order_writes': 5000, 'max_writes_per_symbol': 100},
            }
        )
        for owner in ('worker-a', 'worker-b'):
            self.contexts.append(
                build_context(
                    config=config, broker=_client(self.broker), state=self.state, notifier=MemoryNotifier(), owner=owner
                )
            )
        self.person = Person(self.broker, _client(self.broker), A, user_agent=PERSON_AGENT)

    def teardown(self) -> None:
        if self.person is not None:
            self.person.close()
        for ctx in self.contexts:
            ctx.broker.close()  # type: ignore[attr-defined]
        self.mock.stop()

    # -- the person -------------------------------------------------------------------------------------------
    def _as_person(self, action: Any, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        try:
            result: dict[str, Any] = action(*args, **kwargs)
        except (PersonActionError, httpx.HTTPError, ValueError):
            return None  # the broker refused the person, or their request went astray: they try something else
        self._claim(result)
        return result

    def _claim(self, result: dict[str, Any]) -> None:
        for order in [result, *result.get('orders', []), result.get('trigger-order') or {}]:
            if isinstance(order, dict) and order.get('id') is not None:
                self.theirs.add(int(order['id']))
        complex_order = result.get('complex-order')
        if isinstance(complex_order, dict):
            self._claim(complex_order)

    def _held(self, symbol: str) -> Decimal:
        return inv.snapshot(self.admin, A).positions.get(symbol, D(0))

    def _open(self) -> bool:
        return bool(self.admin.state()['settings']['market-open'])

    @rule(
        symbol=st.sampled_from(SYMBOLS), how=st.sampled_from(['add', 'trim', 'close', 'flip']), size=st.integers(1, 150)
    )
    def trade(self, symbol: str, how: str, size: int) -> None:
        assert self.person is not None
        if not self._open():
            return
        held = self._held(symbol)
        long = held > 0
        if held == 0 or how == 'add':
            action = 'Buy to Open' if held >= 0 else 'Sell to Open'
            self._as_person(self.person.trade, symbol, size, action)
            return
        quantity = abs(held) if how in ('close', 'flip') else min(size, abs(held))
        self._as_person(self.person.trade, symbol, quantity, 'Sell to Close' if long else 'Buy to Close')
        if how == 'flip':
            self._as_person(self.person.trade, symbol, size, 'Sell to Open' if long else 'Buy to Open')

    @rule(
        symbol=st.sampled_from(SYMBOLS),
        what=st.sampled_from(['stop', 'take_profit', 'oco', 'oto']),
        share=st.sampled_from([D('0.25'), D('0.5'), D(1)]),
        gap=st.sampled_from([D('0.03'), D('0.12')]),
    )
    def person_order(self, symbol: str, what: str, share: Decimal, gap: Decimal) -> None:
        assert self.person is not None
        held = self._held(symbol)
        snap = inv.snapshot(self.admin, A).quotes.get(symbol)
        price = (snap.last if snap and snap.last else START[symbol]) if snap else START[symbol]
        if held == 0 and what != 'oto':
            return
        long = held >= 0
        quantity = max(1, int(abs(held) * share)) if held else 50
        close = 'Sell to Close' if long else 'Buy to Close'
        stop_at = _tick(price * (1 - gap) if long else price * (1 + gap))
        target = _tick(price * (1 + gap) if long else price * (1 - gap))
        stop = {**take_profit(symbol, quantity, '0', action=close), 'order-type': 'Stop', 'stop-trigger': str(stop_at)}
        stop.pop('price'), stop.pop('price-effect')
        if what == 'stop':
            self._as_person(self.person.place, stop)
        elif what == 'take_profit':
            self._as_person(self.person.place, take_profit(symbol, quantity, str(target), action=close))
        elif what == 'oco':
            tp = take_profit(symbol, quantity, str(target), action=close)
            self._as_person(self.person.complex, {'type': 'OCO', 'orders': [tp, stop]})
        else:
            entry_price = _tick(price * (1 - gap * 2) if long else price * (1 + gap * 2))
            entry = take_profit(symbol, quantity, str(entry_price), action='Buy to Open' if long else 'Sell to Open')
            entry['time-in-force'] = 'GTC'
            child_stop = _tick(entry_price * (1 - gap) if long else entry_price * (1 + gap))
            child = {**stop, 'stop-trigger': str(child_stop)}
            self._as_person(self.person.complex, {'type': 'OTO', 'trigger-order': entry, 'orders': [child]})

    @rule(pick=st.integers(0, 50), ours_first=st.booleans())
    def person_cancels(self, pick: int, ours_first: bool) -> None:
        assert self.person is not None
        orders = self._pickable(ours_first)
        if orders:
            self._as_person(self.person.cancel, orders[pick % len(orders)]['id'])

    @rule(
        pick=st.integers(0, 50),
        how=st.sampled_from(['looser', 'larger', 'patch', 'to_limit', 'strict_off']),
        ours_first=st.booleans(),
    )
    def person_edits(self, pick: int, how: str, ours_first: bool) -> None:
        assert self.person is not None
        orders = [o for o in self._pickable(ours_first) if len(o['legs']) == 1 and o['status'] == 'Live']
        if not orders:
            return
        order = orders[pick % len(orders)]
        leg = order['legs'][0]
        selling = leg['action'].startswith('Sell')
        body: dict[str, Any] = {'order-type': order['order-type'], 'time-in-force': order['time-in-force']}
        for key in ('stop-trigger', 'price', 'price-effect'):
            if order.get(key) is not None:
                body[key] = order[key]
        trigger = D(str(order['stop-trigger'])) if order.get('stop-trigger') else None
        if how == 'looser' and trigger is not None:
            body['stop-trigger'] = str(_tick(trigger * (D('0.9') if selling else D('1.1'))))
        elif how == 'larger':
            body['legs'] = [{**_leg(leg), 'quantity': str(D(str(leg['quantity'])) + 50)}]
        elif how == 'patch' and trigger is not None:
            edited = self._as_person(
                self.person.edit, order['id'], {'stop-trigger': str(_tick(trigger * D('0.97')))}, patch=True
            )
            self._note_replacement(edited)
            return
        elif how == 'to_limit':
            price = trigger or D(str(order.get('price') or 1))
            body = {
                'order-type': 'Limit',
                'time-in-force': 'GTC',
                'price': str(_tick(price * (D('1.3') if selling else D('0.7')))),
                'price-effect': 'Credit' if selling else 'Debit',
            }
        elif how == 'strict_off':
            body['advanced-instructions'] = {'strict-position-effect-validation': False}
        edited = self._as_person(self.person.edit, order['id'], body)
        self._note_replacement(edited)

    def _note_replacement(self, edited: dict[str, Any] | None) -> None:
        if edited is not None and edited.get('id') is not None:
            self.theirs.add(int(edited['id']))

    def _pickable(self, ours_first: bool) -> list[dict[str, Any]]:
        working = [o for o in inv.snapshot(self.admin, A).working if o['status'] in ('Live', 'Contingent')]
        ours = [o for o in working if int(o['id']) not in self.theirs]
        return ours if ours_first and ours else working

    # -- the market and the broker -------------------------------------------------------------------------------
    @rule(
        symbol=st.sampled_from(SYMBOLS),
        how=st.sampled_from(['small', 'small', 'gap_down', 'gap_up', 'spike', 'zero_bid', 'no_ask', 'crossed']),
        up=st.booleans(),
    )
    def market(self, symbol: str, how: str, up: bool) -> None:
        quote = inv.snapshot(self.admin, A).quotes.get(symbol)
        last = (quote.last or quote.bid or START[symbol]) if quote else START[symbol]
        last = max(last, D('0.50'))
        move = {'small': D('0.005'), 'gap_down': D('-0.08'), 'gap_up': D('0.08'), 'spike': D('0.15')}
        if how in move:
            change = move[how] if how != 'small' else (move[how] if up else -move[how])
            price = _tick(last * (1 + change))
            self.admin.set_quote(symbol, bid=str(price), ask=str(price + D('0.05')), last=str(price))
            if how == 'spike':
                self.admin.set_quote(symbol, bid=str(last), ask=str(last + D('0.05')), last=str(last))
        elif how == 'zero_bid':
            self.admin.set_quote(symbol, bid='0', ask=str(last), last=str(last))
        elif how == 'no_ask':
            self.admin.set_quote(symbol, bid=str(last), last=str(last), clear=['ask'])
        else:
            self.admin.set_quote(symbol, bid=str(last + D('0.10')), ask=str(last), last=str(last))

    @rule(open_=st.booleans())
    def market_hours(self, open_: bool) -> None:
        self.admin.set_market_open(open_)

    @rule(behavior=st.sampled_from(['immediate', 'immediate', 'partial', 'never', 'delayed']))
    def fill_behavior(self, behavior: str) -> None:
        self.admin.set_fill_behavior(behavior, delay=30 if behavior == 'delayed' else None)
        self.delays = behavior in ('never', 'delayed', 'partial') or self.delays

    @rule(seconds=st.sampled_from([5, 60, 600]))
    def time_passes(self, seconds: int) -> None:
        self.admin.advance_clock(seconds)

    @rule(fault=FAULTS)
    def fault(self, fault: tuple[str, str, str, dict[str, Any]]) -> None:
        self.armed = fault  # armed at the start of the next run, so only tastyguard meets it

    @rule(engaged=st.booleans())
    def kill_switch_toggle(self, engaged: bool) -> None:
        self.contexts[0].stores.kill_switch.set(engaged=engaged, reason='chaos', changed_by='test', now=utc_now())
        self.kill_switch = engaged

    # -- tastyguard -----------------------------------------------------------------------------------------------
    def _run(self, job: JobName, contexts: list[JobContext]) -> list[AccountRunResult]:
        before = inv.snapshot(self.admin, A)
        start = len(self.admin.requests())
        if self.armed is not None:
            kind, method, path, extra = self.armed
            self.admin.fault(kind, method=method, path=path, count=1, **extra)
        results: list[AccountRunResult] = []
        errors: list[BaseException] = []
        tick = utc_now()

        def one(ctx: JobContext) -> None:
            try:
                invocation = JobInvocation(job=job, account=A, scheduled_time=tick, force=True)
                results.extend(run(ctx, invocation))
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=one, args=(ctx,)) for ctx in contexts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
        self.runs += len(contexts)
        window = self.admin.requests()[start:]
        mine = inv.tastyguard_requests(window)
        writes = [w for w in inv.order_writes(mine) if w.get('status') is not None]
        inv.check_writes(writes, before, self.theirs, kill_switch=self.kill_switch, into=self.violations)
        if len(results) == 1 and results[0].status == 'skipped' and writes:
            self.violations.add(
                f'{len(writes)} order writes in a run that skipped (a failed read): {results[0].errors}'
            )
        self.admin.clear_faults()
        self.armed = None
        return results

    @rule()
    def run_once(self) -> None:
        armed = self.armed is not None
        results = self._run(JobName.ENSURE_STOPS, self.contexts[:1])
        if armed or self.kill_switch or self.delays or not self._open():
            return
        [result] = results
        if result.status != 'ok':
            return
        after = inv.snapshot(self.admin, A)
        ours = {int(o['id']) for o in after.orders if int(o['id']) not in self.theirs}
        inv.check_closing_cap(after, ours, self.violations)
        explained = {a.symbol for a in result.actions if a.kind == 'alert' and a.symbol} | {
            a.symbol for a in result.actions if a.kind != 'alert' and a.result not in _DONE and a.symbol
        }
        inv.check_covered(after, explained, SYMBOLS, self.violations)
        start = len(self.admin.requests())
        self._run(JobName.ENSURE_STOPS, self.contexts[:1])
        again = inv.order_writes(inv.tastyguard_requests(self.admin.requests()[start:]))
        if again:
            self.violations.add(f'a second quiet run wrote again: {[(w["method"], w["path"]) for w in again]}')

    @rule()
    def run_concurrently(self) -> None:
        self._run(JobName.ENSURE_STOPS, self.contexts)

    @rule()
    def reconcile(self) -> None:
        self._run(JobName.RECONCILE_ORDERS, self.contexts[:1])

    @precondition(lambda self: self.delays)
    @rule()
    def settle_down(self) -> None:
        """Back to immediate fills; let everything pending at the broker finish."""
        self.admin.set_fill_behavior('immediate')
        self.admin.advance_clock(3600)
        self.delays = False

    @invariant()
    def nothing_went_wrong(self) -> None:
        assert not self.violations, '\n'.join(self.violations.found)


_DONE = frozenset({'placed', 'replaced', 'cancelled', 'left alone', 'planned', 'raised'})


def _tick(price: Decimal) -> Decimal:
    price = max(price, D('0.01'))
    return price.quantize(D('0.01')) if price >= 1 else price.quantize(D('0.0001'))


def _leg(leg: dict[str, Any]) -> dict[str, Any]:
    return {k: leg[k] for k in ('instrument-type', 'symbol', 'action', 'quantity')}


@pytest.fixture
def atomic_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB checks a write's condition and applies it atomically per item; moto's in-memory backend does
    not lock, so two threads could both pass one condition. One lock around its writes restores that."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ('put_item', 'update_item', 'delete_item', 'batch_write_item', 'transact_write_items', 'get_item'):
        original = getattr(DynamoDBBackend, name)

        def locked(*args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return __original(*args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, locked)


@pytest.mark.timeout(60 + 30 * EXAMPLES)
def test_protection_invariants_hold_against_people_markets_faults_and_concurrency(
    paper_broker_server: PaperBroker, atomic_dynamodb: None
) -> None:
    run_state_machine_as_test(
        lambda: ProtectionMachine(paper_broker_server),
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=os.environ.get('TASTYGUARD_CHAOS_RANDOM') is None,
            database=None,
            report_multiple_bugs=False,
        ),
    )
