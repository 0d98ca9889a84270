"""The CLI's exit codes (documented in ``docs/operations.md``, "Exit codes"). Kept import-free: every command
module reads them."""

OK = 0
"""Done; nothing critical."""
ERROR = 1
"""The command could not do its job (configuration, credentials, store or broker unreachable, a run failed)."""
USAGE = 2
"""A wrong option, value or name on the command line (nothing was done)."""
CRITICAL = 3
"""Done, and critical alerts are present: a position unprotected, a stop through the market, writes blocked by
the breaker, ... A person has to act (``plan``, ``run`` and ``status``)."""
