"""One recorded readiness evaluation of a 500-server plan (5 waves of 100, each wave one
protection group with launch settings, a pre-wave action each), at home: healthy, then with
every server stalled.

Runs against moto DynamoDB, SNS and EC2 (each server's launch template), the DRS fake and
the SSM fake; prints per evaluation the DRS and EC2 calls by operation, the SSM and DynamoDB
calls, wall time and the stored history item's
size (DynamoDB's limit is 400 KB: only the first 100 findings are kept)."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parents[1]), str(Path(__file__).parents[1] / "lambdas")]

import boto3  # noqa: E402
from drs_orchestrator.adapters.dynamodb import ReadinessRecords, VersionedRecords  # noqa: E402
from drs_orchestrator.adapters.ec2 import LaunchTemplates  # noqa: E402
from drs_orchestrator.adapters.notifications import Notifier  # noqa: E402
from drs_orchestrator.adapters.ssm import Automations  # noqa: E402
from drs_orchestrator.services.inventory import Inventory  # noqa: E402
from drs_orchestrator.services.readiness import PlanReadiness  # noqa: E402
from moto import mock_aws  # noqa: E402

from drsctl.sandbox.ec2 import MotoLaunchTemplates  # noqa: E402
from infra.tables import (  # noqa: E402
    PROTECTION_GROUPS,
    READINESS,
    RECOVERY_PLANS,
    create_table_request,
)
from tests.fakes.drs import FakeDrs  # noqa: E402
from tests.fakes.ssm import FakeSsm  # noqa: E402

WAVES, SERVERS_PER_WAVE = 5, 100
SETTINGS = {"launchDisposition": "STARTED", "copyTags": False}  # DRS's defaults: no drift


def main() -> None:
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1"
    )
    logging.disable(logging.WARNING)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        for layout in (PROTECTION_GROUPS, RECOVERY_PLANS, READINESS):
            dynamodb.create_table(**create_table_request(layout, f"bench-{layout.short_name}"))
        calls: Counter[str] = Counter()
        dynamodb.meta.events.register(
            "before-call.dynamodb.*", lambda model, **_: calls.update([model.name])
        )
        drs, ssm = FakeDrs(), FakeSsm()
        drs.templates = MotoLaunchTemplates(drs.account, "us-east-1")
        ec2_calls: Counter[str] = Counter()
        ec2 = boto3.client("ec2", region_name="us-east-1")
        ec2.meta.events.register(
            "before-call.ec2.*", lambda model, **_: ec2_calls.update([model.name])
        )
        groups = VersionedRecords("bench-protection-groups", "groupId", client=dynamodb)
        plans = VersionedRecords("bench-recovery-plans", "planId", client=dynamodb)
        servers = []
        for wave in range(WAVES):
            ids = [f"s-{wave:02d}{n:015d}" for n in range(SERVERS_PER_WAVE)]
            for server in ids:
                drs.add_source_server(server, {})
            servers += ids
            groups.create(
                {
                    "groupId": f"pg-{wave}",
                    "name": f"group-{wave}",
                    "region": "us-east-1",
                    "sourceServerIds": ids,
                    "launchSettings": SETTINGS,
                }
            )
        plans.create(
            {
                "planId": "rp-bench",
                "name": "bench",
                "waves": [
                    {
                        "name": f"wave-{w}",
                        "protectionGroups": [f"group-{w}"],
                        "dependsOn": [f"wave-{w - 1}"] if w else [],
                        "preActions": [{"document": "DR-Prepare"}],
                    }
                    for w in range(WAVES)
                ],
            }
        )
        from drs_orchestrator.adapters.drs import DrsGateway
        from drs_orchestrator.adapters.targets import DrsGateways

        gateways = DrsGateways.home_only(
            DrsGateway(client=drs.client()), "us-east-1", LaunchTemplates(ec2)
        )
        topic = boto3.client("sns", region_name="us-east-1").create_topic(Name="bench")
        readiness = PlanReadiness(
            Inventory(
                groups,
                plans,
                gateways,
                lambda: "2026-11-30T12:00:00.000000Z",
                Automations(client=ssm.client()),
            ),
            ReadinessRecords("bench-readiness", client=dynamodb),
            Notifier(topic["TopicArn"]),
        )
        print(f"a plan of {len(servers)} servers in {WAVES} waves, one group each, at home")
        for label in ("healthy", "every server stalled"):
            if label != "healthy":
                for server in servers:
                    drs.stall(server)
            drs.calls.clear()
            ssm.calls.clear()
            calls.clear()
            ec2_calls.clear()
            started = time.perf_counter()
            entry = readiness.evaluate_and_record("rp-bench", "schedule")
            seconds = time.perf_counter() - started
            drs_calls = Counter(name for name, _ in drs.calls)
            stored = dynamodb.query(
                TableName="bench-readiness",
                KeyConditionExpression="planId = :p",
                ExpressionAttributeValues={":p": {"S": "rp-bench"}},
                ScanIndexForward=False,
                Limit=1,
                ReturnConsumedCapacity="TOTAL",
            )["Items"][0]
            size = len(str(stored).encode())
            print(f"\n{label}: {entry['state']}, {entry['findingCount']} findings")
            print(f"  {seconds:.2f} s wall (moto in-process, 8 readers)")
            print(f"  DRS calls: {sum(drs_calls.values())} {dict(drs_calls)}")
            print(f"  EC2 calls: {sum(ec2_calls.values())} {dict(ec2_calls)}")
            print(f"  SSM calls: {len(ssm.calls)}; DynamoDB calls: {dict(calls)}")
            print(f"  stored item: about {size / 1024:.0f} KB of DynamoDB's 400 KB")


if __name__ == "__main__":
    main()
