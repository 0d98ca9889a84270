"""High-water marks for trailing stops: the best price seen since the position was opened.

Both the scheduled jobs and the streamer move them, so the update is a conditional write that only ever
moves a mark in the favourable direction (up for a long, down for a short). A mark belongs to one position:
it remembers the position's side and the time the broker says the position was opened (``created-at``), and
a position that closed and reopened starts a new mark instead of inheriting the old one, even when no run
saw it flat. Without an open time it falls back to the average open price; a mark last moved before the
position opened can never be that position's.
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
    open_price: Decimal | None = None  # the average open price of the position this mark belongs to
    opened_at: datetime | None = None  # when the broker says that position was opened
    updated_at: datetime

    def belongs_to(self, *, long: bool, open_price: Decimal | None, opened_at: datetime | None = None) -> bool:
        """True when the mark was made for this position (same side, same open time; else same open price)."""
        if self.long != long:
            return False
        if opened_at is not None:
            if self.opened_at is not None:
                return self.opened_at == opened_at
            if self.updated_at < opened_at:
                return False  # moved before the position existed: an earlier position's
        return self.open_price is None or open_price is None or self.open_price == open_price


class HighWaterStore:
    """Marks in the state table."""

    def __init__(self, state: StateTable) -> None:
        self._state = state

    def get(self, account: str, symbol: str) -> HighWater | None:
        """The mark, or None."""
        return self._state.get_record(account_pk(account), high_water_sk(symbol), HighWater)

    def raise_to(
        self,
        account: str,
        symbol: str,
        *,
        long: bool,
        price: Decimal,
        open_price: Decimal | None = None,
        opened_at: datetime | None = None,
    ) -> HighWater:
        """Move the mark to ``price`` if that is better than the stored one (or the stored one belongs to an
        earlier position); return the mark now stored."""
        mark = HighWater(
            account=account,
            symbol=symbol,
            long=long,
            price=price,
            open_price=open_price,
            opened_at=opened_at,
            updated_at=self._state.clock(),
        )
        better = 'price < :p' if long else 'price > :p'
        item = {
            **mark.model_dump(mode='json', exclude_none=True),
            'pk': account_pk(account),
            'sk': high_water_sk(symbol),
        }
        item['price'] = price  # numbers, so the condition compares numerically
        values: dict[str, Decimal | bool | str] = {':p': price, ':long': long}
        condition = f'attribute_not_exists(pk) OR #long <> :long OR {better}'
        if open_price is not None:
            item['open_price'] = open_price
        if opened_at is not None:
            values[':opened'] = str(item['opened_at'])
            condition += ' OR attribute_not_exists(opened_at) OR opened_at <> :opened'
        elif open_price is not None:
            values[':open'] = open_price
            condition += ' OR attribute_not_exists(open_price) OR open_price <> :open'
        try:
            self._state.table.put_item(
                Item=item,
                ConditionExpression=condition,
                ExpressionAttributeNames={'#long': 'long'},
                ExpressionAttributeValues=values,
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
