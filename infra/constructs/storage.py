"""DynamoDB: the state table and the Powertools idempotency table, built from ``tastyguard.store.schema``."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from tastyguard.store.schema import IDEMPOTENCY_TABLE, STATE_TABLE, TableSpec


class Storage(Construct):
    """On-demand tables with point-in-time recovery, TTL and the stack's KMS key.

    The table names are the specs' defaults, so the CLI (``tastyguard status``) finds the deployed tables
    without extra settings; the Lambdas get them through the specs' environment variables.
    """

    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        # The state table holds the order ledger and intent log: keep it if the stack is deleted.
        self.state_table = self._table(STATE_TABLE, key, removal_policy=RemovalPolicy.RETAIN, protect=True)
        # Idempotency records live minutes to hours; nothing is lost with the stack.
        self.idempotency_table = self._table(IDEMPOTENCY_TABLE, key, removal_policy=RemovalPolicy.DESTROY)

    def _table(
        self, spec: TableSpec, key: kms.IKey, *, removal_policy: RemovalPolicy, protect: bool = False
    ) -> dynamodb.Table:
        sort_key = dynamodb.Attribute(name=spec.sort_key, type=dynamodb.AttributeType.STRING) if spec.sort_key else None
        # Table, not TableV2: TableV2 (a global table) cannot render a customer-managed key in a region-agnostic
        # stack, and this stack stays region-agnostic so `cdk synth` needs no AWS account.
        return dynamodb.Table(
            self,
            spec.logical_id,
            table_name=spec.default_name,
            partition_key=dynamodb.Attribute(name=spec.partition_key, type=dynamodb.AttributeType.STRING),
            sort_key=sort_key,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=spec.ttl_attribute,
            deletion_protection=protect,
            removal_policy=removal_policy,
        )
