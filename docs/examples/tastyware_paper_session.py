"""The tastyware SDK's paper API (``PaperSession``) against the paper broker instead of https://tastyware.dev/api.

Run ``tastyguard paper serve`` and export three values of the JSON line it prints::

    TASTYWARE_PAPER_URL=<tastyware_paper_url>
    TASTYWARE_PAPER_STREAMER_URL=<tastyware_paper_streamer_url>
    TW_API_KEY=<tastyware_api_key>

Everything below the two URL assignments is ordinary tastyware SDK code that runs unchanged on the paid service.
"""

from __future__ import annotations

import asyncio
import os
from decimal import Decimal

import tastytrade.paper
import tastytrade.streamer

# The SDK keeps its paper URLs in module constants, read when a session or streamer is created.
tastytrade.paper.PAPER_URL = os.environ['TASTYWARE_PAPER_URL']
tastytrade.streamer.PAPER_STREAMER_URL = os.environ['TASTYWARE_PAPER_STREAMER_URL']

from tastytrade import AlertStreamer
from tastytrade.order import (
    FillBehavior,
    InstrumentType,
    Leg,
    LimitOrder,
    OrderAction,
    OrderStatus,
    PlacedOrder,
)
from tastytrade.paper import PaperSession


async def main() -> None:
    paper = PaperSession(os.environ['TW_API_KEY'])
    async with paper.temporary_account(margin_or_cash='Cash') as account:
        await paper.deposit(account, Decimal(2_500))
        print(f'{account.account_number}: cash {(await account.get_balances(paper)).cash_balance}')

        leg = Leg(instrument_type=InstrumentType.EQUITY, symbol='AAPL', action=OrderAction.BUY_TO_OPEN, quantity=5)
        order = LimitOrder(price=Decimal('-195.00'), legs=[leg], behavior=FillBehavior.DELAYED, delay=1)
        async with AlertStreamer(paper) as streamer:
            await streamer.subscribe_accounts([account])
            placed = await account.place_order(paper, order, dry_run=False)
            print(f'order {placed.order.id}: {placed.order.status.value}')
            async for update in streamer.listen(PlacedOrder):
                print(f'order {update.id}: {update.status.value}')
                if update.status == OrderStatus.FILLED:
                    break

        [position] = await account.get_positions(paper)
        print(f'{position.symbol} {position.quantity} @ {position.average_open_price}')
    print('temporary account deleted')


if __name__ == '__main__':
    asyncio.run(main())
