"""What the streamer watches for one account, from a fresh REST read (runs on the job thread).

Positions, working orders (with the ownership verdicts the jobs use: a person's edit of our stop is theirs),
tick tables, the effective policy of each position, its stored high-water mark (only if it belongs to this
position) and, for a position the broker holds no stop for, its software stop level; and every option structure
under an ``alert_only`` spread policy, with its software stop per unit.
"""

from __future__ import annotations

from decimal import Decimal

from tastyguard.config.effective import account_policy
from tastyguard.config.policy import StopKind
from tastyguard.engine.context import Context
from tastyguard.engine.coverage import CAP_STATUSES, COVERAGE_STATUSES, closes
from tastyguard.engine.position import software_level
from tastyguard.engine.spread_stop import StructureLevel, structure_level
from tastyguard.engine.structures import find_structures
from tastyguard.engine.trigger import NoStop
from tastyguard.engine.types import Holding, InstrumentType, PlanInputs, WorkingOrder
from tastyguard.jobs import mapping, overnight, ownership, tracking
from tastyguard.jobs.context import JobContext
from tastyguard.jobs.reading import read_instruments, read_positions
from tastyguard.streaming.prices import BrokerStop, Watched, WatchedStructure

SOFTWARE_TYPES = frozenset({InstrumentType.FUTURE_OPTION})
"""Positions the broker takes no stop orders for: the streamer watches their level instead."""


def watch_account(ctx: JobContext, account: str) -> tuple[list[Watched], list[WatchedStructure]]:
    """The watched positions and alert-only structures of ``account`` (raises a broker error when positions or
    orders cannot be read)."""
    _, holdings = read_positions(ctx.broker, account)
    orders = ctx.broker.live_orders(account)
    # Only the orders still working can be a stop to watch, and of those only the ones that changed since the
    # last run recorded them are judged against their ledger entries (the rest keep their recorded verdict).
    snapshot = ctx.stores.snapshots.latest(account)
    splits = ownership.split_factors(overnight.splits(snapshot)) if snapshot is not None else {}
    working_now = [order for order in orders if str(order.status) not in tracking.TERMINAL]
    judged, settled = tracking.settled_orders(working_now, snapshot.orders_seen if snapshot else {}, splits)
    judged_ids = {order.id for order in judged}
    verdicts = settled | ownership.decide(
        judged,
        ctx.stores.ledger.some(account, tracking.entries_to_read(judged)),
        ownership.lazy_intents(ctx, account),
        splits,
        others=[order for order in orders if order.id not in judged_ids],
        everything=lambda: ctx.stores.ledger.all(account),
    )
    working = mapping.working_orders(orders, {oid: v.ours for oid, v in verdicts.items()})
    instruments, _ = read_instruments(ctx.broker, ctx.stores.instruments, holdings)
    inputs = PlanInputs(
        account_number=account,
        holdings=holdings,
        orders=working,
        quotes={},
        instruments=instruments,
        policy=account_policy(ctx.config, account),
        salt='watch',
        now=ctx.clock(),
    )
    planning = Context(inputs)
    watched: list[Watched] = []
    for holding in holdings:
        policy = planning.policy(holding)
        if policy.kind is StopKind.NONE:
            continue
        stops = _stops(working, holding)
        ours = [s.trigger for s in stops if s.ours]
        entry = Watched(
            account=account,
            symbol=holding.symbol,
            instrument_type=holding.instrument_type,
            long=holding.is_long,
            quantity=holding.size,
            entry=holding.average_open_price,
            opened_at=holding.opened_at,
            policy=policy,
            ticks=planning.ticks(holding.symbol, holding.instrument_type),
            our_stop=(max(ours) if holding.is_long else min(ours)) if ours else None,
            stops=stops,
            closing_ours=_closing_ours(working, holding),
        )
        if entry.trails:
            stored = ctx.stores.high_water.get(account, holding.symbol)
            if stored is not None and stored.belongs_to(
                long=holding.is_long, open_price=holding.average_open_price, opened_at=holding.opened_at
            ):
                entry.mark = entry.persisted_mark = stored.price
        if holding.instrument_type in SOFTWARE_TYPES:
            level = software_level(planning, holding, policy, None)
            if not isinstance(level, NoStop) and level[0] > 0:
                entry.software_level = level[0]
        watched.append(entry)
    return watched, _structures(account, planning, holdings)


def _structures(account: str, planning: Context, holdings: list[Holding]) -> list[WatchedStructure]:
    """The option structures whose spread policy is alert_only and that have a software stop level."""
    found: list[WatchedStructure] = []
    for underlying, legs in find_structures(holdings).items():
        policy = planning.structure_policy(underlying, legs)
        if policy.kind is not StopKind.ALERT_ONLY:
            continue
        shape = structure_level(underlying, legs, policy)  # measured from the entry, as the plan states it
        if isinstance(shape, StructureLevel):
            found.append(WatchedStructure(account, shape, policy))
    return found


def _stops(orders: list[WorkingOrder], holding: Holding) -> tuple[BrokerStop, ...]:
    found: list[BrokerStop] = []
    for order in orders:
        if len(order.legs) != 1 or not order.order_type.is_stop or order.stop_trigger is None:
            continue
        leg = order.legs[0]
        if leg.symbol != holding.symbol or order.status not in COVERAGE_STATUSES:
            continue
        if closes(leg.action, holding.is_long):
            found.append(BrokerStop(order.id, Decimal(order.stop_trigger), holding.is_long, order.is_ours))
    return tuple(found)


def _closing_ours(orders: list[WorkingOrder], holding: Holding) -> bool:
    """Whether a closing order of ours that may still fill works on ``holding``."""
    return any(
        order.is_ours and order.status in CAP_STATUSES and leg.symbol == holding.symbol
        and closes(leg.action, holding.is_long)
        for order in orders for leg in order.legs
    )  # fmt: skip
