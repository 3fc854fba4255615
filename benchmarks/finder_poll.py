"""One execution-finder poll over 50 running executions x 3 jobs x 20 servers.

Runs against moto DynamoDB and the DRS fake; prints DRS calls, DynamoDB calls by operation
and wall time, for the first poll (every job log item is new) and a second, quiet poll.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parents[1]), str(Path(__file__).parents[1] / "lambdas")]

import boto3  # noqa: E402
from drs_orchestrator.adapters.drs import DrsGateway  # noqa: E402
from drs_orchestrator.adapters.dynamodb import ExecutionsStore, JobEventsStore  # noqa: E402
from drs_orchestrator.services.execution_finder import ExecutionFinder  # noqa: E402
from moto import mock_aws  # noqa: E402

from infra.tables import EXECUTIONS, JOB_EVENTS, create_table_request  # noqa: E402
from tests.fakes.drs import FakeDrs, random_id  # noqa: E402
from tests.lambdas.conftest import EXECUTIONS_TABLE, JOB_EVENTS_TABLE, put_execution  # noqa: E402

EXECUTIONS_COUNT, JOBS_PER_EXECUTION, SERVERS_PER_JOB = 50, 3, 20


def main() -> None:
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1"
    )
    logging.disable(logging.WARNING)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(**create_table_request(EXECUTIONS, EXECUTIONS_TABLE))
        dynamodb.create_table(**create_table_request(JOB_EVENTS, JOB_EVENTS_TABLE))
        drs = FakeDrs()
        for e in range(EXECUTIONS_COUNT):
            jobs = {}
            for w in range(JOBS_PER_EXECUTION):
                job_id = drs.add_job([random_id("s-") for _ in range(SERVERS_PER_JOB)])
                drs.start(job_id)
                if w == 0:
                    drs.finish(job_id)
                jobs[job_id] = f"wave-{w}"
            put_execution(dynamodb, f"exec-{e:03d}", jobs)
        dynamo_calls: Counter[str] = Counter()
        dynamodb.meta.events.register(
            "before-call.dynamodb.*", lambda model, **_: dynamo_calls.update([model.name])
        )
        finder = ExecutionFinder(
            ExecutionsStore(EXECUTIONS_TABLE, "status-index", client=dynamodb),
            JobEventsStore(JOB_EVENTS_TABLE, 90, client=dynamodb),
            DrsGateway(client=drs.client()),
            logging.getLogger("bench"),
        )
        print(
            f"{EXECUTIONS_COUNT} executions x {JOBS_PER_EXECUTION} jobs x {SERVERS_PER_JOB} "
            f"servers; {sum(len(v) for v in drs.logs.values())} job log items in DRS"
        )
        for label in ("first poll", "second poll"):
            dynamo_calls.clear()
            drs.calls.clear()
            started = time.perf_counter()
            report = finder.poll()
            seconds = time.perf_counter() - started
            drs_calls = Counter(name for name, _ in drs.calls)
            print(f"\n{label}: {seconds:.2f} s wall (moto in-process)")
            print(f"  DRS calls: {sum(drs_calls.values())} {dict(drs_calls)}")
            print(f"  DynamoDB calls: {sum(dynamo_calls.values())} {dict(dynamo_calls)}")
            print(
                f"  events written {report.events_written}, already recorded "
                f"{report.events_already_recorded}, executions updated {report.executions_updated}"
            )


if __name__ == "__main__":
    main()
