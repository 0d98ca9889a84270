"""An option's last session: ``expiry_day_kind`` and ``expiry_cutoff_minutes``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import pytest

from tastyguard.config.loader import parse_config
from tastyguard.engine.actions import AlertKind
from tastyguard.engine.expiry import expires_at
from tastyguard.engine.types import Holding, InstrumentType, OptionDetails, OptionType
from tests.unit.engine.builders import ACCOUNT, NOW, alerts, buy_stop, inputs, option, places, quote, run, stock

pytestmark = pytest.mark.unit

PUT = 'SPY   260302P00520000'
EXPIRY = datetime(2026, 3, 2, 21, 0, tzinfo=UTC)  # 16:00 New York, the same day as NOW (10:00 New York)


def _expiring(quantity: int = -3, entry: str = '1.25', expires: datetime = EXPIRY) -> Holding:
    return replace(option(PUT, 'SPY', quantity, entry), expires_at=expires)


def test_on_expiration_day_an_option_can_be_alert_only() -> None:
    policy = {'instrument_types': {'equity_option': {'expiry_day_kind': 'alert_only'}}}
    result = run([_expiring()], quotes=[quote(PUT, '1.10', '1.20')], policy=policy)

    assert not places(result)
    (alert,) = alerts(result, AlertKind.ALERT_ONLY)
    assert 'expiry_day_kind' in alert.reason and 'expires today' in alert.reason


def test_the_day_before_the_usual_kind_applies() -> None:
    policy = {'instrument_types': {'equity_option': {'expiry_day_kind': 'alert_only'}}}
    result = run([_expiring(expires=EXPIRY + timedelta(days=1))], quotes=[quote(PUT, '1.10', '1.20')], policy=policy)

    assert [p.spec.stop_trigger for p in places(result)] == [2 * _expiring().average_open_price]


def test_the_expiry_day_kind_never_touches_stock() -> None:
    policy = {'expiry_day_kind': 'alert_only'}
    result = run([stock('AAPL', 100, '150')], quotes=[quote('AAPL', '190', '190.02')], policy=policy)

    assert len(places(result)) == 1


def test_no_new_stop_inside_the_cutoff_but_the_existing_one_stays() -> None:
    late = NOW.replace(hour=20, minute=45)  # 15:45 New York, 15 minutes before expiry
    held = _expiring()
    ours = buy_stop(PUT, 2, '2.50', instrument_type=InstrumentType.EQUITY_OPTION)
    result = run([held], [ours], quotes=[quote(PUT, '1.10', '1.20')], now=late)

    assert result.writes == ()  # not enlarged from 2 to 3, not cancelled
    (alert,) = alerts(result, AlertKind.EXPIRING)
    assert 'expires in 15 min' in alert.reason and 'existing stops stay' in alert.reason


def test_the_cutoff_is_configurable_and_zero_turns_it_off() -> None:
    late = NOW.replace(hour=20, minute=45)
    policy = {'instrument_types': {'equity_option': {'expiry_cutoff_minutes': 0}}}
    result = run([_expiring()], quotes=[quote(PUT, '1.10', '1.20')], now=late, policy=policy)

    assert len(places(result)) == 1


def test_a_spread_inside_the_cutoff_gets_no_new_structure_stop() -> None:
    late = NOW.replace(hour=20, minute=50)
    call = 'SPY   260302C00600000'
    legs = [_expiring(2, '10.00'), replace(option(call, 'SPY', -2, '6.00'), expires_at=EXPIRY)]
    policy = {'instrument_types': {'spread': {'kind': 'stop_limit'}}}
    market = [quote(PUT, '9.00', '9.10'), quote(call, '5.00', '5.10')]

    result = run(legs, quotes=market, now=late, policy=policy)

    assert not places(result)
    assert any('expires in 10 min' in a.reason for a in alerts(result, AlertKind.SPREAD))


def test_a_general_expiry_day_kind_stop_never_turns_on_futures_option_orders() -> None:
    cfg = parse_config(
        {'environment': 'paper', 'accounts': [{'account_number': ACCOUNT}], 'policy': {'expiry_day_kind': 'stop'}}
    )
    fop = replace(
        option('./ESH6 EW1H6 260302P5800', '/ESH6', -1, '45'),
        instrument_type=InstrumentType.FUTURE_OPTION,
        expires_at=EXPIRY,
    )
    result = run([fop], quotes=[quote(fop.symbol, '40', '41')], cfg=cfg)

    assert not places(result) and alerts(result, AlertKind.SOFTWARE_STOP)


def test_an_expiry_day_kind_the_broker_forbids_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="expiry_day_kind 'stop' is not available for future_option"):
        parse_config(
            {
                'environment': 'paper',
                'accounts': [{'account_number': ACCOUNT}],
                'policy': {'instrument_types': {'future_option': {'expiry_day_kind': 'stop'}}},
            }
        )


def test_inputs_builder_takes_now() -> None:
    assert inputs([stock('AAPL', 1, '1')], now=NOW.replace(hour=1)).now.hour == 1


@pytest.mark.parametrize(
    ('expiration', 'stops_trading'),
    [
        (date(2026, 11, 27), datetime(2026, 11, 27, 18, 0, tzinfo=UTC)),  # the day after Thanksgiving: 13:00
        (date(2026, 12, 24), datetime(2026, 12, 24, 18, 0, tzinfo=UTC)),  # Christmas Eve: 13:00
        (date(2026, 12, 18), datetime(2026, 12, 18, 21, 0, tzinfo=UTC)),  # a regular winter Friday: 16:00 EST
        (date(2026, 6, 19), datetime(2026, 6, 19, 20, 0, tzinfo=UTC)),  # a regular summer Friday: 16:00 EDT
    ],
)
def test_without_the_brokers_expiry_an_option_stops_trading_at_its_sessions_close(
    expiration: date, stops_trading: datetime
) -> None:
    # Given an option position whose instrument read gave no expires-at, only the contract's expiration date
    details = OptionDetails(OptionType.PUT, D('520'), expiration)
    holding = replace(option(PUT, 'SPY', -1, '1.25'), expires_at=None, option=details)
    # Then it stops trading at the close of that date's session, early or not
    assert expires_at(holding) == stops_trading
