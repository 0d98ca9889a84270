"""The tastyware SDK's plain ``Session`` (OAuth) against the paper broker instead of api.tastyworks.com.

Run ``tastyguard paper serve`` and export four values of the JSON line it prints::

    TASTYTRADE_API_URL=<api_url>
    TASTYTRADE_STREAMER_URL=<account_streamer_url>
    TT_SECRET=<client_secret>
    TT_REFRESH=<refresh_token>

Instruments, option chains and quotes come from this session (the paper API serves account endpoints only).
"""

from __future__ import annotations

import asyncio
import os
from decimal import Decimal

from tastytrade import Account, AlertStreamer, Session
from tastytrade.instruments import get_option_chain
from tastytrade.market_data import get_market_data_by_type
from tastytrade.order import InstrumentType, Leg, OrderAction, OrderStatus, OrderTimeInForce, PlacedOrder, StopOrder


async def main() -> None:
    # is_test=True: no Accept-Version header, as for the sandbox; the base URL is set after construction
    session = Session(os.environ['TT_SECRET'], os.environ['TT_REFRESH'], is_test=True)
    session._client.base_url = os.environ['TASTYTRADE_API_URL']
    async with session:
        account = (await Account.get(session))[0]
        positions = await account.get_positions(session)
        print(f'{account.account_number}: {len(positions)} positions')

        [quote] = await get_market_data_by_type(session, equities=['AAPL'])
        print(f'AAPL bid {quote.bid} ask {quote.ask}')
        chain = await get_option_chain(session, 'AAPL')
        print(f'AAPL options: {sum(len(options) for options in chain.values())} in {len(chain)} expirations')

        # a protective stop for the AAPL position, placed for real, seen on the account streamer, then cancelled
        leg = Leg(instrument_type=InstrumentType.EQUITY, symbol='AAPL', action=OrderAction.SELL_TO_CLOSE, quantity=100)
        stop = StopOrder(time_in_force=OrderTimeInForce.GTC, stop_trigger=Decimal('170.00'), legs=[leg])
        streamer = AlertStreamer(session)
        streamer.base_url = os.environ['TASTYTRADE_STREAMER_URL']
        async with streamer:
            await streamer.subscribe_accounts([account])
            placed = await account.place_order(session, stop, dry_run=False)
            async for update in streamer.listen(PlacedOrder):
                if update.id == placed.order.id and update.status == OrderStatus.LIVE:
                    print(f'stop {update.id} live at {update.stop_trigger}')
                    break
        await account.delete_order(session, placed.order.id)
        print(f'stop {placed.order.id}: {(await account.get_order(session, placed.order.id)).status.value}')


if __name__ == '__main__':
    asyncio.run(main())
