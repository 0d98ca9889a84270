"""pydantic models of the tastytrade wire formats (responses, request bodies, streamer messages).

The models the jobs use on every run are imported eagerly; option chains, market metrics, transactions
and streamer messages load on first access (module ``__getattr__``), which keeps a Lambda's cold start
short. Both spellings work the same: ``from tastyguard.broker.models import NestedOptionChain``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tastyguard.broker.models.accounts import Account, AccountAuthority, Customer, TradingStatus
from tastyguard.broker.models.balances import AccountBalance, BuyingPowerEffect, FeeCalculation, FeeItem
from tastyguard.broker.models.common import (
    ApiEnum,
    ApiMessage,
    BrokerModel,
    InstrumentType,
    OptionType,
    PriceEffect,
    millis_to_datetime,
    signed,
)
from tastyguard.broker.models.complex_orders import (
    ComplexOrder,
    ComplexOrderType,
    PlacedComplexOrderResponse,
    RelatedOrder,
)
from tastyguard.broker.models.instruments import (
    Equity,
    EquityOption,
    Future,
    FutureEtfEquivalent,
    FutureOption,
    FutureOptionProduct,
    FutureProduct,
    TickSize,
)
from tastyguard.broker.models.orders import (
    Fill,
    Order,
    OrderAction,
    OrderLeg,
    OrderStatus,
    OrderType,
    PlacedOrderResponse,
    TimeInForce,
)
from tastyguard.broker.models.positions import Position, QuantityDirection
from tastyguard.broker.models.quotes import Quote, QuoteToken
from tastyguard.broker.models.requests import AdvancedInstructions, NewComplexOrder, NewOrder, NewOrderLeg, OrderEdit

if TYPE_CHECKING:
    from tastyguard.broker.models.chains import (
        CompactOptionChain,
        Deliverable,
        FutureOptionChain,
        FutureSummary,
        NestedExpiration,
        NestedFuturesOptionChains,
        NestedOptionChain,
        Strike,
    )
    from tastyguard.broker.models.market import ExpirationVolatility, MarginRequirement, MarketMetric
    from tastyguard.broker.models.streamer import (
        BalanceNotification,
        ComplexOrderNotification,
        Notification,
        OrderNotification,
        PositionNotification,
        StreamerAck,
        TradingStatusNotification,
        UnknownNotification,
        parse_notification,
    )
    from tastyguard.broker.models.transactions import Transaction, TransactionSubType, TransactionType

LAZY: dict[str, str] = {
    **dict.fromkeys(
        [
            'CompactOptionChain',
            'Deliverable',
            'FutureOptionChain',
            'FutureSummary',
            'NestedExpiration',
            'NestedFuturesOptionChains',
            'NestedOptionChain',
            'Strike',
        ],
        'chains',
    ),
    **dict.fromkeys(['ExpirationVolatility', 'MarginRequirement', 'MarketMetric'], 'market'),
    **dict.fromkeys(
        [
            'BalanceNotification',
            'ComplexOrderNotification',
            'Notification',
            'OrderNotification',
            'PositionNotification',
            'StreamerAck',
            'TradingStatusNotification',
            'UnknownNotification',
            'parse_notification',
        ],
        'streamer',
    ),
    **dict.fromkeys(['Transaction', 'TransactionSubType', 'TransactionType'], 'transactions'),
}
"""Public names loaded on first access, and the submodule that holds each."""


def __getattr__(name: str) -> Any:
    module = LAZY.get(name)
    if module is None:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    value = getattr(importlib.import_module(f'{__name__}.{module}'), name)
    globals()[name] = value
    return value


__all__ = [
    'Account',
    'AccountAuthority',
    'AccountBalance',
    'AdvancedInstructions',
    'ApiEnum',
    'ApiMessage',
    'BalanceNotification',
    'BrokerModel',
    'BuyingPowerEffect',
    'CompactOptionChain',
    'ComplexOrder',
    'ComplexOrderNotification',
    'ComplexOrderType',
    'Customer',
    'Deliverable',
    'Equity',
    'EquityOption',
    'ExpirationVolatility',
    'FeeCalculation',
    'FeeItem',
    'Fill',
    'Future',
    'FutureEtfEquivalent',
    'FutureOption',
    'FutureOptionChain',
    'FutureOptionProduct',
    'FutureProduct',
    'FutureSummary',
    'InstrumentType',
    'MarginRequirement',
    'MarketMetric',
    'NestedExpiration',
    'NestedFuturesOptionChains',
    'NestedOptionChain',
    'NewComplexOrder',
    'NewOrder',
    'NewOrderLeg',
    'Notification',
    'OptionType',
    'Order',
    'OrderAction',
    'OrderEdit',
    'OrderLeg',
    'OrderNotification',
    'OrderStatus',
    'OrderType',
    'PlacedComplexOrderResponse',
    'PlacedOrderResponse',
    'Position',
    'PositionNotification',
    'PriceEffect',
    'QuantityDirection',
    'Quote',
    'QuoteToken',
    'RelatedOrder',
    'StreamerAck',
    'Strike',
    'TickSize',
    'TimeInForce',
    'TradingStatus',
    'TradingStatusNotification',
    'Transaction',
    'TransactionSubType',
    'TransactionType',
    'UnknownNotification',
    'millis_to_datetime',
    'parse_notification',
    'signed',
]
