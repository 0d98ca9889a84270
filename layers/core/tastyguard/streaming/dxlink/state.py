"""The connection states DXLink shares with the account stream (:mod:`tastyguard.streaming.state`)."""

from tastyguard.streaming.state import DisconnectReason, FeedState, FeedStatus

__all__ = ['DisconnectReason', 'FeedState', 'FeedStatus']
