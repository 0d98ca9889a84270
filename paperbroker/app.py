"""The ASGI application: REST routes, the two websockets, the admin API, error envelopes, the ticker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, WebSocketRoute

from paperbroker import (
    admin,
    admin_control,
    admin_customers,
    admin_events,
    rest_accounts,
    rest_market,
    rest_orders,
    rest_reports,
)
from paperbroker.account_streamer import account_streamer
from paperbroker.broker import Broker
from paperbroker.dxlink import dxlink
from paperbroker.errors import ApiError, OAuthError, status_error
from paperbroker.middleware import PaperMiddleware
from paperbroker.tastyware import PREFIX as TASTYWARE_PREFIX
from paperbroker.tastyware import admin as tastyware_admin
from paperbroker.tastyware.gateway import PaperApiGateway


async def _api_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError | OAuthError)
    return exc.response()


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return status_error(exc.status_code).response()


def create_app(broker: Broker) -> Any:
    """The Starlette app wrapped in the paper-broker middleware (request log, faults, User-Agent check)."""

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        ticker = asyncio.create_task(broker.run_ticker())
        try:
            yield
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker

    routes = [
        *rest_accounts.ROUTES,
        *rest_orders.ROUTES,
        *rest_reports.ROUTES,
        *rest_market.ROUTES,
        *admin.ROUTES,
        *admin_control.ROUTES,
        *admin_events.ROUTES,
        *admin_customers.ROUTES,
        WebSocketRoute('/account-streamer', account_streamer),
        WebSocketRoute('/dxlink', dxlink),
        # the tastyware paper API (X-Api-Key) and its admin routes
        Mount(TASTYWARE_PREFIX, app=PaperApiGateway()),
        *tastyware_admin.ROUTES,
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={ApiError: _api_error, OAuthError: _api_error, HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.state.broker = broker
    return PaperMiddleware(app, broker)
