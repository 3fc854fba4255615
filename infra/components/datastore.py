"""DynamoDB tables of one deployment: executions (with their indexes), job events, groups,
plans, server holds, the readiness history and the audit trail (append-only: its own
resource policy denies every principal any write but a put)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

from infra.tables import (
    AUDIT,
    EXECUTIONS,
    JOB_EVENTS,
    PROTECTION_GROUPS,
    READINESS,
    RECOVERY_PLANS,
    SERVER_HOLDS,
    TableLayout,
)

if TYPE_CHECKING:
    from infra.naming import Naming


@dataclass
class DatastoreArgs:
    naming: Naming
    """The deployment's names and tags."""
    protect_data: bool
    """Deletion protection on every table, and Pulumi ``protect``."""


class Datastore(pulumi.ComponentResource):
    """On-demand tables with SSE and point-in-time recovery, protected where the stack says."""

    executions: aws.dynamodb.Table
    job_events: aws.dynamodb.Table
    protection_groups: aws.dynamodb.Table
    recovery_plans: aws.dynamodb.Table
    server_holds: aws.dynamodb.Table
    readiness: aws.dynamodb.Table
    audit: aws.dynamodb.Table

    def __init__(self, name: str, args: DatastoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("drs-orchestrator:datastore:Datastore", name, None, opts)
        self._naming, self._protect = args.naming, args.protect_data
        self.executions = self._table(EXECUTIONS)
        self.job_events = self._table(JOB_EVENTS)
        self.protection_groups = self._table(PROTECTION_GROUPS)
        self.recovery_plans = self._table(RECOVERY_PLANS)
        self.server_holds = self._table(SERVER_HOLDS)
        self.readiness = self._table(READINESS)
        self.audit = self._table(AUDIT)
        # Append-only for everyone, administrators included: records are put, never changed
        # or removed (only TTL, which is DynamoDB's own, ends them).
        aws.dynamodb.ResourcePolicy(
            "audit-table-policy",
            resource_arn=self.audit.arn,
            policy=self.audit.arn.apply(audit_table_policy),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs(
            {
                "executionsTableName": self.executions.name,
                "executionsTableArn": self.executions.arn,
                "jobEventsTableName": self.job_events.name,
                "jobEventsTableArn": self.job_events.arn,
                "protectionGroupsTableName": self.protection_groups.name,
                "recoveryPlansTableName": self.recovery_plans.name,
                "serverHoldsTableName": self.server_holds.name,
                "readinessTableName": self.readiness.name,
                "auditTableName": self.audit.name,
            }
        )

    def _table(self, layout: TableLayout) -> aws.dynamodb.Table:
        return aws.dynamodb.Table(
            f"{layout.short_name}-table",
            name=self._naming.table(layout.short_name),
            billing_mode="PAY_PER_REQUEST",
            hash_key=layout.hash_key,
            range_key=layout.range_key,
            attributes=[
                aws.dynamodb.TableAttributeArgs(name=name, type="S")
                for name in layout.key_attributes
            ],
            global_secondary_indexes=[
                aws.dynamodb.TableGlobalSecondaryIndexArgs(
                    name=index.name,
                    key_schemas=[
                        aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                            attribute_name=attribute, key_type=key_type
                        )
                        for attribute, key_type in (
                            (index.hash_key, "HASH"),
                            (index.range_key, "RANGE"),
                        )
                        if attribute
                    ],
                    projection_type=index.projection_type,
                    non_key_attributes=list(index.attributes) or None,
                )
                for index in layout.indexes
            ]
            or None,
            ttl=aws.dynamodb.TableTtlArgs(attribute_name=layout.ttl_attribute, enabled=True)
            if layout.ttl_attribute
            else None,
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
            deletion_protection_enabled=self._protect,
            tags=self._naming.tags(),
            opts=pulumi.ResourceOptions(parent=self, protect=self._protect),
        )


#: Writes no principal may make to the audit table: each would change or remove a record.
AUDIT_DENIED_ACTIONS = (
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PartiQLDelete",
    "dynamodb:PartiQLUpdate",
    "dynamodb:UpdateItem",
)


def audit_table_policy(table_arn: str) -> str:
    """The audit table's resource policy: every change and removal of a record denied."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AppendOnly",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": list(AUDIT_DENIED_ACTIONS),
                    "Resource": table_arn,
                }
            ],
        }
    )
