"""The scheduled jobs: read → plan → apply (per mode) → persist → notify.

``sync_positions``, ``ensure_stops``, ``reconcile_orders`` and ``digest`` are plain Python functions that take
their collaborators (broker, stores, notifier, clock) in a :class:`~tastyguard.jobs.context.JobContext`;
the Lambda handlers and the CLI only build that context.
"""
