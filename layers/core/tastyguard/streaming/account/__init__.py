"""tastytrade's account streamer: ``connect``, heartbeats with fresh tokens, notifications, reconnects."""

from tastyguard.streaming.account.config import AccountStreamConfig
from tastyguard.streaming.account.stream import AccountStream, AccountStreamStats
from tastyguard.streaming.account.tokens import AccessTokens

__all__ = ['AccessTokens', 'AccountStream', 'AccountStreamConfig', 'AccountStreamStats']
