"""A local, stateful, tastytrade-compatible broker for tests, the demo and curious users."""
