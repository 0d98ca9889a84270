"""The digest's week ahead: which options expire this week, against what, delivering what."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tastyguard.engine.types import Holding, InstrumentType, QuoteView
from tastyguard.jobs.mapping import option_details
from tastyguard.jobs.week_ahead import expiring_this_week, line, week_end

pytestmark = pytest.mark.unit

D = Decimal
MONDAY = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def option(symbol: str, underlying: str, quantity: int) -> Holding:
    return Holding(
        '5WT00001', symbol, InstrumentType.EQUITY_OPTION, underlying, D(quantity), D('1.00'), D(100),
        option=option_details(symbol),
    )  # fmt: skip


def spot(symbol: str, price: str) -> QuoteView:
    return QuoteView(symbol, D(price), D(price), D(price), D(price))


def lines(holdings: list[Holding], *quotes: QuoteView) -> list[str]:
    return [line(item) for item in expiring_this_week(holdings, {q.symbol: q for q in quotes}, MONDAY)]


def test_only_this_weeks_options_soonest_first() -> None:
    held = [
        option('SPY   261218P00570000', 'SPY', -3),  # next week
        option('KO    261211P00062500', 'KO', -2),
        option('AAPL  261209C00210000', 'AAPL', 2),
    ]
    found = lines(held, spot('KO', '61.51'), spot('AAPL', '190.22'))

    assert [text.split(':')[0] for text in found] == ['Wed 12/09', 'Fri 12/11']
    assert week_end(MONDAY.date()).isoformat() == '2026-12-13'


def test_a_short_in_the_money_says_assignment_likely_and_what_it_delivers() -> None:
    (text,) = lines([option('KO    261211P00062500', 'KO', -2)], spot('KO', '61.51'))

    assert text == (
        'Fri 12/11: KO 12/11/26 62.5 put (short 2): in the money by 0.99 (KO 61.51): assignment likely: '
        'you would buy 200 KO at 62.50 (12,500.00)'
    )


def test_near_and_out_of_the_money() -> None:
    near, far = lines(
        [option('AAPL  261211C00192000', 'AAPL', 1), option('NVDA  261211C00150000', 'NVDA', 1)],
        spot('AAPL', '190.22'),
        spot('NVDA', '135.52'),
    )

    assert 'near the money (AAPL 190.22, 0.9% from the strike): if exercised, you would buy 100 AAPL at 192.00' in near
    assert far.endswith('out of the money (NVDA 135.52, 9.7% from the strike): expires worthless if it stays there')


def test_index_options_settle_in_cash_and_a_missing_price_says_so() -> None:
    cash, unknown = lines(
        [option('SPXW  261211C05800000', 'SPX', 1), option('XYZ   261211C00010000', 'XYZ', 1)], spot('SPX', '5850')
    )

    assert cash.endswith('exercise automatic at the close: settles in cash (about 5,000.00 received)')
    assert unknown.endswith('no price for XYZ; check it before the close')
