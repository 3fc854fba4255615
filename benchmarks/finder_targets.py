"""One execution-finder poll across DRS targets: home and two targets (each another account
and region with its own DRS fake), 20 active jobs in each, over executions of 5 jobs.

Runs against moto DynamoDB and STS and the DRS fakes; prints per poll the DRS calls in each
target by operation, the AssumeRole calls and wall time: the first poll (roles assumed,
every job log item new) and a second (credentials cached)."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parents[1]), str(Path(__file__).parents[1] / "lambdas")]

import boto3  # noqa: E402
from drs_orchestrator.adapters import targets as target_adapters  # noqa: E402
from drs_orchestrator.adapters.drs import DrsGateway  # noqa: E402
from drs_orchestrator.adapters.dynamodb import ExecutionsStore, JobEventsStore  # noqa: E402
from drs_orchestrator.domain.targets import Targets  # noqa: E402
from drs_orchestrator.services.execution_finder import ExecutionFinder  # noqa: E402
from moto import mock_aws  # noqa: E402

from infra.tables import EXECUTIONS, JOB_EVENTS, create_table_request  # noqa: E402
from tests.fakes.drs import FakeDrs, random_id  # noqa: E402
from tests.lambdas.conftest import EXECUTIONS_TABLE, JOB_EVENTS_TABLE, put_execution  # noqa: E402

TARGETS = {"111122223333/us-west-2": "111122223333", "444455556666/eu-west-1": "444455556666"}
ACTIVE_JOBS_PER_TARGET, JOBS_PER_EXECUTION, SERVERS_PER_JOB = 20, 5, 10


def main() -> None:
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1"
    )
    logging.disable(logging.WARNING)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(**create_table_request(EXECUTIONS, EXECUTIONS_TABLE))
        dynamodb.create_table(**create_table_request(JOB_EVENTS, JOB_EVENTS_TABLE))
        worlds = {"home": FakeDrs()} | {
            key: FakeDrs(region=key.split("/")[1], account=account)
            for key, account in TARGETS.items()
        }
        jobs: list[tuple[str, str | None]] = []
        for key, drs in worlds.items():
            for _ in range(ACTIVE_JOBS_PER_TARGET):
                job_id = drs.add_job([random_id("s-") for _ in range(SERVERS_PER_JOB)])
                drs.start(job_id)
                jobs.append((job_id, None if key == "home" else key))
        for start in range(0, len(jobs), JOBS_PER_EXECUTION):
            chunk = jobs[start : start + JOBS_PER_EXECUTION]
            execution_id = f"exec-{start // JOBS_PER_EXECUTION:03d}"
            put_execution(dynamodb, execution_id, {j: "w" for j, _ in chunk})
            for job_id, key in chunk:
                if key:
                    dynamodb.update_item(
                        TableName=EXECUTIONS_TABLE,
                        Key={"executionId": {"S": execution_id}},
                        UpdateExpression="SET jobs.#j.#t = :t",
                        ExpressionAttributeNames={"#j": job_id, "#t": "target"},
                        ExpressionAttributeValues={":t": {"S": key}},
                    )
        target_adapters.assumed_client = lambda _s, target, _c: worlds[target.key].client()
        sts = boto3.client("sts", region_name="us-east-1")
        assumed: Counter[str] = Counter()
        sts.meta.events.register(
            "provide-client-params.sts.AssumeRole",
            lambda params, **_: assumed.update([params["RoleArn"]]),
        )
        entries = [
            {
                "account": account,
                "region": key.split("/")[1],
                "roleArn": f"arn:aws:iam::{account}:role/bench-drs-target",
                "externalId": "bench-external-id",
            }
            for key, account in TARGETS.items()
        ]
        finder = ExecutionFinder(
            ExecutionsStore(EXECUTIONS_TABLE, "status-index", client=dynamodb),
            JobEventsStore(JOB_EVENTS_TABLE, 90, client=dynamodb),
            target_adapters.DrsGateways(
                Targets.from_json("us-east-1", json.dumps(entries)),
                DrsGateway(client=worlds["home"].client()),
                target_adapters.TargetSessions(sts),
            ),
            logging.getLogger("bench"),
        )
        print(
            f"{len(worlds)} DRS targets (home + {len(TARGETS)}) x {ACTIVE_JOBS_PER_TARGET} "
            f"active jobs, {len(jobs) // JOBS_PER_EXECUTION} executions of {JOBS_PER_EXECUTION}"
        )
        for label in ("first poll", "second poll"):
            for drs in worlds.values():
                drs.calls.clear()
            assumed.clear()
            started = time.perf_counter()
            report = finder.poll()
            seconds = time.perf_counter() - started
            print(f"\n{label}: {seconds:.2f} s wall (moto in-process)")
            total = 0
            for key, drs in worlds.items():
                calls = Counter(name for name, _ in drs.calls)
                total += sum(calls.values())
                print(f"  {key}: {sum(calls.values())} DRS calls {dict(calls)}")
            print(f"  DRS calls in all: {total}; AssumeRole: {sum(assumed.values())}")
            print(
                f"  jobs polled {report.jobs_polled}, executions updated "
                f"{report.executions_updated}, failures {len(report.failures)}"
            )


if __name__ == "__main__":
    main()
