"""The CDK stacks (one: tastyguard)."""
