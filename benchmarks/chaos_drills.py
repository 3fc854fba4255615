"""Drills and failbacks under chaos: the sandbox started with ``--chaos RATE`` (a share of
the wave runner's and the finder's AWS calls meet a random fault: throttled, 5xx, answer
lost, the function dying just before or after the call), N drills of the seeded three-wave
plan run one after the other (the paused wave approved when it asks), then M rounds of a
recovery of that plan and its failback (the failback clients booted, the cut-over
approved, forward replication restarted and the recovery instances terminated once home),
then counted (``--throttle 0.9`` also throttles nine in ten DRS calls; the sandbox's clock
must keep moving through it):

- executions ended correctly: ended, and every invariant of docs/RELIABILITY.md kept
  (``drsctl/invariants.py``);
- DRS jobs unaccounted for: jobs tagged with an execution that the execution does not
  record (must be 0);
- servers left held: holds in the server-holds table once every execution ended, whoever
  holds them (must be 0);
- reports stored whole: each settled execution's report in the deployment's bucket, and
  the whole execution (``report_violations``);
- notifications not published: messages still in an ended execution's outbox (must be 0);
- an execution still running at its time limit is diagnosed (its status, waves, batches,
  DRS jobs and its state machine run's status printed), and the sandbox's folder, its
  functions' logs and state, is kept and named.

Prints figures; asserts nothing.

    uv run python benchmarks/chaos_drills.py [--drills 5] [--failbacks 2] [--rate 0.05]
        [--seed 1] [--throttle 0.9]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import boto3

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from drsctl.invariants import report_violations, violations  # noqa: E402 - after the path

TERMINAL = ("COMPLETED", "FAILED", "CANCELLED")
#: How long an execution still running at its time limit is followed after its diagnosis.
GRACE_SECONDS = 300.0


def call(url: str, token: str | None = None, method: str = "GET", body: object = None) -> dict:
    headers = {"Authorization": token} if token else {}
    data = json.dumps(body).encode() if body is not None else None
    request = Request(url, data=data, headers=headers, method=method)  # noqa: S310 - 127.0.0.1
    with urlopen(request, timeout=60) as response:  # noqa: S310
        return json.loads(response.read() or b"{}")


def aws(state: dict, service: str) -> Any:
    info = state["aws"]
    return boto3.client(
        service,
        region_name=info["region"],
        endpoint_url=info["endpoint"],
        aws_access_key_id=info["accessKeyId"],
        aws_secret_access_key="sandbox-secret",  # noqa: S106 - the sandbox's fixed secret
    )


def run_drill(url: str, token: str, plan_id: str, timeout: float) -> dict:
    execution = call(
        f"{url}/api/recovery-plans/{plan_id}/executions", token, "POST", {"mode": "DRILL"}
    )
    return follow(url, token, execution["executionId"], timeout)


def follow(url: str, token: str, execution_id: str, timeout: float) -> dict:
    """Follow an execution to its end, approving each pause and, for a failback, booting
    the failback client of each on-premises server that waits for one."""
    path = f"{url}/api/executions/{execution_id}"
    began = time.perf_counter()
    item: dict = {}
    while time.perf_counter() - began < timeout:
        item = call(path, token)
        waiting = [
            s["instance"]
            for s in (item.get("failback") or {}).values()
            if s["step"] == "AWAITING_CLIENT"
        ]
        if waiting:
            with contextlib.suppress(HTTPError):
                call(
                    f"{url}/sandbox/failback-clients",
                    None,
                    "POST",
                    {"recoveryInstanceIds": waiting},
                )
        if item["status"] == "PAUSED":
            with contextlib.suppress(HTTPError):  # changed meanwhile: the next look decides
                call(f"{path}/resume", token, "POST")
        if item["status"] in TERMINAL:
            break
        time.sleep(0.5)
    return item


def all_jobs(url: str) -> list[dict]:
    """Every DRS job of the deployment and of its targets (a failback launches in both)."""
    state = call(f"{url}/sandbox/state")
    return [*state["drs"]["jobs"], *(j for t in state["targets"].values() for j in t["jobs"])]


def settle(url: str, token: str, execution_id: str, dynamodb: Any, table: str) -> dict:
    """Wait until the finder and its janitor let the ended execution go, and every DRS
    job has ended (the next drill's servers must be free in DRS too)."""
    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline:
        raw = dynamodb.get_item(
            TableName=table, Key={"executionId": {"S": execution_id}}, ConsistentRead=True
        )["Item"]
        jobs = call(f"{url}/sandbox/state")["drs"]["jobs"]
        if "watch" not in raw and all(j["status"] == "COMPLETED" for j in jobs):
            break
        time.sleep(1.0)
    return call(f"{url}/api/executions/{execution_id}", token)


def stored_report(s3: Any, buckets: list[str], execution_id: str) -> tuple[dict, str] | None:
    """The execution's report as the janitor stored it (JSON document, HTML), or None."""
    for bucket in buckets:
        try:
            document = s3.get_object(Bucket=bucket, Key=f"reports/{execution_id}.json")
            page = s3.get_object(Bucket=bucket, Key=f"reports/{execution_id}.html")
        except s3.exceptions.NoSuchKey:
            continue
        return json.loads(document["Body"].read()), page["Body"].read().decode()
    return None


def job_events(dynamodb: Any, table: str, execution_id: str) -> int:
    pages = dynamodb.get_paginator("query").paginate(
        TableName=table,
        KeyConditionExpression="executionId = :e",
        ExpressionAttributeValues={":e": {"S": execution_id}},
        Select="COUNT",
    )
    return sum(page["Count"] for page in pages)


def diagnose(url: str, item: dict, jobs: list[dict]) -> None:
    """What an execution still running at its time limit was doing."""
    print(f"  still {item.get('status')} at its time limit: {item.get('executionId')}")
    for wave in item.get("waves") or ():
        print(f"    wave {wave['name']}: {wave['status']} {wave.get('reason', '')[:200]}")
    for batch_id, batch in (item.get("batches") or {}).items():
        print(f"    batch {batch_id}: {batch['status']} {batch.get('lastError', '')[:200]}")
    ours = [j for j in jobs if j["jobID"] in (item.get("jobs") or {})]
    print(f"    DRS jobs: {[(j['jobID'], j['status']) for j in ours]}")
    sfn = aws(call(f"{url}/sandbox/state"), "stepfunctions")
    name = item.get("machineRun") or item.get("executionId", "")
    for machine in sfn.list_state_machines()["stateMachines"]:
        arn = machine["stateMachineArn"].replace(":stateMachine:", ":execution:") + f":{name}"
        with contextlib.suppress(sfn.exceptions.ExecutionDoesNotExist):
            status = sfn.describe_execution(executionArn=arn)["status"]
            print(f"    state machine run {name}: {status}")
            return
    print(f"    state machine run {name}: none found")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--drills", type=int, default=5)
    parser.add_argument("--failbacks", type=int, default=2, help="recovery-and-failback rounds")
    parser.add_argument("--rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per drill")
    parser.add_argument(
        "--throttle", type=float, default=0.0, help="share of DRS calls throttled (0-1)"
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="sandbox-chaos-"))
    process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [
            sys.executable,
            "-m",
            "drsctl",
            "sandbox",
            "--port",
            "0",
            "--workdir",
            str(workdir),
            "--no-console",
            "--chaos",
            str(args.rate),
            "--chaos-seed",
            str(args.seed),
            "--throttle-rate",
            str(args.throttle),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("sandbox ready: "):
            url = next(iter(json.loads(line.removeprefix("sandbox ready: ")).values()))
            break
    outcomes: Counter = Counter()
    reports: Counter = Counter()
    counts: Counter = Counter()
    correct = unaccounted = held = failbacks = correct_failbacks = 0
    broken: list[str] = []
    walls = []
    try:
        token = call(f"{url}/config.json")["auth"]["token"]
        plan = call(f"{url}/api/recovery-plans", token)["items"][0]
        state = call(f"{url}/sandbox/state")
        dynamodb = aws(state, "dynamodb")
        tables = dynamodb.list_tables()["TableNames"]
        executions_table = next(t for t in tables if t.endswith("-executions"))
        holds_table = next(t for t in tables if t.endswith("-server-holds"))
        events_table = next(t for t in tables if t.endswith("-job-events"))
        s3 = aws(state, "s3")
        buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]

        def at_time_limit(item: dict) -> dict:
            """An execution still running at its time limit is diagnosed then, and followed
            for a grace period (its pauses approved) so the next one finds its servers free."""
            if item["status"] in TERMINAL:
                return item
            counts["still running at the time limit"] += 1
            diagnose(url, item, all_jobs(url))
            return follow(url, token, item["executionId"], GRACE_SECONDS)

        def ended_well(item: dict, jobs: list[dict]) -> list[str]:
            """The report stored whole, every notification published."""
            if item["status"] not in TERMINAL:
                return [f"still {item['status']} after settling"]
            problems: list[str] = []
            events = job_events(dynamodb, events_table, item["executionId"])
            stored = stored_report(s3, buckets, item["executionId"])
            problems += report_violations(item, stored, events)
            reports["stored whole" if stored and not problems else "missing or partial"] += 1
            unpublished = len(item.get("outbox") or {})
            if unpublished:
                problems.append(f"{unpublished} notifications not published")
            counts["notifications not published"] += unpublished
            return problems

        for number in range(1, args.drills + 1):
            began = time.perf_counter()
            item = run_drill(url, token, plan["planId"], args.timeout)
            item = at_time_limit(item)
            wall = time.perf_counter() - began  # its time limit's grace included
            walls.append(wall)
            item = settle(url, token, item["executionId"], dynamodb, executions_table)
            jobs = call(f"{url}/sandbox/state")["drs"]["jobs"]
            found = violations(item, jobs)
            found += ended_well(item, jobs)
            outcomes[item["status"]] += 1
            ours = {
                j["jobID"]
                for j in jobs
                if (j.get("tags") or {}).get("drs-orchestrator:execution") == item["executionId"]
            }
            lost = ours - set(item.get("jobs") or {})
            unaccounted += len(lost)
            if not found and item["status"] in TERMINAL:
                correct += 1
            else:
                broken.append(f"drill {number} {item['executionId']}: {found or item['status']}")
            reason = f" ({item['reason']})" if item.get("reason") else ""
            print(
                f"drill {number}: {item['status']}{reason} in {wall:.1f} s, {len(ours)} DRS "
                f"jobs, {len(found)} invariant violations"
            )
            # Each drill's instances are terminated so the next one starts clean.
            if item["status"] in TERMINAL:
                with contextlib.suppress(HTTPError):
                    call(
                        f"{url}/api/executions/{item['executionId']}/terminate-instances",
                        token,
                        "POST",
                    )
                settle(url, token, item["executionId"], dynamodb, executions_table)
        for number in range(1, args.failbacks + 1):
            began = time.perf_counter()
            started = call(
                f"{url}/api/recovery-plans/{plan['planId']}/executions",
                token,
                "POST",
                {"mode": "RECOVERY"},
            )
            recovery = follow(url, token, started["executionId"], args.timeout)
            recovery = at_time_limit(recovery)
            recovery = settle(url, token, recovery["executionId"], dynamodb, executions_table)
            outcomes[f"RECOVERY {recovery['status']}"] += 1
            if recovery["status"] != "COMPLETED":
                why = f" ({recovery['reason']})" if recovery.get("reason") else ""
                broken.append(
                    f"recovery {number} {recovery['executionId']}: {recovery['status']}{why}"
                )
                print(f"failback {number}: not started, its recovery {recovery['status']}{why}")
                continue
            fb = call(
                f"{url}/api/executions/{recovery['executionId']}/failback",
                token,
                "POST",
                {"restartReplication": True, "terminateRecoveryInstances": True},
            )
            item = follow(url, token, fb["executionId"], args.timeout)
            item = at_time_limit(item)
            item = settle(url, token, item["executionId"], dynamodb, executions_table)
            wall = time.perf_counter() - began
            jobs = all_jobs(url)
            found = violations(item, jobs)
            found += ended_well(item, jobs)
            failbacks += 1
            outcomes[f"FAILBACK {item['status']}"] += 1
            ours = {
                j["jobID"]
                for j in jobs
                if (j.get("tags") or {}).get("drs-orchestrator:execution") == item["executionId"]
            }
            recorded = {s.get("jobId") for s in (item.get("failback") or {}).values()}
            unaccounted += len(ours - recorded)
            if not found and item["status"] == "COMPLETED":
                correct_failbacks += 1
            else:
                broken.append(f"failback {number} {item['executionId']}: {found or item['status']}")
            home = sum(s["step"] == "HOME" for s in (item.get("failback") or {}).values())
            print(
                f"failback {number}: {item['status']} in {wall:.1f} s (recovery included), "
                f"{home} of {len(item.get('failback') or {})} servers home, {len(ours)} DRS "
                f"jobs, {len(found)} invariant violations"
            )
        clock = call(f"{url}/sandbox/state")
        print(
            f"sandbox clock: alive {clock['clock']['alive']}, {clock['clock']['steps']} steps; "
            f"schedules {[(r['rule'], r['firings'], r['overlapped']) for r in clock['schedules']]}"
        )
        for problem in clock["errors"][-5:]:
            print(f"  background error (recorded, went on): {problem[:200]}")
        # Every execution has ended by now: any hold left is a hold lost.
        held = len(dynamodb.scan(TableName=holds_table)["Items"])
        faults = Counter()
        for log in (workdir / "logs").glob("*.log"):
            for line in log.read_text(errors="replace").splitlines():
                if line.startswith("chaos: "):
                    faults[line.split()[1]] += 1
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)

    print(
        f"chaos rate {args.rate} (seed {args.seed}): {sum(faults.values())} faults injected "
        f"{dict(faults)}"
    )
    print(
        f"drills: {args.drills}, outcomes {dict(outcomes)}, "
        f"mean wall {sum(walls) / max(len(walls), 1):.1f} s"
    )
    print(f"executions ended correctly: {correct} of {args.drills}")
    print(f"failbacks brought every server home correctly: {correct_failbacks} of {failbacks}")
    print(f"DRS jobs unaccounted for: {unaccounted}")
    print(f"servers left held: {held}")
    print(f"reports: {dict(reports)}")
    print(f"notifications not published: {counts['notifications not published']}")
    print(
        f"still running at the time limit (diagnosed above): "
        f"{counts['still running at the time limit']}"
    )
    print(f"sandbox folder (logs, state), kept: {workdir}")
    for line in broken:
        print(f"  {line}")


if __name__ == "__main__":
    main()
