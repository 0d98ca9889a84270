"""DynamoDB repositories: leases, intents, the order ledger, snapshots, runs, alert state, safety controls.

The table design is in ``docs/storage.md``; ``schema.py`` holds the definitions that both the CDK stack and
``tastyguard store init`` use, so local tables and deployed tables cannot drift apart.
"""
