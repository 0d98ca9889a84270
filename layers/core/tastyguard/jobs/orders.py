"""Turning the planner's :class:`~tastyguard.engine.actions.StopSpec` into the wire order it describes."""

from __future__ import annotations

from collections.abc import Sequence

from tastyguard.broker import builders
from tastyguard.broker import models as wire
from tastyguard.engine.actions import StopSpec
from tastyguard.engine.types import OrderType
from tastyguard.ticks import TickLike


def new_order(spec: StopSpec, ticks: Sequence[TickLike] | None) -> wire.NewOrder:
    """The closing order for ``spec`` (source, external identifier and strict position effect always set)."""
    tif = wire.TimeInForce(spec.time_in_force.value)
    if len(spec.legs) > 1:
        if spec.limit_price is None or spec.price_effect is None:
            raise builders.InvalidOrderError('a multi-leg protective order must be a Stop Limit with a price effect')
        return builders.spread_stop_limit_order(
            legs=[
                (
                    leg.symbol,
                    wire.InstrumentType(leg.instrument_type.value),
                    wire.OrderAction(leg.action.value),
                    leg.quantity,
                )
                for leg in spec.legs
            ],
            stop_trigger=spec.stop_trigger,
            limit_price=spec.limit_price,
            price_effect=wire.PriceEffect(spec.price_effect.value),
            external_identifier=spec.external_identifier,
            time_in_force=tif,
            ticks=ticks,
        )
    leg = spec.legs[0]
    instrument_type = wire.InstrumentType(leg.instrument_type.value)
    action = wire.OrderAction(leg.action.value)
    if spec.order_type is OrderType.LIMIT:  # a software stop's closing limit (never a market order)
        if spec.limit_price is None:
            raise builders.InvalidOrderError('a closing Limit needs a limit price')
        return builders.limit_order(
            symbol=leg.symbol,
            instrument_type=instrument_type,
            action=action,
            quantity=leg.quantity,
            limit_price=spec.limit_price,
            external_identifier=spec.external_identifier,
            time_in_force=tif,
            ticks=ticks,
        )
    if spec.order_type is OrderType.STOP_LIMIT:
        if spec.limit_price is None:
            raise builders.InvalidOrderError('a Stop Limit needs a limit price')
        return builders.stop_limit_order(
            symbol=leg.symbol,
            instrument_type=instrument_type,
            action=action,
            quantity=leg.quantity,
            stop_trigger=spec.stop_trigger,
            limit_price=spec.limit_price,
            external_identifier=spec.external_identifier,
            time_in_force=tif,
            ticks=ticks,
        )
    return builders.stop_order(
        symbol=leg.symbol,
        instrument_type=instrument_type,
        action=action,
        quantity=leg.quantity,
        stop_trigger=spec.stop_trigger,
        external_identifier=spec.external_identifier,
        time_in_force=tif,
        ticks=ticks,
    )
