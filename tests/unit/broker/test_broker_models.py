"""Model behaviour: drift tolerance, signed values, timestamps, streamer notifications, secret fields."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from tastyguard.broker import (
    AccountBalance,
    BalanceNotification,
    Equity,
    InstrumentType,
    Order,
    OrderAction,
    OrderNotification,
    OrderStatus,
    OrderType,
    Position,
    PositionNotification,
    PriceEffect,
    QuantityDirection,
    Quote,
    QuoteToken,
    StreamerAck,
    TickSize,
    UnknownNotification,
    parse_notification,
    signed,
)
from tastyguard.ticks import PENNY, Rounding, TickLike, round_to_tick

pytestmark = pytest.mark.unit

ORDER = {
    'id': 7,
    'account-number': '5WT00001',
    'status': 'Live',
    'order-type': 'Stop',
    'time-in-force': 'GTC',
    'stop-trigger': '101.5',
    'updated-at': 1781292831405,
    'legs': [{'instrument-type': 'Equity', 'symbol': 'AAPL', 'action': 'Sell to Close', 'quantity': 10}],
}
POSITION = {
    'account-number': '5WT00001',
    'symbol': 'AAPL',
    'instrument-type': 'Equity',
    'quantity': '10',
    'quantity-direction': 'Long',
}


def test_unknown_fields_are_ignored() -> None:
    order = Order.model_validate({**ORDER, 'brand-new-field': {'x': 1}, 'another': [1, 2]})
    assert order.id == 7


def test_unknown_order_status_parses_as_an_unknown_member() -> None:
    order = Order.model_validate({**ORDER, 'status': 'Quantum Superposition'})
    assert order.status == 'Quantum Superposition'
    assert isinstance(order.status, OrderStatus)
    assert not order.status.is_known
    assert not order.is_terminal
    assert OrderStatus.LIVE.is_known


def test_unknown_order_type_instrument_type_and_action_parse() -> None:
    raw = {**ORDER, 'order-type': 'Trailing Stop', 'underlying-instrument-type': 'Moon Rock'}
    raw['legs'] = [{**ORDER['legs'][0], 'action': 'Teleport', 'instrument-type': 'Moon Rock'}]  # type: ignore[index]
    order = Order.model_validate(raw)
    assert order.order_type == 'Trailing Stop' and not order.order_type.is_known
    assert order.legs[0].action == 'Teleport' and order.legs[0].instrument_type == 'Moon Rock'


@pytest.mark.parametrize('missing', ['account-number', 'status', 'order-type', 'legs'])
def test_orders_require_the_fields_we_rely_on(missing: str) -> None:
    raw = {k: v for k, v in ORDER.items() if k != missing}
    with pytest.raises(ValidationError):
        Order.model_validate(raw)


def test_order_optional_fields_may_be_absent_or_null() -> None:
    order = Order.model_validate({**ORDER, 'price': None, 'time-in-force': None, 'received-at': None})
    assert order.price is None and order.time_in_force is None


def test_order_updated_at_accepts_an_iso_timestamp_too() -> None:
    order = Order.model_validate({**ORDER, 'updated-at': '2026-06-12T19:33:51.405Z'})
    assert order.updated_at == 1781292831405


def test_order_ids_accept_strings_and_text_fields_accept_numbers() -> None:
    order = Order.model_validate({**ORDER, 'id': '7', 'replaces-order-id': '5', 'preflight-id': 3})
    assert order.id == 7 and order.replaces_order_id == 5 and order.preflight_id == '3'


def test_signed_price_is_negative_for_a_debit_and_positive_for_a_credit() -> None:
    debit = Order.model_validate({**ORDER, 'order-type': 'Limit', 'price': '1.50', 'price-effect': 'Debit'})
    credit = Order.model_validate({**ORDER, 'order-type': 'Limit', 'price': '1.50', 'price-effect': 'Credit'})
    assert debit.signed_price == Decimal('-1.50')
    assert credit.signed_price == Decimal('1.50')
    assert signed(None, PriceEffect.DEBIT) is None
    assert signed(Decimal(2), PriceEffect.NONE) == Decimal(2)


@pytest.mark.parametrize(
    ('direction', 'expected'), [('Long', Decimal(10)), ('Short', Decimal(-10)), ('Zero', Decimal(0))]
)
def test_position_signed_quantity_follows_the_direction(direction: str, expected: Decimal) -> None:
    position = Position.model_validate({**POSITION, 'quantity-direction': direction})
    assert position.signed_quantity == expected
    assert position.is_long is (direction == 'Long')
    assert position.is_short is (direction == 'Short')


def test_position_with_an_unreadable_direction_is_rejected_not_guessed() -> None:
    with pytest.raises(ValidationError):
        Position.model_validate({**POSITION, 'quantity-direction': 'Sideways'})
    assert QuantityDirection('Long') is QuantityDirection.LONG


def test_position_multiplier_and_realized_gain_are_decimal_and_signed() -> None:
    position = Position.model_validate(
        {**POSITION, 'multiplier': 100, 'realized-day-gain': '12.5', 'realized-day-gain-effect': 'Debit'}
    )
    assert position.multiplier == Decimal(100)
    assert position.signed_realized_day_gain == Decimal('-12.5')


def test_nan_and_empty_decimals_become_none() -> None:
    quote = Quote.model_validate({'symbol': 'X', 'bid': 'NaN', 'ask': '', 'last': 'Infinity', 'mark': '1.5'})
    assert quote.bid is None and quote.ask is None and quote.last is None
    assert quote.reference_price == Decimal('1.5')


def test_garbage_decimals_still_fail_with_the_field_name() -> None:
    with pytest.raises(ValidationError, match='bid'):
        Quote.model_validate({'symbol': 'X', 'bid': 'one dollar'})


def test_balance_signs_pending_cash() -> None:
    balance = AccountBalance.model_validate(
        {'account-number': '5WT00001', 'pending-cash': '25.0', 'pending-cash-effect': 'Debit', 'cash-balance': '10'}
    )
    assert balance.signed_pending_cash == Decimal('-25.0')
    assert balance.cash_balance == Decimal(10)


def test_models_are_frozen() -> None:
    order = Order.model_validate(ORDER)
    with pytest.raises(ValidationError):
        order.id = 8  # type: ignore[misc]


def test_tick_size_satisfies_the_ticks_protocol() -> None:
    equity = Equity.model_validate(
        {'symbol': 'F', 'tick-sizes': [{'threshold': '1.0', 'value': '0.0001'}, {'value': '0.01'}]}
    )
    schedule: tuple[TickLike, ...] = equity.tick_sizes
    assert round_to_tick(Decimal('0.50005'), schedule, Rounding.UP) == Decimal('0.5001')
    assert equity.round_price(Decimal('12.345'), Rounding.DOWN) == Decimal('12.34')
    assert isinstance(schedule[0], TickSize)
    assert Equity.model_validate({'symbol': 'X'}).price_ticks() == PENNY


def test_action_helpers() -> None:
    assert OrderAction.SELL_TO_CLOSE.is_sell and OrderAction.SELL_TO_CLOSE.is_closing
    assert OrderAction.BUY_TO_OPEN.is_buy and not OrderAction.BUY_TO_OPEN.is_closing


def test_order_notification_parses_to_an_order() -> None:
    message = json.dumps({'type': 'Order', 'data': ORDER, 'timestamp': 1688595114405})
    note = parse_notification(message)
    assert isinstance(note, OrderNotification)
    assert note.data.id == 7 and note.data.order_type is OrderType.STOP
    assert note.timestamp == 1688595114405


def test_position_and_balance_notifications_parse() -> None:
    position = parse_notification({'type': 'CurrentPosition', 'data': POSITION, 'timestamp': 1})
    balance = parse_notification({'type': 'AccountBalance', 'data': {'account-number': '5WT00001'}})
    assert isinstance(position, PositionNotification) and position.data.symbol == 'AAPL'
    assert isinstance(balance, BalanceNotification)


def test_unknown_notification_types_are_kept_raw() -> None:
    note = parse_notification({'type': 'HoloDeckAlert', 'data': {'anything': True}, 'timestamp': 5})
    assert isinstance(note, UnknownNotification)
    assert note.type == 'HoloDeckAlert' and note.data == {'anything': True}


def test_known_notification_with_bad_data_raises() -> None:
    with pytest.raises(ValidationError):
        parse_notification({'type': 'Order', 'data': {'id': 1}})


def test_streamer_ack_parses() -> None:
    ack = StreamerAck.model_validate(
        {'status': 'ok', 'action': 'connect', 'web-socket-session-id': 'abc', 'value': ['5WT00001'], 'request-id': 2}
    )
    assert ack.ok and ack.request_id == 2


def test_quote_token_hides_its_token() -> None:
    token = QuoteToken.model_validate(
        {
            'token': 'dxlink-secret-token-xyz',
            'dxlink-url': 'wss://example.test/realtime',
            'expires-at': datetime(2026, 6, 30, tzinfo=UTC).isoformat(),
        }
    )
    assert 'dxlink-secret-token-xyz' not in repr(token)
    assert 'dxlink-secret-token-xyz' not in str(token.model_dump())
    assert token.token.get_secret_value() == 'dxlink-secret-token-xyz'


def test_instrument_type_values_match_the_wire() -> None:
    assert InstrumentType('Equity Option') is InstrumentType.EQUITY_OPTION
