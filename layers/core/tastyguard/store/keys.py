"""Key layout of the state table (see ``docs/storage.md``).

Everything about one account lives under ``pk = ACCOUNT#<number>`` so a run reads and writes a single
partition; process-wide items (token lock and breaker) live under ``pk = GLOBAL``.
"""

from __future__ import annotations

from datetime import datetime

GLOBAL_PK = 'GLOBAL'


def account_pk(account: str) -> str:
    """Partition of one broker account."""
    return f'ACCOUNT#{account}'


LEASE_SK = 'LEASE'
SNAPSHOT_SK = 'SNAPSHOT#LATEST'
CIRCUIT_SK = 'CIRCUIT'


def snapshot_history_pk(account: str) -> str:
    """The dated snapshot copies of one account: a partition of their own, since nothing reads them in a run
    (the account's partition stays small, and so does what each of its queries has to pass over)."""
    return f'SNAPSHOTS#{account}'


def snapshot_history_sk(taken_at: datetime) -> str:
    """A dated copy of a position snapshot (kept for a while, then expired by TTL)."""
    return f'SNAPSHOT#{taken_at.isoformat()}'


def order_sk(order_id: int) -> str:
    """One order in the ledger; zero-padded so the sort key orders like the id."""
    return f'ORDER#{order_id:015d}'


def intent_sk(external_identifier: str) -> str:
    """The intent recorded before an order write, keyed by the order's external identifier."""
    return f'INTENT#{external_identifier}'


def run_sk(started_at: datetime, job: str, run_id: str) -> str:
    """A job run; sorts by start time."""
    return f'RUN#{started_at.isoformat()}#{job}#{run_id}'


def alert_sk(dedupe_key: str) -> str:
    """Notification state of one problem (for de-duplication)."""
    return f'ALERT#{dedupe_key}'


def writes_sk(window_start: int) -> str:
    """Order-write counter of one circuit-breaker window (epoch seconds of the window start)."""
    return f'WRITES#{window_start}'


def high_water_sk(symbol: str) -> str:
    """The trailing-stop high-water mark of one position."""
    return f'HWM#{symbol}'


DEFAULT_GRANT = 'default'


def _token_prefix(environment: str, grant: str) -> str:
    # The default grant keeps the keys it had before grants existed (a deployed breaker stays tripped).
    return f'TOKEN#{environment}' if grant == DEFAULT_GRANT else f'TOKEN#{environment}#{grant}'


def token_lock_sk(environment: str, grant: str = DEFAULT_GRANT) -> str:
    """The single-flight lock for refreshing the shared access token of one grant in one environment."""
    return f'{_token_prefix(environment, grant)}#LOCK'


def token_breaker_sk(environment: str, grant: str = DEFAULT_GRANT) -> str:
    """The re-authorization breaker of one grant in one broker environment."""
    return f'{_token_prefix(environment, grant)}#BREAKER'


INSTRUMENTS_PK = 'INSTRUMENTS'


def instrument_sk(instrument_type: str, symbol: str) -> str:
    """A cached tick schedule (instrument data changes rarely; it is re-read weekly)."""
    return f'{instrument_type}#{symbol}'


QUOTE_SK = 'LATEST'


def quote_pk(symbol: str) -> str:
    """The streamer's latest quote of one symbol (one partition per symbol: writes spread out)."""
    return f'QUOTE#{symbol}'


RATE_SCHEDULE_SK = 'SCHEDULE'


def rate_schedule_pk(grant: str, family: str) -> str:
    """The shared rate-budget schedule of one grant and endpoint family (a partition each: no hot key)."""
    return f'RATE#{grant}#{family}'
