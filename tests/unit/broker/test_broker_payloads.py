"""Every recorded sandbox payload parses with the broker models (and the values come out right)."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tastyguard.broker import (
    CompactOptionChain,
    ComplexOrderType,
    EquityOption,
    Future,
    FutureOption,
    FutureProduct,
    InstrumentType,
    MarginRequirement,
    MarketMetric,
    NestedFuturesOptionChains,
    NestedOptionChain,
    Order,
    OrderStatus,
    OrderType,
    PlacedComplexOrderResponse,
    PriceEffect,
    Quote,
    Transaction,
)
from tastyguard.ticks import Rounding, round_to_tick

pytestmark = pytest.mark.unit

# The shared reference sits next to the repository: <work>/shared/reference/payloads.
PAYLOADS = Path(__file__).resolve().parents[4] / 'shared' / 'reference' / 'payloads'


def _one(model: Any) -> Callable[[Any], list[Any]]:
    return lambda data: [model.model_validate(data)]


def _items(model: Any) -> Callable[[Any], list[Any]]:
    return lambda data: [model.model_validate(item) for item in data['items']]


PARSERS: dict[str, Callable[[Any], list[Any]]] = {
    'tastytrade_dry_run_complex_order.json': _one(PlacedComplexOrderResponse),
    'tastytrade_get_future_product.json': _one(FutureProduct),
    'tastytrade_get_futures.json': _items(Future),
    'tastytrade_get_futures_option_chain_full.json': _items(FutureOption),
    'tastytrade_get_futures_option_chains.json': _one(NestedFuturesOptionChains),
    'tastytrade_get_live_orders.json': _items(Order),
    'tastytrade_get_margin_requirements.json': _one(MarginRequirement),
    'tastytrade_get_market_metrics.json': _items(MarketMetric),
    'tastytrade_get_option_chain_compact.json': _items(CompactOptionChain),
    'tastytrade_get_option_chain_full.json': _items(EquityOption),
    'tastytrade_get_option_chain_nested.json': _items(NestedOptionChain),
    'tastytrade_get_quote.json': _items(Quote),
    'tastytrade_get_transactions.json': _items(Transaction),
    'tastytrade_search_customer_orders.json': _items(Order),
    'tastytrade_search_orders.json': _items(Order),
}


def load(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text())


def test_every_recorded_payload_has_a_parser() -> None:
    assert {p.name for p in PAYLOADS.glob('*.json')} == set(PARSERS)


@pytest.mark.parametrize('name', sorted(PARSERS))
def test_recorded_payload_parses(name: str) -> None:
    parsed = PARSERS[name](load(name))
    assert parsed


@pytest.mark.parametrize('name', sorted(PARSERS))
def test_parsed_payload_round_trips_to_kebab_case(name: str) -> None:
    for model in PARSERS[name](load(name)):
        dumped = model.model_dump(mode='json', exclude_none=True)
        assert not any('_' in key for key in dumped), 'dumps use the wire (kebab-case) names'
        assert type(model).model_validate(dumped) == model


def test_live_orders_keep_ids_epoch_millis_and_replacement_links() -> None:
    orders = [Order.model_validate(item) for item in load('tastytrade_get_live_orders.json')['items']]
    first = orders[0]
    assert first.id == 1075264
    assert first.updated_at == 1781292831405
    assert first.updated_at_datetime is not None and first.updated_at_datetime.year == 2026
    assert first.replaces_order_id == 1075261
    assert first.signed_price == Decimal('-1.02')  # a debit
    assert first.status is OrderStatus.CANCELLED and first.is_terminal
    replacing = [o for o in orders if o.replacing_order_id is not None]
    assert replacing and isinstance(replacing[0].replacing_order_id, int)
    oco_child = orders[1]
    assert oco_child.order_type is OrderType.STOP
    assert oco_child.stop_trigger == Decimal('1.0')
    assert oco_child.complex_order_tag == 'OCO::order'


def test_searched_orders_carry_fills_with_decimal_prices() -> None:
    orders = [Order.model_validate(item) for item in load('tastytrade_search_customer_orders.json')['items']]
    filled = [o for o in orders if o.status is OrderStatus.FILLED]
    leg = filled[0].legs[0]
    assert leg.fills and leg.fills[0].fill_price == Decimal('0.75')
    assert leg.filled_quantity == Decimal(1)
    assert leg.instrument_type is InstrumentType.EQUITY_OPTION
    rejected = [o for o in orders if o.status is OrderStatus.REJECTED]
    assert rejected and all(o.reject_reason for o in rejected)


def test_dry_run_complex_order_has_children_without_ids_and_warnings() -> None:
    response = PlacedComplexOrderResponse.model_validate(load('tastytrade_dry_run_complex_order.json'))
    complex_order = response.complex_order
    assert complex_order.type is ComplexOrderType.OCO
    assert complex_order.id is None
    assert [o.order_type for o in complex_order.orders] == [OrderType.LIMIT, OrderType.STOP]
    assert all(o.id is None and o.updated_at == 0 and o.updated_at_datetime is None for o in complex_order.orders)
    assert all(o.status is OrderStatus.CONTINGENT for o in complex_order.orders)
    assert 'closing_with_no_position' in response.warning_codes
    assert response.buying_power_effect is not None
    assert response.buying_power_effect.signed_change_in_buying_power == Decimal('-1.002332')
    assert response.fee_calculation is not None
    assert response.fee_calculation.signed_total_fees == Decimal('-0.001166')
    assert response.fee_calculation.commission_effect is PriceEffect.NONE


def test_quotes_tolerate_missing_prices() -> None:
    quotes = {q.symbol: q for q in (Quote.model_validate(i) for i in load('tastytrade_get_quote.json')['items'])}
    assert quotes['AAPL'].bid == Decimal('312.01')
    assert quotes['AAPL'].reference_price == Decimal('312.0151')
    assert quotes['VIX'].bid is None and quotes['VIX'].instrument_type is InstrumentType.INDEX
    assert quotes['VIX'].halt_start_time == -1


def test_future_tick_tables_round_prices() -> None:
    future = Future.model_validate(load('tastytrade_get_futures.json')['items'][0])
    assert future.symbol == '/ESZ6'
    assert round_to_tick(Decimal('6001.1'), future.price_ticks(), Rounding.UP) == Decimal('6001.25')
    assert future.round_price(Decimal('6001.1'), Rounding.DOWN) == Decimal('6001.00')
    option_ticks = future.option_price_ticks()
    assert round_to_tick(Decimal('4.97'), option_ticks, Rounding.UP) == Decimal('5.0')
    assert round_to_tick(Decimal('21.01'), option_ticks, Rounding.UP) == Decimal('21.25')
    assert future.spread_tick_sizes[0].symbol == '/ESZ6'


def test_option_chain_nested_exposes_tick_sizes_and_strikes() -> None:
    chain = NestedOptionChain.model_validate(load('tastytrade_get_option_chain_nested.json')['items'][0])
    assert chain.tick_sizes[0].threshold == Decimal('3.0')
    assert chain.expirations[0].strikes[0].call == 'AAPL  260612C00110000'


def test_transactions_sign_net_value() -> None:
    tx = Transaction.model_validate(load('tastytrade_get_transactions.json')['items'][0])
    assert tx.signed_net_value == Decimal('-76.12')
