"""One account-streamer websocket connection, from ``connect`` to its end.

Tasks on one socket, the first to end decides why the session ended (a :class:`SessionEnd`):

* the **reader** feeds the silence watchdog with every frame, answers acknowledgements (by ``request-id``),
  unwraps batched ``{"results": [...]}`` frames and hands every notification to the stream;
* the **driver** sends ``connect`` with the accounts and waits for its ``status: ok`` (``action_timeout``),
  then sends ``heartbeat`` every ``heartbeat_interval`` **on a timer, whether or not the previous one was
  acknowledged** (the JS SDK chains heartbeats on acks, so one lost ack silently ends them), each with the
  current token from the shared cache; a refused token is replaced through the cache;
* the **watchdog** ends the session when nothing at all has arrived for ``silence_timeout`` (a lost ack, a
  half-open socket): heartbeat acks are inbound frames, so a healthy idle socket is never "silent".

Nothing here retries: the stream decides what happens next.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from tastyguard.broker.errors import BrokerError, ReauthorizationRequired
from tastyguard.broker.tokens import AccessToken
from tastyguard.streaming.account.config import AccountStreamConfig
from tastyguard.streaming.account.tokens import AccessTokens, bearer
from tastyguard.streaming.clock import Clock
from tastyguard.streaming.dxlink.session import SessionEnd
from tastyguard.streaming.state import DisconnectReason
from tastyguard.streaming.watchdog import SilenceWatchdog

logger = logging.getLogger('tastyguard.streaming.account')

NotificationSink = Callable[[Sequence[dict[str, Any]]], Awaitable[None]]
SOURCE = 'tastyguard'
_PRIORITY = [
    DisconnectReason.STOPPED,
    DisconnectReason.REAUTHORIZATION_REQUIRED,
    DisconnectReason.AUTH_REJECTED,
    DisconnectReason.PROTOCOL_ERROR,
    DisconnectReason.HANDSHAKE_TIMEOUT,
    DisconnectReason.TOKEN_UNAVAILABLE,
    DisconnectReason.SILENCE,
    DisconnectReason.CLOSED,
    DisconnectReason.CONNECTION_LOST,
]
MAX_UNANSWERED = 20
UNREADABLE: dict[str, Any] = {'type': 'Unreadable', 'data': None}
"""Passed on for a frame or item that cannot be read: it names no account, so every account counts as changed."""
_AUTH_ERRORS = frozenset({'invalid-auth-token', 'unauthorized', 'token-expired'})


@dataclass
class SessionCounters:
    """What one session saw (the stream adds them up)."""

    frames: int = 0
    notifications: int = 0
    malformed: int = 0
    heartbeats: int = 0
    heartbeat_acks: int = 0
    rejected_tokens: int = 0


class AccountSession:
    """One connection's tasks; :meth:`run` returns how it ended."""

    def __init__(
        self,
        ws: ClientConnection,
        *,
        accounts: Sequence[str],
        tokens: AccessTokens,
        config: AccountStreamConfig,
        clock: Clock,
        stop: asyncio.Event,
        sink: NotificationSink,
        on_connected: Callable[[], Awaitable[None]],
    ) -> None:
        self.ws = ws
        self.accounts = list(accounts)
        self.tokens = tokens
        self.config = config
        self.clock = clock
        self.stop = stop
        self.sink = sink
        self.on_connected = on_connected
        self.watchdog = SilenceWatchdog(config.silence_timeout, clock)
        self.counters = SessionCounters()
        self.connected_at: float | None = None
        self.session_id: str | None = None
        self.acknowledged: list[str] = []  # the accounts the server's connect reply names (all asked, if none)
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._token: AccessToken | None = None
        self._refused_in_a_row = 0

    async def run(self) -> SessionEnd:
        """Run until the socket, the watchdog, a refused connect or ``stop`` ends the session."""
        tasks = [
            asyncio.create_task(self._read(), name='account-reader'),
            asyncio.create_task(self._drive(), name='account-driver'),
            asyncio.create_task(self._watch(), name='account-watchdog'),
            asyncio.create_task(self._stopped(), name='account-stop'),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
        ends = [r for r in results if isinstance(r, SessionEnd)]
        for task, result in zip(tasks, results, strict=True):
            if task in done and isinstance(result, ReauthorizationRequired):
                end = SessionEnd(DisconnectReason.REAUTHORIZATION_REQUIRED, result.message)
                end.__cause__ = result
                ends.append(end)
            elif isinstance(result, ConnectionClosed):
                ends.append(_closed(result))  # a send on a socket that just closed: the close is the reason
            elif task in done and isinstance(result, BrokerError):
                ends.append(SessionEnd(DisconnectReason.TOKEN_UNAVAILABLE, f'{type(result).__name__}: {result}'[:300]))
            elif task in done and isinstance(result, Exception) and not isinstance(result, SessionEnd):
                logger.error('account session task %s failed', task.get_name(), exc_info=result)
                ends.append(SessionEnd(DisconnectReason.PROTOCOL_ERROR, f'internal error: {type(result).__name__}'))
        end = min(ends, key=lambda e: _PRIORITY.index(e.reason)) if ends else SessionEnd(DisconnectReason.CLOSED)
        if self.connected_at is not None:
            end.connected_for = self.clock.monotonic() - self.connected_at
        return end

    async def _stopped(self) -> None:
        await self.stop.wait()
        raise SessionEnd(DisconnectReason.STOPPED)

    async def _watch(self) -> None:
        quiet = await self.watchdog.expired()
        raise SessionEnd(DisconnectReason.SILENCE, f'no message for {quiet:.0f} s')

    # --- the driver ----------------------------------------------------------------------------------------
    async def _drive(self) -> None:
        self._token = await self.tokens.current()
        value: str | list[str] = self.accounts
        reply = await self._request('connect', value)
        if reply.get('status') != 'ok':
            message = str(reply.get('message') or 'refused')
            reason = DisconnectReason.AUTH_REJECTED if message in _AUTH_ERRORS else DisconnectReason.PROTOCOL_ERROR
            raise SessionEnd(reason, f'connect refused: {message}')
        self.session_id = str(reply.get('web-socket-session-id') or '') or None
        self.acknowledged = _acknowledged(reply.get('value'), self.accounts)
        self.connected_at = self.clock.monotonic()
        await self.on_connected()
        while True:
            await self.clock.sleep(self.config.heartbeat_interval)
            await self._heartbeat()

    async def _heartbeat(self) -> None:
        self._token = await self.tokens.current()  # the shared cache refreshes it a minute before expiry
        request_id = next(self._ids)
        self.counters.heartbeats += 1
        future = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        for stale in [key for key in self._pending if key < request_id - MAX_UNANSWERED]:
            self._pending.pop(stale).cancel()  # an ack that never came: the watchdog judges the socket
        await self._send({'action': 'heartbeat', 'request-id': request_id})
        future.add_done_callback(lambda done: self._acknowledged(request_id, done))

    def _acknowledged(self, request_id: int, done: asyncio.Future[dict[str, Any]]) -> None:
        self._pending.pop(request_id, None)
        if done.cancelled():
            return
        reply = done.result()
        if reply.get('status') == 'ok':
            self.counters.heartbeat_acks += 1
            self._refused_in_a_row = 0
        elif str(reply.get('message')) in _AUTH_ERRORS:
            self.counters.rejected_tokens += 1
            self._refused_in_a_row += 1
            asyncio.get_running_loop().create_task(self._replace_token())

    async def _replace_token(self) -> None:
        if self._token is not None:
            self._token = await self.tokens.replace(self._token)
        if self._refused_in_a_row >= self.config.rejected_heartbeats:
            await self.ws.close(4001, 'token refused')

    async def _request(self, action: str, value: Any) -> dict[str, Any]:
        request_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        await self._send({'action': action, 'value': value, 'request-id': request_id})
        try:
            return await asyncio.wait_for(future, self.config.action_timeout)
        except TimeoutError:
            raise SessionEnd(
                DisconnectReason.HANDSHAKE_TIMEOUT, f'no answer to {action} within {self.config.action_timeout:g} s'
            ) from None
        finally:
            self._pending.pop(request_id, None)

    async def _send(self, message: dict[str, Any]) -> None:
        assert self._token is not None
        body = {**message, 'auth-token': bearer(self._token), 'source': SOURCE}
        await self.ws.send(json.dumps(body, separators=(',', ':')))

    # --- the reader ----------------------------------------------------------------------------------------
    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                self.watchdog.touch()
                self.counters.frames += 1
                await self._frame(frame if isinstance(frame, str) else frame.decode('utf-8', 'replace'))
        except ConnectionClosed as closed:
            raise _closed(closed) from None
        raise SessionEnd(DisconnectReason.CLOSED, 'closed', code=self.ws.close_code)

    async def _frame(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            self.counters.malformed += 1
            logger.warning(
                'account streamer sent a frame that is not JSON; its accounts count as changed',
                extra={'socket': 'account'},
            )
            await self.sink([UNREADABLE])
            return
        items = message.get('results') if isinstance(message, dict) and 'results' in message else [message]
        if not isinstance(items, list):
            items = [items]
        notifications: list[dict[str, Any]] = []
        for item in items:
            if isinstance(item, dict) and 'type' in item:
                notifications.append(item)
            elif isinstance(item, dict) and 'status' in item:
                self._reply(item)
            else:  # it could have been any notification: the accounts count as changed (decision 60)
                self.counters.malformed += 1
                notifications.append(UNREADABLE)
        if notifications:
            self.counters.notifications += len(notifications)
            await self.sink(notifications)

    def _reply(self, item: dict[str, Any]) -> None:
        request_id = item.get('request-id')
        future = self._pending.get(request_id) if isinstance(request_id, int) else None
        if future is not None and not future.done():
            future.set_result(item)
        elif item.get('status') != 'ok':
            logger.warning(
                'account streamer error: %s %s',
                item.get('action'),
                item.get('message'),
                extra={'socket': 'account'},
            )


def _closed(closed: ConnectionClosed) -> SessionEnd:
    """A websocket close as a reason (1000 "Bye" included: the stream reconnects on every close)."""
    received = closed.rcvd
    if received is None:
        return SessionEnd(DisconnectReason.CONNECTION_LOST, 'the connection dropped without a close frame')
    detail = f'{received.code} {received.reason}'.strip()
    return SessionEnd(DisconnectReason.CLOSED, detail, code=received.code)


def _acknowledged(value: Any, asked: Sequence[str]) -> list[str]:
    """The accounts a ``connect`` reply confirms: its ``value`` (a list, or one account as a string), restricted to
    the ones asked for; a reply without a value confirms all of them (the documented reply echoes the list)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return list(asked)
    named = {str(number) for number in value}
    return [number for number in asked if number in named]
