"""High-water marks for trailing stops: the best price seen since the position was opened.

Both the scheduled jobs and the streamer move them, so the update is a conditional write that only ever
moves a mark in the favourable direction (up for a long, down for a short).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from tastyguard.store.keys import account_pk, high_water_sk
from tastyguard.store.table import StateTable


class HighWater(BaseModel):
    """The mark of one position."""

    model_config = ConfigDict(frozen=True)

    account: str
    symbol: str
    long: bool
    price: Decimal
    updated_at: datetime


class HighWaterStore:
    """Marks in the state table."""

    def __init__(self, state: StateTable) -> None:
        self._state = state

    def get(self, account: str, symbol: str) -> HighWater | None:
        """The mark, or None."""
        return self._state.get_record(account_pk(account), high_water_sk(symbol), HighWater)

    def raise_to(self, account: str, symbol: str, *, long: bool, price: Decimal) -> HighWater:
        """Move the mark to ``price`` if that is better than the stored one; return the mark now stored."""
        mark = HighWater(account=account, symbol=symbol, long=long, price=price, updated_at=self._state.clock())
        better = 'price < :p' if long else 'price > :p'
        try:
            self._state.table.put_item(
                Item={
                    **mark.model_dump(mode='json'),
                    'price': price,  # a number, so the condition compares numerically
                    'pk': account_pk(account),
                    'sk': high_water_sk(symbol),
                },
                ConditionExpression=f'attribute_not_exists(pk) OR #long <> :long OR {better}',
                ExpressionAttributeNames={'#long': 'long'},
                ExpressionAttributeValues={':p': price, ':long': long},
            )
        except Exception as error:
            if not self._state.is_conditional_failure(error):
                raise
            current = self.get(account, symbol)
            assert current is not None
            return current
        return mark

    def clear(self, account: str, symbol: str) -> None:
        """Forget the mark (the position was closed)."""
        self._state.table.delete_item(Key={'pk': account_pk(account), 'sk': high_water_sk(symbol)})
