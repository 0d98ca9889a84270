"""The protection engine: a pure planner from positions, orders, quotes, instruments and policy to actions.

``plan(PlanInputs(...)) -> Plan``. No I/O: the jobs read the broker and the store, map them onto
:mod:`tastyguard.engine.types`, call :func:`plan`, and apply the plan according to the mode.
"""

from tastyguard.engine.actions import (
    Action,
    Alert,
    AlertKind,
    CancelOrder,
    CoverageStatus,
    PlaceStop,
    Plan,
    PositionCoverage,
    PriceEffect,
    ReplaceStop,
    Report,
    StopLeg,
    StopSpec,
)
from tastyguard.engine.planner import PlanInputError, PlannerBugError, plan
from tastyguard.engine.types import (
    OWN_PREFIX,
    Holding,
    InstrumentType,
    InstrumentView,
    OptionDetails,
    OptionType,
    OrderAction,
    OrderLeg,
    OrderStatus,
    OrderType,
    PlanInputs,
    QuoteView,
    TimeInForce,
    WorkingOrder,
)

__all__ = [
    'OWN_PREFIX',
    'Action',
    'Alert',
    'AlertKind',
    'CancelOrder',
    'CoverageStatus',
    'Holding',
    'InstrumentType',
    'InstrumentView',
    'OptionDetails',
    'OptionType',
    'OrderAction',
    'OrderLeg',
    'OrderStatus',
    'OrderType',
    'PlaceStop',
    'Plan',
    'PlanInputError',
    'PlanInputs',
    'PlannerBugError',
    'PositionCoverage',
    'PriceEffect',
    'QuoteView',
    'ReplaceStop',
    'Report',
    'StopLeg',
    'StopSpec',
    'TimeInForce',
    'WorkingOrder',
    'plan',
]
