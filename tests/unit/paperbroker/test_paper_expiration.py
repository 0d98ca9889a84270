"""Option expiration at the session close, holder instructions, early exercise and assignment, cash settlement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from paperbroker.clock import NEW_YORK
from paperbroker.instruments import occ_symbol
from paperbroker.sessions import close_of, next_boundary
from paperbroker.wire_accounts import transaction_json
from tests.unit.paperbroker.conftest import ACCOUNT

pytestmark = pytest.mark.unit

D = Decimal


def _expiry(desk: Any) -> Any:
    """The next Friday whose 16:00 close is ahead (the broker's virtual today)."""
    local = desk.broker.clock.now().astimezone(NEW_YORK)
    day = local.date() + timedelta(days=1)
    while day.weekday() != 4:
        day += timedelta(days=1)
    return day


def _to_close(desk: Any, day: Any, after: float = 60) -> None:
    desk.advance((close_of(day, desk.broker.core.settings) - desk.broker.clock.now()).total_seconds() + after)


def _rows(desk: Any) -> list[dict[str, Any]]:
    return [transaction_json(t) for t in desk.broker.core.state.transactions if t.transaction_type == 'Receive Deliver']


def _option(desk: Any, root: str, cp: str, strike: str, quantity: int, price: str, underlying: str) -> str:
    day = _expiry(desk)
    symbol = occ_symbol(root, day, cp, D(strike))
    desk.quote(root if root not in {'SPXW'} else 'SPX', underlying, str(D(underlying) + D('0.02')), underlying)
    desk.quote(symbol, '1.00', '1.10')
    desk.position(symbol, quantity, price)
    return symbol


def test_an_out_of_the_money_long_expires_worthless_at_the_close(desk: Any) -> None:
    symbol = _option(desk, 'AAPL', 'C', '210', 2, '1.50', '190.22')
    before = desk.broker.core.state.accounts[ACCOUNT].cash

    _to_close(desk, _expiry(desk))

    assert desk.held(symbol) == 0 and desk.held('AAPL') == 0
    (row,) = _rows(desk)
    assert row['transaction-sub-type'] == 'Expiration' and row['action'] == 'Sell to Close'
    assert row['description'].startswith('Removal of 2.0 AAPL ') and row['description'].endswith(' due to expiration.')
    assert row['value'] == '0.0' and desk.broker.core.state.accounts[ACCOUNT].cash == before
    position = desk.broker.core.state.positions[(ACCOUNT, symbol)]
    assert position.realized_day_gain == D('-300')  # the premium is lost


def test_nothing_settles_one_minute_before_the_close(desk: Any) -> None:
    symbol = _option(desk, 'AAPL', 'C', '210', 2, '1.50', '190.22')

    _to_close(desk, _expiry(desk), after=-60)

    assert desk.held(symbol) == 2


def test_an_in_the_money_short_put_is_assigned_and_delivers_stock_at_the_strike(desk: Any) -> None:
    symbol = _option(desk, 'SPY', 'P', '570', -3, '4.10', '565.01')
    before = desk.broker.core.state.accounts[ACCOUNT].cash

    _to_close(desk, _expiry(desk))

    assert desk.held(symbol) == 0 and desk.held('SPY') == 300
    assert desk.broker.core.state.positions[(ACCOUNT, 'SPY')].average_open_price == D(570)
    assert desk.broker.core.state.accounts[ACCOUNT].cash == before - D(171000)
    removal, delivery = _rows(desk)
    assert (removal['transaction-sub-type'], removal['action'], removal['description']) == (
        'Assignment',
        'Buy to Close',
        'Removal of option due to assignment',
    )
    assert (delivery['transaction-sub-type'], delivery['description']) == (
        'Buy to Open',
        'Buy to Open 300 SPY @ 570.00',
    )
    assert (delivery['value'], delivery['value-effect'], delivery['price']) == ('171000.0', 'Debit', '570.0')
    assert removal['executed-at'] == delivery['executed-at']


def test_an_in_the_money_long_call_is_exercised(desk: Any) -> None:
    symbol = _option(desk, 'NVDA', 'C', '120', 1, '6.00', '135.52')

    _to_close(desk, _expiry(desk))

    assert desk.held(symbol) == 0 and desk.held('NVDA') == 100
    assert [r['transaction-sub-type'] for r in _rows(desk)] == ['Exercise', 'Buy to Open']


def test_one_cent_in_the_money_is_enough(desk: Any) -> None:
    symbol = _option(desk, 'KO', 'P', '62.5', -1, '1.40', '62.49')

    _to_close(desk, _expiry(desk))

    assert desk.held(symbol) == 0 and desk.held('KO') == 100


def test_a_short_call_assigned_on_covered_stock_closes_the_stock(desk: Any) -> None:
    symbol = _option(desk, 'AAPL', 'C', '180', -1, '3.00', '190.22')
    desk.position('AAPL', 150, '170.00')

    _to_close(desk, _expiry(desk))

    assert desk.held(symbol) == 0 and desk.held('AAPL') == 50
    assert _rows(desk)[-1]['description'] == 'Sell to Close 100 AAPL @ 180.00'


def test_a_delivery_that_crosses_zero_is_one_close_and_one_open(desk: Any) -> None:
    symbol = _option(desk, 'AAPL', 'P', '200', -2, '3.00', '190.22')
    desk.position('AAPL', -50, '195.00')

    _to_close(desk, _expiry(desk))

    assert desk.held(symbol) == 0 and desk.held('AAPL') == 150
    assert [r['description'] for r in _rows(desk)[1:]] == [
        'Buy to Close 50 AAPL @ 200.00',
        'Buy to Open 150 AAPL @ 200.00',
    ]


@pytest.mark.parametrize(
    ('quantity', 'strike', 'action', 'left', 'stock'),
    [
        (2, '180', 'expire', 0, 0),  # a long in the money left unexercised
        (2, '210', 'exercise', 0, 200),  # a long out of the money exercised anyway
        (-2, '210', 'assign', 0, -200),  # a short out of the money assigned anyway
        (-2, '180', 'expire', 0, 0),  # a short in the money that happens not to be assigned
    ],
)
def test_the_holders_instruction_overrides_the_rule(
    desk: Any, quantity: int, strike: str, action: str, left: int, stock: int
) -> None:
    symbol = _option(desk, 'AAPL', 'C', strike, quantity, '2.00', '190.22')
    desk.broker.core.state.instructions[(ACCOUNT, symbol)] = action

    _to_close(desk, _expiry(desk))

    assert (desk.held(symbol), desk.held('AAPL')) == (left, stock)
    assert desk.broker.core.state.instructions == {}


def test_index_options_settle_in_cash(desk: Any) -> None:
    symbol = _option(desk, 'SPXW', 'C', '5800', 1, '20.00', '5850.00')
    before = desk.broker.core.state.accounts[ACCOUNT].cash

    _to_close(desk, _expiry(desk))

    assert desk.held(symbol) == 0 and desk.held('SPX') == 0
    (row,) = _rows(desk)
    assert row['transaction-sub-type'] == 'Cash Settled Exercise' and row['value'] == '5000.0'
    assert desk.broker.core.state.accounts[ACCOUNT].cash == before + D(5000)


def test_a_futures_option_delivers_the_future(desk: Any) -> None:
    day = _expiry(desk)
    symbol = f'./ESZ6 ESZ6  {day:%y%m%d}P5800'
    desk.quote('/ESZ6', '5750.00', '5750.25', '5750.00')
    desk.quote(symbol, '50.00', '51.00')
    desk.position(symbol, -1, '45.00')

    _to_close(desk, day)

    future = desk.broker.core.state.positions[(ACCOUNT, '/ESZ6')]
    assert (future.quantity, future.average_open_price) == (D(1), D(5800))


def test_working_orders_on_the_contract_expire_and_a_calendar_is_cancelled(desk: Any) -> None:
    symbol = _option(desk, 'AAPL', 'C', '210', 2, '1.50', '190.22')
    later = occ_symbol('AAPL', _expiry(desk) + timedelta(days=28), 'C', D(210))
    desk.quote(later, '3.00', '3.10')
    stop = desk.place(
        {
            'time-in-force': 'GTC',
            'order-type': 'Stop',
            'stop-trigger': '0.50',
            'legs': [{'instrument-type': 'Equity Option', 'symbol': symbol, 'quantity': 2, 'action': 'Sell to Close'}],
        }
    )['order']['id']
    calendar = desk.place(
        {
            'time-in-force': 'GTC',
            'order-type': 'Limit',
            'price': '0.50',
            'price-effect': 'Debit',
            'legs': [
                {'instrument-type': 'Equity Option', 'symbol': symbol, 'quantity': 1, 'action': 'Sell to Close'},
                {'instrument-type': 'Equity Option', 'symbol': later, 'quantity': 1, 'action': 'Buy to Open'},
            ],
        }
    )['order']['id']

    _to_close(desk, _expiry(desk))

    assert desk.order(stop).status == 'Expired' and desk.order(calendar).status == 'Cancelled'
    assert desk.order(calendar).cancel_user_id is None  # the broker's cancel, not a person's


def test_everything_is_streamed_as_tastytrade_sends_it(desk: Any) -> None:
    symbol = _option(desk, 'SPY', 'P', '570', -3, '4.10', '565.01')
    desk.events.clear()

    _to_close(desk, _expiry(desk))

    kinds = [(e['type'], e['data'].get('symbol'), e['data'].get('quantity')) for e in desk.events]
    assert ('CurrentPosition', symbol, '0') in kinds and ('CurrentPosition', 'SPY', '300') in kinds
    assert kinds[-1][0] == 'AccountBalance'
    closed = next(e['data'] for e in desk.events if e['type'] == 'CurrentPosition' and e['data']['symbol'] == symbol)
    assert closed['quantity-direction'] == 'Zero'


def test_a_position_seeded_on_a_past_expiration_waits_for_the_admin(desk: Any) -> None:
    past = desk.broker.clock.now().astimezone(NEW_YORK).date() - timedelta(days=3)
    symbol = occ_symbol('AAPL', past, 'C', D(180))
    desk.quote('AAPL', '190.20', '190.24', '190.22')
    desk.position(symbol, 1, '2.00')
    desk.advance(60)
    assert desk.held(symbol) == 1

    settled = desk.broker.engine.expirations.expire(desk.broker.clock.today())

    assert [s.outcome for s in settled] == ['exercised'] and desk.held('AAPL') == 100


def test_early_assignment_cancels_the_closing_orders_it_leaves_unbacked(desk: Any) -> None:
    symbol = _option(desk, 'SPY', 'P', '570', -3, '4.10', '565.01')
    stop = desk.place(
        {
            'time-in-force': 'GTC',
            'order-type': 'Stop',
            'stop-trigger': '9.00',
            'legs': [{'instrument-type': 'Equity Option', 'symbol': symbol, 'quantity': 3, 'action': 'Buy to Close'}],
        }
    )['order']['id']

    result = desk.broker.engine.expirations.exercise_early(ACCOUNT, symbol, D(1), 'assign')

    assert result.outcome == 'assigned' and desk.held(symbol) == -2 and desk.held('SPY') == 100
    assert desk.order(stop).status == 'Cancelled'


@pytest.mark.parametrize(
    ('quantity', 'outcome', 'message'),
    [
        (None, 'exercise', 'short position .* can be assigned, not exercised'),
        (D(4), 'assign', 'quantity must be a whole number of contracts from 1 to 3'),
        (D('1.5'), 'assign', 'whole number'),
    ],
)
def test_early_exercise_explains_what_is_wrong(desk: Any, quantity: Any, outcome: str, message: str) -> None:
    symbol = _option(desk, 'SPY', 'P', '570', -3, '4.10', '565.01')
    with pytest.raises(ValueError, match=message):
        desk.broker.engine.expirations.exercise_early(ACCOUNT, symbol, quantity, outcome)
    assert desk.held(symbol) == -3


def test_sessions_know_early_closes_and_skip_weekends(desk: Any) -> None:
    settings = desk.broker.core.settings
    friday = datetime(2026, 11, 27, 12, 0, tzinfo=NEW_YORK)
    settings.early_closes[friday.date()] = datetime(2026, 1, 1, 13, 0).time()  # noqa: DTZ001 - a time of day

    assert next_boundary(friday.astimezone(UTC), settings, which='close') == datetime(
        2026, 11, 27, 13, 0, tzinfo=NEW_YORK
    )
    assert next_boundary(friday.replace(hour=14).astimezone(UTC), settings, which='open') == datetime(
        2026, 11, 30, 9, 30, tzinfo=NEW_YORK
    )
