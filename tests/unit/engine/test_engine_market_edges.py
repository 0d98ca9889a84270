"""Odd markets: zero and missing bids or asks, crossed quotes, stale last trades, triggered stop limits and
a person's waiting OTO children. A stop is never placed where the broker would trigger it on arrival."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tastyguard.engine.actions import AlertKind, CoverageStatus
from tastyguard.engine.context import Context
from tastyguard.engine.trigger import NoStop, StopPrice, compute_stop, market_reference
from tastyguard.engine.types import OrderAction, OrderStatus, OrderType, QuoteView
from tastyguard.ticks import PENNY
from tests.unit.engine.builders import (
    alerts,
    cancels,
    config,
    coverage,
    inputs,
    option,
    order,
    places,
    quote,
    replaces,
    reports,
    run,
    sell_stop,
    stock,
)

pytestmark = pytest.mark.unit
D = Decimal

PRICES = st.one_of(
    st.none(),
    st.just(D(0)),
    st.decimals(min_value=D('0.01'), max_value=D(500), places=2, allow_nan=False, allow_infinity=False),
)


def _broker_triggers(trigger: Decimal, q: QuoteView, long: bool) -> bool:
    """Would a broker trigger this stop on arrival, by the book (a missing side counts as 0 / as the last)?"""
    bid, ask, last = q.bid, q.ask, q.last
    if long:
        references = [bid if bid is not None else (D(0) if ask else last)]
        if bid is not None and ask is not None and ask > 0 and bid > ask:
            references.append(ask)
        return any(r is not None and r <= trigger for r in references)
    has_ask = ask is not None and ask > 0
    references = [ask if has_ask else last]
    if not has_ask:
        references.append(bid)
    if bid is not None and has_ask and ask is not None and bid > ask:
        references.append(bid)
    return any(r is not None and r >= trigger for r in references)


@settings(max_examples=300, deadline=None)
@given(
    bid=PRICES,
    ask=PRICES,
    last=PRICES,
    entry=st.decimals(min_value=D('0.05'), max_value=D(500), places=2),
    long=st.booleans(),
    basis=st.sampled_from(['entry', 'mark']),
    when_breached=st.sampled_from(['alert', 'clamp', 'skip']),
)
def test_no_computed_stop_triggers_on_arrival(
    bid: Decimal | None,
    ask: Decimal | None,
    last: Decimal | None,
    entry: Decimal,
    long: bool,
    basis: str,
    when_breached: str,
) -> None:
    mark = (bid + ask) / 2 if bid is not None and ask else None
    q = QuoteView('XYZ', bid, ask, last, mark)
    cfg = config({'basis': basis, 'when_breached': when_breached})
    policy = Context(inputs([stock('XYZ', 1, '1')], cfg=cfg)).policy(stock('XYZ', 1, '1'))
    result = compute_stop(policy, long=long, option=False, entry=entry, quote=q, ticks=PENNY)
    if isinstance(result, StopPrice):
        assert result.trigger > 0
        assert not _broker_triggers(result.trigger, q, long), (result, q)
    else:
        assert isinstance(result, NoStop)


def test_a_long_with_no_bid_but_an_offer_is_judged_against_zero() -> None:
    market = market_reference(QuoteView('X', None, D('0.05'), D('0.30')), long=True)
    assert market is not None and market.price == 0 and market.label == 'bid'


def test_a_quote_with_only_a_last_trade_falls_back_to_it() -> None:
    market = market_reference(QuoteView('X', None, None, D('12.34')), long=True)
    assert market is not None and (market.price, market.label) == (D('12.34'), 'last')


def test_a_crossed_quote_is_judged_against_the_side_that_triggers_sooner() -> None:
    crossed = QuoteView('X', D('10.10'), D('10.00'), D('10.05'))
    long_market, short_market = market_reference(crossed, long=True), market_reference(crossed, long=False)
    assert long_market is not None and long_market.price == D('10.00')
    assert short_market is not None and short_market.price == D('10.10')


def test_a_short_without_an_ask_is_judged_against_the_highest_price_seen() -> None:
    market = market_reference(QuoteView('X', D('9.90'), None, D('10.60')), long=False)
    assert market is not None and market.price == D('10.60')


def test_a_long_option_with_a_zero_bid_gets_a_critical_breach_not_a_stop() -> None:
    # The reproduction from the issue: bought at 0.40, bid 0.00 / ask 0.05 / last 0.30
    symbol = 'KO    261218P00060000'
    result = run([option(symbol, 'KO', 5, '0.40')], quotes=[quote(symbol, '0.00', '0.05', '0.30')])
    assert places(result) == []
    [breach] = alerts(result, AlertKind.BREACHED)
    assert breach.severity.value == 'critical' and 'nobody is bidding' in breach.reason


def test_clamp_with_a_zero_bid_cannot_place_anything() -> None:
    symbol = 'KO    261218P00060000'
    result = run(
        [option(symbol, 'KO', 5, '0.40')],
        quotes=[quote(symbol, '0.00', '0.05', '0.30')],
        policy={'when_breached': 'clamp'},
    )
    assert places(result) == []
    assert alerts(result, AlertKind.UNPROTECTABLE)


# -- triggered stop limits -------------------------------------------------------------------------------------


def _triggered(quantity: int = 100) -> object:
    return sell_stop('AAPL', quantity, '162.00', price='160.38', order_type=OrderType.STOP_LIMIT)


def test_a_triggered_stop_limit_larger_than_the_position_is_re_placed_for_the_position() -> None:
    # Given 30 AAPL (the person sold 70) and our triggered Stop Limit for 100, limit 160.38, bid 155
    ours = _triggered()
    result = run(
        [stock('AAPL', 30, '170.00')],
        [ours],
        [quote('AAPL', '155.00', '155.05')],
        policy={'kind': 'stop_limit', 'basis': 'mark'},
    )
    # Then it is replaced by a working stop limit for 30 below the market, and the person is told
    [replace] = replaces(result)
    assert replace.order_id == ours.id  # type: ignore[attr-defined]
    assert replace.spec.quantity == 30 and replace.spec.stop_trigger < D('155.00')
    [told] = alerts(result, AlertKind.STOP_TRIGGERING)
    assert 'has not filled' in told.reason and told.severity.value == 'warning'
    assert coverage(result, 'AAPL').status is CoverageStatus.PROTECTED


def test_a_triggered_stop_limit_with_no_valid_stop_is_only_shrunk_and_is_critical() -> None:
    ours = _triggered()
    result = run(
        [stock('AAPL', 30, '175.00')],  # 10% below entry is 157.50: through the bid 155
        [ours],
        [quote('AAPL', '155.00', '155.05')],
        policy={'kind': 'stop_limit', 'basis': 'entry', 'when_breached': 'alert'},
    )
    [replace] = replaces(result)
    assert (replace.spec.quantity, replace.spec.stop_trigger, replace.spec.limit_price) == (
        D(30),
        D('162.00'),
        D('160.38'),
    )
    [told] = alerts(result, AlertKind.STOP_TRIGGERING)
    assert told.severity.value == 'critical'
    assert alerts(result, AlertKind.BREACHED) == []
    assert coverage(result, 'AAPL').status is CoverageStatus.UNPROTECTED


def test_a_working_stop_is_kept_over_a_triggered_one() -> None:
    triggered = _triggered(30)
    working = sell_stop('AAPL', 30, '154.00')
    result = run([stock('AAPL', 30, '170.00')], [triggered, working], [quote('AAPL', '155.00', '155.05')])
    assert [c.order_id for c in cancels(result)] == [triggered.id]  # type: ignore[attr-defined]
    assert places(result) == [] and replaces(result) == []


# -- a person's OTO waiting for its entry ----------------------------------------------------------------------


def test_a_waiting_oto_child_counts_neither_for_the_cap_nor_for_coverage() -> None:
    ours = sell_stop('KO', 300, '54.00')
    child = sell_stop(
        'KO',
        100,
        '45.00',
        ours=False,
        status=OrderStatus.CONTINGENT,
        complex_order_id='9',
        complex_order_tag='OTO::order',
    )
    entry = order('KO', OrderAction.BUY_TO_OPEN, 100, price='50.00', ours=False, complex_order_tag='OTO::trigger-order')
    result = run([stock('KO', 300, '60.00')], [ours, child, entry], [quote('KO', '62.00', '62.02')])
    assert replaces(result) == [] and places(result) == [] and cancels(result) == []
    assert alerts(result, AlertKind.BLOCKED_BY_HUMAN_ORDERS) == []
    assert any('waiting for its entry order' in r.reason for r in reports(result))


# -- ownership -------------------------------------------------------------------------------------------------


def test_a_tg_order_that_is_no_longer_what_we_sent_is_the_persons() -> None:
    edited = order('AMD', OrderAction.SELL_TO_CLOSE, 100, price='190.00', authored=False)
    result = run([stock('AMD', 100, '150.00')], [edited], [quote('AMD', '160.00', '160.05')])
    assert cancels(result) == [] and replaces(result) == []
    [blocked] = alerts(result, AlertKind.BLOCKED_BY_HUMAN_ORDERS)
    assert 'OCO' in blocked.reason
    assert any("a person's order" in r.reason for r in reports(result))
