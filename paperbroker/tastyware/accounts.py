"""The paper API's own account endpoints: create, deposit / withdraw, delete (with its orders and transactions).

``POST /accounts`` takes the SDK's snake_case body ``{"account_name", "margin_or_cash", "initial_deposit"}``;
``POST /accounts/deposit`` and ``DELETE /accounts`` take ``account_number`` (and ``amount``) as query
parameters, as ``PaperSession`` sends them. Paper accounts get ``TW000001``-style numbers and their orders'
time in force is a formality (``Day`` and ``GTD`` orders never expire), as on the real service.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from paperbroker.amounts import fmt, to_decimal
from paperbroker.errors import ApiError, not_found, validation_error
from paperbroker.model import Account, User
from paperbroker.responses import broker_of, current_user, json_body, ok
from paperbroker.seeding import add_account, deposit
from paperbroker.tastyware.state import next_account_number
from paperbroker.wire_accounts import account_json

if TYPE_CHECKING:
    from paperbroker.broker import Broker

MAX_NAME_LENGTH = 255
MAX_AMOUNT = Decimal(1_000_000_000)
CENT = Decimal('0.01')


async def create_account(request: Request) -> JSONResponse:
    """``POST /accounts``: a new paper account of the key's subscriber, funded with ``initial_deposit``."""
    user = current_user(request)
    body = _snake(await json_body(request))
    name, margin_or_cash, initial = (
        body.get('account_name'),
        body.get('margin_or_cash', 'Margin'),
        body.get('initial_deposit', 100_000),
    )
    problems: list[dict[str, str]] = []
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
        problems.append(
            {'domain': 'account_name', 'reason': f'must be a non-blank string of at most {MAX_NAME_LENGTH}'}
        )
    if margin_or_cash not in {'Margin', 'Cash'}:
        problems.append({'domain': 'margin_or_cash', 'reason': 'must be "Margin" or "Cash"'})
    amount = to_decimal(initial)
    if amount is None or amount < 0 or amount > MAX_AMOUNT or amount != amount.quantize(CENT):
        problems.append({'domain': 'initial_deposit', 'reason': 'must be a number of dollars (cents at most) >= 0'})
    if problems:
        raise validation_error(problems)
    assert isinstance(name, str) and amount is not None
    broker = broker_of(request)
    core = broker.core
    account = add_account(
        core,
        next_account_number(core.state),
        user.id,
        nickname=name.strip(),
        margin_or_cash=str(margin_or_cash),
        cash=amount,
    )
    core.state.no_expiry_accounts.add(account.number)
    if user.id == core.user_id:
        broker.accounts.append(account.number)
    return ok(request, account_json(account), status=201)


async def deposit_cash(request: Request) -> JSONResponse:
    """``POST /accounts/deposit?account_number=&amount=``: negative amounts withdraw (never below zero cash).

    Deposits are always accepted, also into an account whose cash is negative (a margin debit).
    """
    user = current_user(request)
    params = await _params(request)
    account = _own_account(request, user, params.get('account_number'))
    amount = to_decimal(params.get('amount'))
    if amount is None or amount == 0 or abs(amount) > MAX_AMOUNT or amount != amount.quantize(CENT):
        raise validation_error([{'domain': 'amount', 'reason': 'must be a non-zero number of dollars (cents at most)'}])
    if amount < 0 and account.cash + amount < 0:
        raise ApiError(
            422,
            'insufficient_funds',
            f'Cannot withdraw {fmt(-amount)}: account {account.number} has {fmt(max(account.cash, Decimal(0)))} '
            'in cash to withdraw',
        )
    core = broker_of(request).core
    deposit(core, account.number, amount)
    core.emit_balance(account.number)
    return ok(request, {'account-number': account.number, 'amount': fmt(amount), 'cash-balance': fmt(account.cash)})


async def delete_account(request: Request) -> JSONResponse:
    """``DELETE /accounts?account_number=``: cancel its working orders, then remove it and everything it holds."""
    user = current_user(request)
    params = await _params(request)
    account = _own_account(request, user, params.get('account_number'))
    return ok(request, remove_account(broker_of(request), account))


def remove_account(broker: Broker, account: Account) -> dict[str, Any]:
    """Working orders are cancelled first (streamed, so listeners see them end); then the account disappears."""
    core, life = broker.core, broker.engine.life
    state = core.state
    number = account.number
    mine = sorted((o for o in state.orders.values() if o.account_number == number), key=lambda o: o.id or 0)
    cancelled = 0
    for order in mine:
        if order.working or order.status == 'Contingent':
            life.finish_cancel(order, None)
            cancelled += 1
    for listener in list(core.hub.account_listeners):
        listener.accounts.discard(number)
    for order in mine:
        state.orders.pop(order.id or 0, None)
    for group_id in [g.id for g in state.complex_orders.values() if g.account_number == number]:
        del state.complex_orders[group_id]
    positions = [key for key in state.positions if key[0] == number]
    for key in positions:
        del state.positions[key]
    transactions = sum(1 for t in state.transactions if t.account_number == number)
    state.transactions = [t for t in state.transactions if t.account_number != number]
    del state.accounts[number]
    state.no_expiry_accounts.discard(number)
    if number in broker.accounts:
        broker.accounts.remove(number)
    return {
        'account-number': number,
        'cancelled-orders': cancelled,
        'deleted-orders': len(mine),
        'deleted-positions': len(positions),
        'deleted-transactions': transactions,
    }


def _own_account(request: Request, user: User, number: Any) -> Account:
    if not isinstance(number, str) or not number:
        raise validation_error([{'domain': 'account_number', 'reason': 'is missing'}])
    account = broker_of(request).core.state.accounts.get(number)
    if account is None:
        raise not_found(f'account {number}')
    if account.owner_id != user.id:
        raise ApiError(403, 'not_permitted', 'User not permitted access')
    return account


async def _params(request: Request) -> dict[str, Any]:
    """Query parameters (what the SDK sends), else the JSON body's keys (snake_case or kebab-case)."""
    params: dict[str, Any] = {k.replace('-', '_'): v for k, v in request.query_params.items()}
    if not params:
        params = _snake(await json_body(request))
    return params


def _snake(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise validation_error([{'domain': 'body', 'reason': 'must be a JSON object'}])
    return {str(k).replace('-', '_'): v for k, v in body.items()}
