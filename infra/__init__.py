"""The tastyguard CDK app: ``cdk synth`` / ``cdk deploy`` (see docs/infrastructure.md)."""
