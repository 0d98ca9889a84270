"""Run the paper broker in a background thread: ``PaperBroker(...).start()`` or ``with PaperBroker() as broker:``.

The listening socket is bound before the thread starts (so ``port=0`` picks a free port and the URLs are known
at once), uvicorn serves it from its own event loop, and ``start()`` returns when the server accepts requests.
"""

from __future__ import annotations

import logging
import socket
import threading
from types import TracebackType
from typing import Any

import uvicorn

from paperbroker.admin_client import AdminClient
from paperbroker.app import create_app
from paperbroker.broker import Broker
from paperbroker.middleware import QuietDrops
from paperbroker.tastyware import NOTIFICATIONS_PATH, PREFIX
from paperbroker.tastyware.state import TastywareSettings
from paperbroker.ws_protocol import SilenceableWebSocketProtocol

START_TIMEOUT_SECONDS = 10.0


class _Server(uvicorn.Server):
    """uvicorn's server, telling us when it is ready."""

    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start serving, then signal readiness."""
        await super().startup(sockets)
        self._ready.set()


class PaperBroker:
    """A running paper broker and everything a client needs to talk to it.

    Parameters
    ----------
    scenario:
        ``demo`` (default), ``empty`` or ``large``.
    host, port:
        Where to listen; ``port=0`` picks a free port.
    client_secret, refresh_token:
        The seeded user's OAuth credentials (random when not given).
    tastyware_api_key, tastyware:
        The tastyware paper API's key (random when not given) and its limits (``TastywareSettings``: all off).
    scenario_options:
        Passed to the scenario (``large``: ``positions``, ``orders``, ``accounts``, ``seed``; ``empty``: ``cash``).
    """

    def __init__(
        self,
        scenario: str = 'demo',
        *,
        host: str = '127.0.0.1',
        port: int = 0,
        client_secret: str | None = None,
        refresh_token: str | None = None,
        tastyware_api_key: str | None = None,
        tastyware: TastywareSettings | None = None,
        **scenario_options: Any,
    ) -> None:
        self.broker = Broker(
            scenario,
            client_secret=client_secret,
            refresh_token=refresh_token,
            tastyware_api_key=tastyware_api_key,
            tastyware=tastyware,
            **scenario_options,
        )
        self.host = host
        self._requested_port = port
        self.port = 0
        self._thread: threading.Thread | None = None
        self._server: _Server | None = None
        self._admin: AdminClient | None = None

    # --- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> PaperBroker:
        """Bind, serve in a background thread, and return once requests are accepted."""
        if self._thread is not None:
            return self
        family = socket.AF_INET6 if ':' in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # asyncio sets TCP_NODELAY then
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port))
        sock.listen(128)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        logging.getLogger('uvicorn.error').addFilter(QuietDrops())
        config = uvicorn.Config(
            create_app(self.broker),
            http='h11',
            ws=SilenceableWebSocketProtocol,  # websockets-sansio, plus a real "silent socket" fault
            lifespan='on',
            log_config=None,
            log_level='warning',
            access_log=False,
            ws_ping_interval=None,
            timeout_graceful_shutdown=2,
        )
        ready = threading.Event()
        self._server = _Server(config, ready)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={'sockets': [sock]}, name=f'paperbroker:{self.port}', daemon=True
        )
        self._thread.start()
        if not ready.wait(START_TIMEOUT_SECONDS):
            self.stop()
            raise RuntimeError('the paper broker did not start in time')
        return self

    def stop(self) -> None:
        """Shut the server down (closing websockets) and wait for its thread."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._thread = None
        self._server = None

    def __enter__(self) -> PaperBroker:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- what clients need ---------------------------------------------------------------------------------
    @property
    def _authority(self) -> str:
        host = f'[{self.host}]' if ':' in self.host else self.host
        return f'{host}:{self.port}'

    @property
    def api_url(self) -> str:
        return f'http://{self._authority}'

    @property
    def account_streamer_url(self) -> str:
        return f'ws://{self._authority}/account-streamer'

    @property
    def dxlink_url(self) -> str:
        return f'ws://{self._authority}/dxlink'

    @property
    def client_secret(self) -> str:
        return self.broker.auth.client_secret

    @property
    def refresh_token(self) -> str:
        return self.broker.auth.refresh_token

    @property
    def tastyware_paper_url(self) -> str:
        """The tastyware paper API: the value for the SDK's ``tastytrade.paper.PAPER_URL``."""
        return f'{self.api_url}{PREFIX}'

    @property
    def tastyware_paper_streamer_url(self) -> str:
        """Its notification websocket: the value for ``tastytrade.streamer.PAPER_STREAMER_URL``."""
        return f'ws://{self._authority}{NOTIFICATIONS_PATH}'

    @property
    def tastyware_api_key(self) -> str:
        """A paper API key that works (the broker's own; it survives resets)."""
        return self.broker.tastyware.api_key

    @property
    def accounts(self) -> list[str]:
        """The seeded user's account numbers (as of the last reset, plus accounts added since)."""
        return list(self.broker.accounts)

    @property
    def admin(self) -> AdminClient:
        """A synchronous client of the ``/_paper/*`` admin API."""
        if self._admin is None:
            self._admin = AdminClient(self.api_url)
        return self._admin

    def ready_line(self) -> dict[str, Any]:
        """What ``tastyguard paper serve`` prints when it is ready."""
        return {
            'api_url': self.api_url,
            'account_streamer_url': self.account_streamer_url,
            'dxlink_url': self.dxlink_url,
            'client_secret': self.client_secret,
            'refresh_token': self.refresh_token,
            'accounts': self.accounts,
            'tastyware_paper_url': self.tastyware_paper_url,
            'tastyware_paper_streamer_url': self.tastyware_paper_streamer_url,
            'tastyware_api_key': self.tastyware_api_key,
        }

    def reset(self, scenario: str = 'demo', **options: Any) -> list[str]:
        """Restore a scenario through the admin API; returns the account numbers."""
        return list(self.admin.reset(scenario, **options)['accounts'])

    def __repr__(self) -> str:
        return f'PaperBroker({self.api_url}, scenario={self.broker.scenario!r})'
