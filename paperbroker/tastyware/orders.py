"""Order placement as the paper API does it.

* An order without ``behavior`` fills after a random delay between 0 and 10 seconds (virtual time; the range is
  ``max-default-delay``, the source ``seed`` in ``/_paper/tastyware/settings``). The SDK always sends
  ``behavior`` (``"immediate"`` unless told otherwise), so this default reaches raw-HTTP and other clients.
* With the service's restrictions on, futures, futures options and complex orders are refused.

Everything else (validation, preflight, fills, streaming) is the broker's own order engine.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from paperbroker.responses import broker_of, json_body, ok, user_account
from paperbroker.tastyware.limits import check_supported_order, complex_orders_unsupported
from paperbroker.tastyware.state import Tastyware


def with_default_fill(paper: Tastyware, body: Any) -> Any:
    """The body with the paper API's default fill behaviour when it names none."""
    if not isinstance(body, dict) or 'behavior' in body:
        return body
    return {**body, 'behavior': 'delayed', 'delay': paper.default_delay()}


async def place_order(request: Request) -> JSONResponse:
    """``POST /accounts/{n}/orders``."""
    return await _submit(request, dry_run=False)


async def dry_run_order(request: Request) -> JSONResponse:
    """``POST /accounts/{n}/orders/dry-run``."""
    return await _submit(request, dry_run=True)


async def place_complex_order(request: Request) -> JSONResponse:
    """``POST /accounts/{n}/complex-orders``."""
    return await _submit_complex(request, dry_run=False)


async def dry_run_complex_order(request: Request) -> JSONResponse:
    """``POST /accounts/{n}/complex-orders/dry-run``."""
    return await _submit_complex(request, dry_run=True)


async def _submit(request: Request, *, dry_run: bool) -> JSONResponse:
    user, account = user_account(request)
    broker = broker_of(request)
    body = await json_body(request)
    if broker.tastyware.settings.restrictions:
        check_supported_order(body)
    if not dry_run:  # a preview fills nothing, so it draws no delay
        body = with_default_fill(broker.tastyware, body)
    data = broker.engine.submit(account.number, body, user, dry_run=dry_run)
    return ok(request, data, status=200 if dry_run else 201)


async def _submit_complex(request: Request, *, dry_run: bool) -> JSONResponse:
    user, account = user_account(request)
    broker = broker_of(request)
    if broker.tastyware.settings.restrictions:
        raise complex_orders_unsupported()
    body = await json_body(request)
    if isinstance(body, dict) and not dry_run:
        body = dict(body)
        if isinstance(body.get('orders'), list):
            body['orders'] = [with_default_fill(broker.tastyware, child) for child in body['orders']]
        if 'trigger-order' in body:
            body['trigger-order'] = with_default_fill(broker.tastyware, body['trigger-order'])
    data = broker.engine.complex.submit(account.number, body, user, dry_run=dry_run)
    return ok(request, data, status=200 if dry_run else 201)
