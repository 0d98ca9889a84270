"""A test of your own code with the paper broker's pytest plugin (installed with the package, no conftest needed)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tastytrade.order import FillBehavior, InstrumentType, Leg, LimitOrder, OrderAction, OrderStatus


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


@pytest.mark.anyio
async def test_my_entry_fills_after_its_delay(tastyware_paper_session, tastyware_paper_broker) -> None:
    paper = tastyware_paper_session
    async with paper.temporary_account() as account:
        leg = Leg(instrument_type=InstrumentType.EQUITY, symbol='AAPL', action=OrderAction.BUY_TO_OPEN, quantity=5)
        order = LimitOrder(price=Decimal('-191'), legs=[leg], behavior=FillBehavior.DELAYED, delay=30)
        placed = await account.place_order(paper, order, dry_run=False)

        tastyware_paper_broker.admin.advance_clock(30)  # instead of waiting 30 s

        filled = await account.get_order(paper, placed.order.id)
        assert filled.status == OrderStatus.FILLED
        assert filled.legs[0].fills[0].fill_price == Decimal('190.24')  # the demo scenario's AAPL ask
