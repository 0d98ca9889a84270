"""The long-lived sockets of the streamer: DXLink market data (:mod:`tastyguard.streaming.dxlink`) and what
every socket needs: jittered reconnect backoff (:mod:`~tastyguard.streaming.backoff`), a silence watchdog
(:mod:`~tastyguard.streaming.watchdog`) and an injectable clock (:mod:`~tastyguard.streaming.clock`).

Nothing here is imported by the Lambda functions; the ``websockets`` dependency comes with the ``streamer``
extra (``pip install tastyguard[streamer]``).
"""

from tastyguard.streaming.backoff import Backoff
from tastyguard.streaming.clock import Clock, ManualClock, SystemClock
from tastyguard.streaming.watchdog import SilenceWatchdog

__all__ = ['Backoff', 'Clock', 'ManualClock', 'SilenceWatchdog', 'SystemClock']
