"""Account reports the SDK's ``Account`` also calls: balance snapshots, total fees, net-liq history, margin.

The broker keeps no history of its own, so the reports are computed from the current state and the ledger:

* ``/balance-snapshots``: today's snapshot (the current balances, ``BOD`` or ``EOD`` as asked) when the requested
  dates include today; an empty list for other days.
* ``/transactions/total-fees``: the fees of the day's trades, from the transactions.
* ``/net-liq/history``: one point, now (open = high = low = close = the current net liquidating value).
* ``/margin/accounts/{n}/requirements``: the maintenance model of ``accounting`` per underlying, in the SDK's
  ``MarginReport`` shape.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from paperbroker.accounting import Valuation, value_account
from paperbroker.amounts import ZERO, fmt, signed_pair
from paperbroker.clock import epoch_ms, iso_ms, ny_date
from paperbroker.errors import ApiError
from paperbroker.model import Account, BrokerState
from paperbroker.responses import broker_of, ok, ok_items, paginate, user_account
from paperbroker.wire import balance_json

TIMES_OF_DAY = ('EOD', 'BOD')


async def balance_snapshots(request: Request) -> JSONResponse:
    """``GET /accounts/{n}/balance-snapshots`` (paginated)."""
    _, account = user_account(request)
    core = broker_of(request).core
    params = request.query_params
    today = core.clock.today()
    time_of_day = params.get('time-of-day', 'EOD')
    if time_of_day not in TIMES_OF_DAY:
        raise ApiError(400, 'bad_request', 'time-of-day must be "EOD" or "BOD"')
    wanted = _dates(params.get('snapshot-date'), params.get('start-date'), params.get('end-date'))
    items: list[dict[str, Any]] = []
    if wanted(today):
        snapshot = balance_json(account, value_account(core.state, account), core.now(), today)
        snapshot['time-of-day'] = time_of_day
        items.append(snapshot)
    page, pagination = paginate(request, items, default_per_page=250)
    return ok_items(request, page, pagination)


async def total_fees(request: Request) -> JSONResponse:
    """``GET /accounts/{n}/transactions/total-fees?date=YYYY-MM-DD`` (default: today in New York)."""
    _, account = user_account(request)
    core = broker_of(request).core
    day = _date(request.query_params.get('date'), 'date') or core.clock.today()
    fees = sum(
        (
            sum(t.fees.values(), ZERO)
            for t in core.state.transactions
            if t.account_number == account.number and ny_date(t.executed_at) == day
        ),
        ZERO,
    )
    return ok(request, signed_pair('total-fees', -fees))


async def net_liq_history(request: Request) -> JSONResponse:
    """``GET /accounts/{n}/net-liq/history`` with ``time-back`` or ``start-time``: one point, now."""
    _, account = user_account(request)
    params = request.query_params
    if not params.get('time-back') and not params.get('start-time'):
        raise ApiError(400, 'bad_request', 'time-back (1d, 1m, 3m, 6m, 1y, all) or start-time is required')
    core = broker_of(request).core
    net_liq = value_account(core.state, account).net_liq
    point: dict[str, Any] = {}
    for prefix in ('', 'pending-cash-', 'total-'):
        value = ZERO if prefix == 'pending-cash-' else net_liq
        for side in ('open', 'high', 'low', 'close'):
            point[f'{prefix}{side}'] = fmt(value)
    point['time'] = iso_ms(core.now())
    return ok_items(request, [point])


async def margin_requirements(request: Request) -> JSONResponse:
    """``GET /margin/accounts/{n}/requirements``: totals and one group per underlying."""
    _, account = user_account(request)
    core = broker_of(request).core
    total = value_account(core.state, account)
    underlyings = sorted({p.underlying_symbol for p in core.state.account_positions(account.number)})
    groups = [_group(core.state, account, underlying) for underlying in underlyings]
    calculation = 'Reg T' if account.margin_or_cash == 'Margin' else 'Cash'
    report: dict[str, Any] = {
        'account-number': account.number,
        'description': 'Total',
        'margin-calculation-type': calculation,
        'option-level': 'No Restrictions' if account.margin_or_cash == 'Margin' else 'Defined Risk',
        'last-state-timestamp': epoch_ms(core.now()),
        'groups': groups,
    }
    report.update(_amounts(total))
    return ok(request, report)


def _group(state: BrokerState, account: Account, underlying: str) -> dict[str, Any]:
    """The requirement of one underlying's positions (valued alone with the same model as the account)."""
    alone = BrokerState(
        registry=state.registry,
        accounts={account.number: account},
        positions={
            k: p for k, p in state.positions.items() if k[0] == account.number and p.underlying_symbol == underlying
        },
        quotes=state.quotes,
    )
    val = value_account(alone, account)
    instrument = state.registry.get(underlying)
    entry: dict[str, Any] = {
        'description': underlying,
        'code': underlying,
        'underlying-symbol': underlying,
        'underlying-type': instrument.instrument_type if instrument is not None else 'Equity',
        'margin-calculation-type': 'Reg T' if account.margin_or_cash == 'Margin' else 'Cash',
    }
    entry.update(signed_pair('buying-power', -val.maintenance))
    for name in ('margin-requirement', 'maintenance-requirement', 'initial-requirement'):
        entry.update(signed_pair(name, -val.maintenance))
    return entry


def _amounts(val: Valuation) -> dict[str, str]:
    """The report's totals: requirements as debits, equity and buying power as credits."""
    amounts: dict[str, str] = {}
    for name in ('margin-requirement', 'maintenance-requirement', 'reg-t-margin-requirement', 'initial-requirement'):
        amounts.update(signed_pair(name, -val.maintenance))
    amounts.update(signed_pair('margin-equity', val.net_liq))
    amounts.update(signed_pair('option-buying-power', val.derivative_buying_power))
    amounts.update(signed_pair('reg-t-option-buying-power', val.derivative_buying_power))
    amounts.update(signed_pair('maintenance-excess', val.net_liq - val.maintenance))
    return amounts


def _date(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ApiError(400, 'bad_request', f'{name} must be a date (YYYY-MM-DD), got {text!r}') from exc


def _dates(snapshot: str | None, start: str | None, end: str | None) -> Any:
    """A predicate for the days a snapshot query asks for (no dates: the latest snapshot, i.e. today)."""
    on, first, last = _date(snapshot, 'snapshot-date'), _date(start, 'start-date'), _date(end, 'end-date')

    def wanted(day: date) -> bool:
        if on is not None:
            return day == on
        return (first is None or first <= day) and (last is None or day <= last)

    return wanted


ROUTES = [
    Route('/accounts/{account_number}/balance-snapshots', balance_snapshots),
    Route('/accounts/{account_number}/transactions/total-fees', total_fees),
    Route('/accounts/{account_number}/net-liq/history', net_liq_history),
    Route('/margin/accounts/{account_number}/requirements', margin_requirements),
]
