"""tastyguard: keeps every tastytrade position protected by a correct broker-side stop."""

__version__ = '0.1.0'
