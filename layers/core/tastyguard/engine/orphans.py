"""Orders on symbols tastyguard sees no position for.

tastyguard cancels its own stops on a vanished position only when the position has been absent on at
least :data:`ABSENT_READS_TO_CANCEL` consecutive reads (this one included): one missing read may be a
glitch, and cancelling a stop of a position that is still there would leave it naked. Until then it
reports "pending confirmation". The person's closing orders on such symbols are reported, never touched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tastyguard.config.models import Severity
from tastyguard.engine.actions import Action, AlertKind, CancelOrder, Report
from tastyguard.engine.context import Context
from tastyguard.engine.coverage import CANCELLABLE_STATUSES, Entry
from tastyguard.engine.types import OrderAction
from tastyguard.engine.wording import order_text

ABSENT_READS_TO_CANCEL = 2

_CLOSING = frozenset({OrderAction.BUY_TO_CLOSE, OrderAction.SELL_TO_CLOSE})


def absent_reads(ctx: Context, symbol: str) -> int:
    """Consecutive reads without the position (at least 1: it is absent in this one)."""
    return max(1, ctx.inputs.absent_counts.get(symbol, 1))


def plan_orphans(ctx: Context, index: Mapping[str, Sequence[Entry]], held: frozenset[str]) -> list[Action]:
    """Cancel (after two absent reads) or hold our single-leg orders on symbols without a position."""
    actions: list[Action] = []
    for symbol in sorted(set(index) - held):
        ours = []
        for order, leg in index[symbol]:
            if not order.is_ours:
                if leg.action in _CLOSING:
                    text = (
                        f"{symbol}: no position, but {order_text(order, symbol)} (a person's closing order) is working"
                    )
                    actions.append(Report(order.id, symbol, f'{text}; left alone'))
            elif len(order.legs) == 1 and order.status in CANCELLABLE_STATUSES:
                ours.append(order)
        if not ours:
            continue
        reads = absent_reads(ctx, symbol)
        if reads >= ABSENT_READS_TO_CANCEL:
            for order in ours:
                text = f'{symbol}: the position has been gone for {reads} reads; '
                text += f'cancelling our {order_text(order, symbol)}'
                actions.append(CancelOrder(order.id, symbol, text))
        else:
            ids = ', '.join(f'#{order.id}' for order in ours)
            text = (
                f'{symbol}: the position is missing from this read; our stop {ids} stays until a second read confirms'
            )
            actions.append(ctx.alert(AlertKind.PENDING_ABSENCE, Severity.INFO, symbol, text))
    return actions
