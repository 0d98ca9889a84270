"""Jobs over several grants against the paper broker's fleet: per-grant clients, breakers and messages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from pydantic import SecretStr

from paperbroker.server import PaperBroker
from tastyguard.broker import Environment, OAuthCredentials, RateLimits, TastytradeClient
from tastyguard.config.grants import GrantConfig
from tastyguard.config.loader import parse_config
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.grants import AccountNotReachableError, GrantClients
from tastyguard.jobs.invocation import JobInvocation, JobName
from tastyguard.jobs.registry import run
from tastyguard.jobs.wiring import build_context
from tastyguard.notify.ports import MemoryNotifier
from tastyguard.store.schema import create_tables
from tastyguard.store.table import StateTable, utc_now

pytestmark = [
    pytest.mark.integration,
    pytest.mark.paper_scenario('fleet', customers=2, accounts=4, positions=2, universe=8),
]


@pytest.fixture
def customers(paper_broker: PaperBroker) -> dict[str, dict[str, Any]]:
    """``default`` is the seeded customer (accounts 1-2), ``advisor`` the other one (accounts 3-4)."""
    seeded = paper_broker.broker.core.user_id
    listed = {c['user-id']: c for c in paper_broker.admin.customers()}
    (other,) = [user for user in listed if user != seeded]
    return {'default': listed[seeded], 'advisor': listed[other]}


def fleet_context(broker: PaperBroker, customers: dict[str, dict[str, Any]], **config: Any) -> JobContext:
    create_tables(boto3.client('dynamodb'))
    parsed = parse_config(
        {
            'environment': 'paper',
            'mode': 'live',
            'grants': [
                {'name': 'default', 'accounts': ['5WT00001', '5WT00002']},
                {'name': 'advisor', 'discover': True},
            ],
            **config,
        }
    )

    def client(grant: GrantConfig) -> TastytradeClient:
        customer = customers[grant.name]
        return TastytradeClient(
            Environment.paper(broker.api_url, broker.account_streamer_url),
            OAuthCredentials(
                client_secret=SecretStr(customer['client-secret']), refresh_token=SecretStr(customer['refresh-token'])
            ),
            rate_limits=RateLimits.disabled(),
        )

    clients = GrantClients(parsed, client)
    ctx = build_context(config=parsed, broker=clients.first(), state=StateTable(), notifier=MemoryNotifier(), owner='t')
    ctx.clients = clients
    return ctx


@pytest.fixture
def ctx(paper_broker: PaperBroker, customers: dict[str, dict[str, Any]], aws: None) -> Iterator[JobContext]:
    yield fleet_context(paper_broker, customers)


def invocation(account: str | None = None, grant: str | None = None) -> JobInvocation:
    return JobInvocation(job=JobName.ENSURE_STOPS, scheduled_time=utc_now(), account=account, grant=grant, force=True)


def stops(broker: PaperBroker, account: str) -> list[dict[str, Any]]:
    return [o for o in broker.admin.working_orders(account) if str(o.get('external-identifier', '')).startswith('tg-')]


def test_each_account_is_protected_through_its_own_grant(ctx: JobContext, paper_broker: PaperBroker) -> None:
    # A discovered account runs when the invocation names the grant that discovered it
    [result] = run(ctx, invocation('5WT00003', 'advisor'))
    assert result.status == 'ok' and len(stops(paper_broker, '5WT00003')) == 2
    calls = [r for r in paper_broker.admin.requests() if r['path'] == '/accounts/5WT00003/positions']
    customer = paper_broker.admin.customers()
    owner = next(c['user-id'] for c in customer if '5WT00003' in c['accounts'])
    assert {r['user-id'] for r in calls} == {owner}  # with the advisor's token, not the seeded user's


def test_a_revoked_grant_stops_only_its_own_accounts_with_one_message(
    ctx: JobContext, paper_broker: PaperBroker, customers: dict[str, dict[str, Any]]
) -> None:
    # Given the advisor's grant is revoked at tastytrade
    paper_broker.admin.revoke_customer(customers['advisor']['user-id'])
    # When its accounts and the default grant's accounts run
    failed = [run(ctx, invocation(account, 'advisor'))[0] for account in ('5WT00003', '5WT00004')]
    fine = run(ctx, invocation())
    # Then the advisor's accounts fail with "re-authorize advisor", the default grant's are protected
    assert [r.status for r in failed] == ['failed', 'failed']
    assert all(r.errors[0].startswith('reauthorize advisor') for r in failed)
    assert [r.status for r in fine] == ['ok', 'ok']
    assert stops(paper_broker, '5WT00001') and not stops(paper_broker, '5WT00003')
    notifier = ctx.notifier
    assert isinstance(notifier, MemoryNotifier)
    reauth = [n for n in notifier.sent if n.kind == 'reauthorize']
    assert [n.title for n in reauth] == ['tastyguard needs a new tastytrade grant: re-authorize advisor']
    # And the advisor's token endpoint is not called again
    paper_broker.admin.clear_requests()
    run(ctx, invocation('5WT00004', 'advisor'))
    assert [r for r in paper_broker.admin.requests() if r['path'] == '/oauth/token'] == []


def test_an_account_no_grant_reaches_is_refused(ctx: JobContext) -> None:
    with pytest.raises(AccountNotReachableError, match='5WT00009 is not in the configuration'):
        run(ctx, invocation('5WT00009'))
    with pytest.raises(AccountNotReachableError):
        run(ctx, invocation('5WT00009', 'default'))  # the default grant lists its accounts, it does not discover


def test_a_run_over_all_accounts_covers_the_listed_ones(ctx: JobContext, paper_broker: PaperBroker) -> None:
    results = run(ctx, invocation())
    assert [r.account for r in results] == ['5WT00001', '5WT00002']  # discovered accounts come from the dispatcher
    assert all(len(stops(paper_broker, account)) == 2 for account in ('5WT00001', '5WT00002'))


def test_ensure_stops_reports_what_changed_since_its_last_positions_read(
    ctx: JobContext, paper_broker: PaperBroker
) -> None:
    # Given a first run (its snapshot is the baseline)
    run(ctx, invocation('5WT00001'))
    symbol = paper_broker.admin.positions('5WT00001')[0]['symbol']
    paper_broker.admin.remove_position('5WT00001', symbol)
    # When the next run reads positions, Then it reports the close (no separate sync_positions read needed)
    [result] = run(ctx, invocation('5WT00001'))
    assert any(event.startswith(f'{symbol}: closed') for event in result.events)
    reads = [r for r in paper_broker.admin.requests() if r['path'] == '/accounts/5WT00001/positions']
    assert len(reads) == 3  # the first run, this run, and this run's confirmation of the absent position


def test_a_fill_event_for_a_discovered_account_finds_the_grant_that_discovered_it(
    ctx: JobContext, paper_broker: PaperBroker
) -> None:
    from datetime import UTC, datetime

    from tastyguard.store.ticks import DiscoveredAccounts, TickStore

    # Given the dispatcher's last discovery of the advisor grant found 5WT00004
    TickStore(ctx.stores.state).save_discovered(
        DiscoveredAccounts(grant='advisor', accounts=['5WT00003', '5WT00004'], discovered_at=datetime.now(UTC))
    )
    # When the streamer's event names only the account (no grant)
    event = JobInvocation(job=JobName.ENSURE_STOPS, account='5WT00004', symbol=None, event_id='evt-7')
    [result] = run(ctx, event)
    # Then it runs through the advisor's grant
    assert result.status == 'ok' and len(stops(paper_broker, '5WT00004')) == 2
