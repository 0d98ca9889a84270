"""The whole client surface against the paper broker: what the broker ends up holding is what we meant."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from paperbroker.server import PaperBroker
from tastyguard.broker import (
    USER_AGENT,
    ComplexOrderType,
    InstrumentType,
    NotFoundError,
    OrderAction,
    OrderRejectedError,
    OrderStatus,
    OrderType,
    QuantityDirection,
    RateLimits,
    TastytradeClient,
    limit_order,
    oco_order,
    protective_rounding,
    stop_limit_order,
    stop_order,
)
from tastyguard.ticks import round_to_tick
from tests.integration.broker.support import ACCOUNT, ko_stop, orders_with

pytestmark = pytest.mark.integration

OPTION = 'AAPL  261218C00200000'
FUTURE = '/ESZ6'
FUTURE_OPTION = './ESZ6 ESZ6  261218P5800'


def test_customer_accounts_and_trading_status(tt: TastytradeClient) -> None:
    assert tt.customer().id
    numbers = [a.account_number for a in tt.accounts()]
    assert numbers == ['5WT00001', '5WT00002']
    assert tt.trading_status(ACCOUNT).account_number == ACCOUNT


def test_positions_parse_with_signed_quantities(tt: TastytradeClient) -> None:
    positions = {p.symbol: p for p in tt.positions(ACCOUNT)}
    assert positions['AAPL'].signed_quantity == 100 and positions['AAPL'].instrument_type is InstrumentType.EQUITY
    assert positions['TSLA'].quantity_direction is QuantityDirection.SHORT and positions['TSLA'].signed_quantity < 0
    assert positions[OPTION].instrument_type is InstrumentType.EQUITY_OPTION
    assert positions[FUTURE].instrument_type is InstrumentType.FUTURE
    assert positions[FUTURE_OPTION].instrument_type is InstrumentType.FUTURE_OPTION
    assert [p.symbol for p in tt.positions('5WT00002')] == ['VTI']
    marked = tt.positions(ACCOUNT, include_marks=True)
    assert all(p.mark is not None for p in marked)


def test_balances(tt: TastytradeClient) -> None:
    balance = tt.balances(ACCOUNT)
    assert balance.account_number == ACCOUNT and balance.currency == 'USD'
    assert balance.net_liquidating_value is not None and balance.net_liquidating_value > 0


def test_live_orders_show_human_and_tastyguard_stops(tt: TastytradeClient) -> None:
    orders = tt.live_orders(ACCOUNT)
    ours = [o for o in orders if o.external_identifier and o.external_identifier.startswith('tg-')]
    theirs = [o for o in orders if o.order_type is OrderType.STOP and not o.external_identifier]
    assert ours and all(o.source and o.source.startswith('tastyguard/') for o in ours)
    assert theirs and all(o.legs[0].action is OrderAction.SELL_TO_CLOSE for o in theirs)
    assert tt.get_order(ACCOUNT, orders[0].id or 0) == orders[0]


def test_search_orders_reads_every_page(tt: TastytradeClient, paper_broker: PaperBroker) -> None:
    everything = tt.search_orders(ACCOUNT)
    paged = tt.search_orders(ACCOUNT, per_page=2)
    assert len(everything) >= 5
    assert sorted(o.id or 0 for o in paged) == sorted(o.id or 0 for o in everything)
    searches = paper_broker.admin.requests(method='GET', path=f'/accounts/{ACCOUNT}/orders$')
    assert len(searches) == 1 + -(-len(everything) // 2)


def test_place_sends_source_identifier_and_strict_validation(tt: TastytradeClient, paper_broker: PaperBroker) -> None:
    placed = tt.place_order(ACCOUNT, ko_stop('tg-it-place-1'))
    assert placed.order.id is not None and placed.order.status is not OrderStatus.REJECTED
    [held] = orders_with(paper_broker, 'tg-it-place-1')
    assert held['source'] == USER_AGENT and held['order-type'] == 'Stop' and held['stop-trigger'] == '55.0'
    [request] = paper_broker.admin.requests(method='POST', path=f'/accounts/{ACCOUNT}/orders$')
    assert request['body']['advanced-instructions'] == {'strict-position-effect-validation': True}
    assert request['user-agent'] == USER_AGENT


def test_dry_run_places_nothing(tt: TastytradeClient, paper_broker: PaperBroker) -> None:
    dry = tt.dry_run_order(ACCOUNT, ko_stop('tg-it-dry-1'))
    assert dry.order.id is None
    assert orders_with(paper_broker, 'tg-it-dry-1') == []


def test_strict_validation_rejects_a_stop_without_a_position(tt: TastytradeClient, paper_broker: PaperBroker) -> None:
    order = stop_order(
        symbol='MSFT',
        instrument_type=InstrumentType.EQUITY,
        action=OrderAction.BUY_TO_CLOSE,  # MSFT is held long: there is no short to close
        quantity=10,
        stop_trigger=Decimal('500.00'),
        external_identifier='tg-it-strict-1',
    )
    with pytest.raises(OrderRejectedError) as caught:
        tt.place_order(ACCOUNT, order)
    assert caught.value.status == 422 and caught.value.codes
    assert [o for o in orders_with(paper_broker, 'tg-it-strict-1') if o['status'] != 'Rejected'] == []


def test_replace_resizes_a_stop_and_edit_moves_it(tt: TastytradeClient, paper_broker: PaperBroker) -> None:
    placed = tt.place_order(ACCOUNT, ko_stop('tg-it-resize-1', quantity=100))
    assert placed.order.id is not None
    replacement = tt.replace_order(ACCOUNT, placed.order.id, ko_stop('tg-it-resize-2', quantity=300))
    assert replacement.id != placed.order.id and replacement.replaces_order_id == placed.order.id
    edited = tt.edit_order(ACCOUNT, replacement.id or 0, stop_trigger=Decimal('54.50'))
    working = [o for o in paper_broker.admin.working_orders(ACCOUNT) if o['legs'][0]['symbol'] == 'KO']
    assert [(o['id'], o['legs'][0]['quantity'], o['stop-trigger']) for o in working] == [(edited.id, 300, '54.5')]
    assert tt.get_order(ACCOUNT, placed.order.id).status is OrderStatus.CANCELLED


def test_cancel_and_cancel_again(tt: TastytradeClient, paper_broker: PaperBroker) -> None:
    placed = tt.place_order(ACCOUNT, ko_stop('tg-it-cancel-1'))
    assert placed.order.id is not None
    assert tt.cancel_order(ACCOUNT, placed.order.id).status in (OrderStatus.CANCEL_REQUESTED, OrderStatus.CANCELLED)
    assert orders_with(paper_broker, 'tg-it-cancel-1')[0]['status'] in ('Cancel Requested', 'Cancelled')
    with pytest.raises(OrderRejectedError) as caught:
        tt.cancel_order(ACCOUNT, placed.order.id)
    assert caught.value.code == 'cannot_update_order'


def test_get_order_not_found(tt: TastytradeClient) -> None:
    with pytest.raises(NotFoundError):
        tt.get_order(ACCOUNT, 987654321)


def test_find_order_by_external_id(tt: TastytradeClient) -> None:
    placed = tt.place_order(ACCOUNT, ko_stop('tg-it-find-1'))
    found = tt.find_order_by_external_id(ACCOUNT, 'tg-it-find-1')
    assert found is not None and found.id == placed.order.id
    assert tt.find_order_by_external_id(ACCOUNT, 'tg-it-never-sent') is None


def test_oco_place_dry_run_list_and_cancel(tt: TastytradeClient, paper_broker: PaperBroker) -> None:
    take = limit_order(
        symbol='AMD',
        instrument_type=InstrumentType.EQUITY,
        action=OrderAction.SELL_TO_CLOSE,
        quantity=100,
        limit_price=Decimal('180.00'),
        external_identifier='tg-it-oco-tp',
    )
    stop = stop_order(
        symbol='AMD',
        instrument_type=InstrumentType.EQUITY,
        action=OrderAction.SELL_TO_CLOSE,
        quantity=100,
        stop_trigger=Decimal('110.00'),
        external_identifier='tg-it-oco-sl',
    )
    oco = oco_order(take_profit=take, stop_loss=stop)
    assert tt.dry_run_complex_order(ACCOUNT, oco).complex_order.id is None
    placed = tt.place_complex_order(ACCOUNT, oco)
    complex_id = placed.complex_order.id
    assert complex_id is not None and placed.complex_order.type is ComplexOrderType.OCO
    assert [c.id for c in tt.live_complex_orders(ACCOUNT)] == [complex_id]
    children = orders_with(paper_broker, 'tg-it-oco-tp') + orders_with(paper_broker, 'tg-it-oco-sl')
    assert {c['complex-order-id'] for c in children} == {complex_id}
    tt.cancel_complex_order(ACCOUNT, complex_id)
    assert not [o for o in paper_broker.admin.working_orders(ACCOUNT) if o['legs'][0]['symbol'] == 'AMD']


def test_instruments_carry_tick_tables_and_are_cached(tt: TastytradeClient, paper_broker: PaperBroker) -> None:
    equity = tt.equity('AAPL')
    assert equity.tick_sizes and equity.option_tick_sizes
    assert tt.equity_option(OPTION).underlying_symbol == 'AAPL'
    assert tt.future(FUTURE).price_ticks()
    assert tt.future_option(FUTURE_OPTION).underlying_symbol == FUTURE
    tt.equity('AAPL')
    assert len(paper_broker.admin.requests(path='/instruments/equities/AAPL$')) == 1


def test_an_option_stop_rounded_with_the_underlyings_table_is_accepted(
    tt: TastytradeClient, paper_broker: PaperBroker
) -> None:
    schedule = tt.tick_schedule(InstrumentType.EQUITY_OPTION, OPTION)
    action = OrderAction.SELL_TO_CLOSE
    trigger = round_to_tick(Decimal('3.333'), schedule, protective_rounding(action))
    assert trigger == Decimal('3.35')
    order = stop_limit_order(
        symbol=OPTION,
        instrument_type=InstrumentType.EQUITY_OPTION,
        action=action,
        quantity=2,
        stop_trigger=trigger,
        limit_price=round_to_tick(Decimal('3.10'), schedule, protective_rounding(action)),
        external_identifier='tg-it-opt-1',
        ticks=schedule,
    )
    assert tt.place_order(ACCOUNT, order).order.order_type is OrderType.STOP_LIMIT
    assert orders_with(paper_broker, 'tg-it-opt-1')[0]['price-effect'] == 'Credit'


def test_quotes_batch_at_one_hundred_symbols(tt: TastytradeClient, paper_broker: PaperBroker) -> None:
    held = ['AAPL', 'MSFT', 'NVDA', 'TSLA', 'SPY', 'AMD', 'KO']
    padding = [f'ZZ{i:03d}' for i in range(120)]  # unknown symbols just get no quote
    quotes = tt.quotes({InstrumentType.EQUITY: [*held, *padding], InstrumentType.EQUITY_OPTION: [OPTION]})
    by_symbol = {q.symbol: q for q in quotes}
    assert set(held) | {OPTION} <= set(by_symbol)
    assert by_symbol['AAPL'].bid == Decimal('190.2') and by_symbol['AAPL'].reference_price is not None
    calls = paper_broker.admin.requests(path='/market-data/by-type$')
    assert len(calls) == 2


def test_quote_token_points_at_the_brokers_dxlink(tt: TastytradeClient, paper_broker: PaperBroker) -> None:
    token = tt.quote_token()
    assert token.dxlink_url == paper_broker.dxlink_url
    assert token.token.get_secret_value() not in repr(token)


def test_one_token_serves_a_whole_run(tt: TastytradeClient, paper_broker: PaperBroker) -> None:
    tt.accounts()
    tt.positions(ACCOUNT)
    tt.live_orders(ACCOUNT)
    assert len(paper_broker.admin.requests(method='POST', path='/oauth/token$')) == 1
    assert tt.stats.snapshot()['calls'] == {'accounts': 1, 'positions': 1, 'orders': 1}


def test_a_second_process_reuses_the_shared_token(
    make_client: Callable[..., TastytradeClient], paper_broker: PaperBroker
) -> None:
    first = make_client()
    second = make_client(token_cache=first.token_cache)
    first.positions(ACCOUNT)
    second.positions(ACCOUNT)
    assert len(paper_broker.admin.requests(method='POST', path='/oauth/token$')) == 1


def test_default_rate_limits_space_a_limited_family(
    make_client: Callable[..., TastytradeClient], sleeps: list[float]
) -> None:
    limited = make_client(rate_limits=RateLimits())  # balances: 1/s
    for _ in range(3):
        limited.balances(ACCOUNT)
    # The recording sleep does not wait, so the second reservation queues behind the first (~1 s, then ~2 s).
    assert limited.stats.rate_limit_waits == 2 and len(sleeps) == 2
    assert all(0 < s <= 2.0 for s in sleeps)


def test_many_instruments_come_in_one_batched_request(tt: TastytradeClient, paper_broker: PaperBroker) -> None:
    paper_broker.admin.clear_requests()
    equities = tt.equities(['AAPL', 'SPY', 'KO', 'NOPE'])
    futures = tt.futures(['/ESZ6'])
    assert sorted(equities) == ['AAPL', 'KO', 'SPY']
    assert equities['SPY'].option_tick_sizes
    assert futures['/ESZ6'].tick_size is not None
    paths = [r['path'] for r in paper_broker.admin.requests() if r['path'] != '/oauth/token']
    assert paths == ['/instruments/equities', '/instruments/futures']
    # and the single look-ups are served from the same cache
    tt.equity('KO')
    assert [r['path'] for r in paper_broker.admin.requests() if r['path'] != '/oauth/token'] == paths
