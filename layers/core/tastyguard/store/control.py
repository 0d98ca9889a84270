"""Safety controls: the kill switch and the per-account order-write circuit breaker.

Both block order *writes* only. Neither cancels a protective stop: a protective tool that removes
protection when it is told to stop would change the trader's risk at the worst moment.

* The kill switch is an SSM parameter (flip it with ``tastyguard kill-switch on`` or in the console). If it
  cannot be read, writes are blocked (fail closed).
* The circuit breaker counts order writes per account per window; past the limit it trips, and stays
  tripped until a person resets it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from tastyguard.store.keys import CIRCUIT_SK, account_pk, writes_sk
from tastyguard.store.table import StateTable

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

DEFAULT_KILL_SWITCH_PARAMETER = '/tastyguard/kill-switch'


class WritesBlockedError(RuntimeError):
    """Order writes are blocked (kill switch, tripped breaker); reads and alerts continue."""


class KillSwitchState(BaseModel):
    """The kill switch's value (stored as JSON in the parameter)."""

    model_config = ConfigDict(frozen=True)

    engaged: bool
    reason: str = ''
    changed_by: str = ''
    changed_at: datetime | None = None


class KillSwitch:
    """The kill switch in SSM Parameter Store."""

    def __init__(self, ssm: SSMClient, parameter_name: str = DEFAULT_KILL_SWITCH_PARAMETER) -> None:
        self._ssm = ssm
        self.parameter_name = parameter_name

    def read(self) -> KillSwitchState:
        """The current state. A missing parameter means "not engaged"; an unreadable one means engaged."""
        try:
            value = self._ssm.get_parameter(Name=self.parameter_name)['Parameter']['Value']
        except self._ssm.exceptions.ParameterNotFound:
            return KillSwitchState(engaged=False)
        except Exception as error:  # any failure to read must block writes
            return KillSwitchState(
                engaged=True, reason=f'kill switch unreadable ({type(error).__name__}): failing closed'
            )
        try:
            return KillSwitchState.model_validate(json.loads(value))
        except ValueError:
            engaged = value.strip().lower() not in ('off', 'false', '0', '')
            return KillSwitchState(engaged=engaged, reason=f'parameter value {value!r}')

    def set(self, *, engaged: bool, reason: str, changed_by: str, now: datetime) -> KillSwitchState:
        """Engage or release the switch."""
        state = KillSwitchState(engaged=engaged, reason=reason, changed_by=changed_by, changed_at=now)
        self._ssm.put_parameter(Name=self.parameter_name, Value=state.model_dump_json(), Type='String', Overwrite=True)
        return state


class CircuitState(BaseModel):
    """A tripped breaker (absent item = closed)."""

    model_config = ConfigDict(frozen=True)

    account: str
    tripped_at: datetime
    reason: str


class CircuitBreaker:
    """At most ``max_writes`` order writes per ``window_seconds`` per account, and at most ``max_per_symbol``
    for one position (a runaway loop re-placing the same stop trips it long before the account limit, while a
    first run that protects hundreds of positions does not); then trip until a person resets it."""

    def __init__(
        self, state: StateTable, *, max_writes: int, window_seconds: int, max_per_symbol: int | None = None
    ) -> None:
        self._state = state
        self.max_writes = max_writes
        self.max_per_symbol = max_per_symbol
        self.window_seconds = window_seconds

    def tripped(self, account: str) -> CircuitState | None:
        """The trip record, or None when the breaker is closed."""
        return self._state.get_record(account_pk(account), CIRCUIT_SK, CircuitState)

    def _count(self, account: str, window: int, suffix: str = '', writes: int = 1) -> int:
        response: Any = self._state.table.update_item(
            Key={'pk': account_pk(account), 'sk': writes_sk(window) + suffix},
            UpdateExpression='ADD writes :n SET expires_at = :exp',
            ExpressionAttributeValues={':n': writes, ':exp': window + 2 * self.window_seconds + 86400},
            ReturnValues='UPDATED_NEW',
        )
        return int(response['Attributes']['writes'])

    def writes_on(self, account: str, symbol: str | None = None) -> int:
        """Order writes counted for ``symbol`` (the whole account when None) in the current window (nothing is
        counted by asking)."""
        window = int(self._state.clock().timestamp()) // self.window_seconds * self.window_seconds
        suffix = f'#{symbol}' if symbol is not None else ''
        item = self._state.table.get_item(
            Key={'pk': account_pk(account), 'sk': writes_sk(window) + suffix}, ConsistentRead=True
        ).get('Item')
        return int(str(item['writes'])) if item else 0

    def record_write(self, account: str, symbol: str | None = None, writes: int = 1) -> int:
        """Count ``writes`` order writes (on ``symbol``); trips the breaker (and raises) when a window's limit is
        exceeded."""
        return self.record_writes(account, {symbol: writes} if symbol else {}, total=writes)

    def current_window(self) -> int:
        """The start (epoch seconds) of the window writes are counted in now."""
        return int(self._state.clock().timestamp()) // self.window_seconds * self.window_seconds

    def release_writes(self, account: str, on_symbols: Mapping[str, int], *, window: int) -> None:
        """Take back writes counted in ``window`` that were never sent (a change held back after its first write)."""
        total = sum(on_symbols.values())
        if total <= 0:
            return
        self._count(account, window, writes=-total)
        if self.max_per_symbol is not None:
            for symbol, writes in on_symbols.items():
                if writes > 0:
                    self._count(account, window, f'#{symbol}', -writes)

    def record_writes(
        self, account: str, on_symbols: Mapping[str, int], *, total: int | None = None, window: int | None = None
    ) -> int:
        """Count the writes of one change at once, each on its position's symbol (a cancel on an option leg and the
        place of the structure stop that takes over its quantity), so the breaker can never trip between them and
        leave the position naked; the account counts ``total`` (default: their sum). Trips the breaker (and
        raises) when a window's limit is exceeded. ``window``: count in that window (default: the current one)."""
        window = self.current_window() if window is None else window
        count = self._count(account, window, writes=sum(on_symbols.values()) if total is None else total)
        minutes = self.window_seconds // 60
        reason = None
        if count > self.max_writes:
            reason = f'{count} order writes within {minutes} minutes (limit {self.max_writes})'
        elif self.max_per_symbol is not None:
            for symbol, writes in on_symbols.items():
                on_symbol = self._count(account, window, f'#{symbol}', writes)
                if on_symbol > self.max_per_symbol:
                    reason = (
                        f'{on_symbol} order writes for {symbol} within {minutes} minutes (limit {self.max_per_symbol})'
                    )
                    break
        if reason is not None:
            reason += (
                '; writes stay blocked until someone resets the breaker '
                f'(./tastyguard breaker reset --account {account} --store tastyguard)'
            )
            self.trip(account, reason)
            raise WritesBlockedError(f'circuit breaker tripped for account {account}: {reason}')
        return count

    def trip(self, account: str, reason: str) -> None:
        """Open the breaker."""
        record = CircuitState(account=account, tripped_at=self._state.clock(), reason=reason)
        self._state.put_record(account_pk(account), CIRCUIT_SK, record)

    def reset(self, account: str) -> None:
        """Close the breaker (a person decided writes may resume)."""
        self._state.table.delete_item(Key={'pk': account_pk(account), 'sk': CIRCUIT_SK})
