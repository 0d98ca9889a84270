"""The tastyware paper-trading API, emulated: a free local stand-in for ``https://tastyware.dev/api``.

The tastyware SDK's ``PaperSession`` talks to it once ``tastytrade.paper.PAPER_URL`` points at
``<api_url>/tastyware`` and ``tastytrade.streamer.PAPER_STREAMER_URL`` at ``ws://<host>/tastyware/notifications``.
Requests authenticate with an ``X-Api-Key`` header (keys come from the scenario or ``/_paper/tastyware/api-keys``);
each key is one paper subscriber with its own ``TW…`` accounts, trading against the broker's one market.

* ``state``: API keys, the paper API's settings (rate limit, restrictions, default fill delay), the key's user.
* ``limits``: the optional 5 requests/second limit and instrument restrictions of the real service.
* ``gateway``: the ASGI app mounted at ``/tastyware`` (authentication, limits, routing).
* ``accounts`` / ``orders``: the paper-only account endpoints and the paper semantics of order placement.
* ``notifications``: the orders-only notification websocket.
* ``admin`` / ``admin_client``: ``/_paper/tastyware`` and its client.
"""

from __future__ import annotations

PREFIX = '/tastyware'
NOTIFICATIONS_PATH = f'{PREFIX}/notifications'


def urls(host: str) -> dict[str, str]:
    """The SDK's two paper URLs on a server at ``host`` (``127.0.0.1:8080``), as the ready line names them."""
    return {
        'tastyware_paper_url': f'http://{host}{PREFIX}',
        'tastyware_paper_streamer_url': f'ws://{host}{NOTIFICATIONS_PATH}',
    }
