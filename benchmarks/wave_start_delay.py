"""How soon a dependent wave starts after its dependencies launched, with DRS's launch-result
events delivered and with every event lost.

Runs ``drsctl sandbox`` as a process twice (the second time with ``--drop-drs-events``) and
drills the seeded plan (Databases -> App tier -> Web tier, paused before Web tier and
approved as soon as it pauses) ``--drills`` times in each. Per dependent wave it prints the
delay from the end of its dependency's DRS launch job (the simulator's ``endDateTime``; DRS
sends the launch results as the job ends) to the ``creationDateTime`` of the wave's own job
(its ``StartRecovery``). Web tier waits for approval: its delay is counted from the
approval instead.

``--in-targets`` drills a two-wave plan of the seeded groups of the two DRS targets instead
(the first target's wave, then the second's): their launch results reach the deployment
only through the target program's forwarding to the deployment's bus.

Sandbox time runs ``--time-scale`` (20) times faster than AWS where the orchestrator waits
(``POLL_SECONDS`` 30 -> 2): a delay bounded by the tick interval is multiplied back by the
scale to read it in AWS seconds; a delay set by work (a wake, a tick) is not scaled. Prints
figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from sandbox_drill import call  # this directory: the benchmarks' shared API helper

ROOT = Path(__file__).resolve().parents[1]
TIME_SCALE = 20.0
WAVE_TAG = "drs-orchestrator:wave"


def moment(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def drill(url: str, token: str, plan: dict) -> tuple[dict, dict[str, float]]:
    """One drill of ``plan``: the execution as it ended, and when each paused wave was
    approved (epoch seconds)."""
    execution = call(
        f"{url}/api/recovery-plans/{plan['planId']}/executions", token, "POST", {"mode": "DRILL"}
    )
    path = f"{url}/api/executions/{execution['executionId']}"
    approved: dict[str, float] = {}
    while True:
        item = call(path, token)
        if item["status"] == "PAUSED":
            waiting = [w["name"] for w in item["waves"] if w["status"] == "AWAITING_APPROVAL"]
            call(f"{path}/resume", token, "POST")
            approved.update(dict.fromkeys(waiting, time.time()))
        if item["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
            return item, approved
        time.sleep(0.05)


def delays(item: dict, approved: dict[str, float], jobs: list[dict]) -> dict[str, float]:
    """Per dependent wave: seconds from its dependencies' launch ends (or its approval) to
    its own job's creation."""
    mine = [
        j
        for j in jobs
        if j.get("tags", {}).get("drs-orchestrator:execution") == item["executionId"]
    ]
    created = {}
    ended = {}
    for job in mine:
        wave = job["tags"][WAVE_TAG]
        created[wave] = min(created.get(wave, 1e18), moment(job["creationDateTime"]))
        ended[wave] = max(ended.get(wave, 0.0), moment(job["endDateTime"]))
    found = {}
    for wave in item["waves"]:
        if not wave.get("dependsOn") or wave["name"] not in created:
            continue
        ready = max(ended[d] for d in wave["dependsOn"])
        ready = max(ready, approved.get(wave["name"], 0.0))
        found[wave["name"]] = created[wave["name"]] - ready
    return found


def transitions(state: dict, execution_id: str) -> int:
    """State transitions of the execution's state machine runs (StateEntered events), read
    from the sandbox's Step Functions."""
    import boto3

    aws = state["aws"]
    sfn = boto3.client(
        "stepfunctions",
        endpoint_url=aws["endpoint"],
        region_name=aws["region"],
        aws_access_key_id=aws["accessKeyId"],
        aws_secret_access_key="sandbox",  # noqa: S106 - the sandbox accepts any secret
    )
    runs = sfn.list_executions(stateMachineArn=aws["stateMachineArn"])["executions"]
    total = 0
    for run in runs:
        if run["name"] == execution_id or run["name"].startswith(f"{execution_id}-r"):
            pages = sfn.get_paginator("get_execution_history").paginate(
                executionArn=run["executionArn"]
            )
            total += sum(
                e["type"].endswith("StateEntered") for page in pages for e in page["events"]
            )
    return total


def target_plan(url: str, token: str) -> dict:
    """Two waves, each the seeded group of one DRS target, the second after the first."""
    groups = call(f"{url}/api/protection-groups?limit=100", token)["items"]
    names = [g["name"] for g in groups if g.get("accountId")]
    body = {
        "name": "Across targets",
        "waves": [
            {"name": "First", "protectionGroups": names[:1]},
            {"name": "Second", "protectionGroups": names[1:2], "dependsOn": ["First"]},
        ],
    }
    return call(f"{url}/api/recovery-plans", token, "POST", body)


def all_jobs(state: dict) -> list[dict]:
    return [*state["drs"]["jobs"], *(j for t in state["targets"].values() for j in t["jobs"])]


def run(
    drills: int, drop: bool, phase: float, in_targets: bool = False
) -> tuple[dict[str, list[float]], dict, list[int]]:
    workdir = Path(tempfile.mkdtemp(prefix="wave-delay-"))
    command = [sys.executable, "-m", "drsctl", "sandbox", "--port", "0", "--no-console"]
    command += ["--workdir", str(workdir), "--time-scale", str(TIME_SCALE)]
    command += ["--drs-phase-seconds", str(phase)]
    if drop:
        command.append("--drop-drs-events")
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)  # noqa: S603
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("sandbox ready: "):
            url = next(iter(json.loads(line.removeprefix("sandbox ready: ")).values()))
            break
    found: dict[str, list[float]] = {}
    steps: list[int] = []
    try:
        token = call(f"{url}/config.json")["auth"]["token"]
        if in_targets:
            plan = target_plan(url, token)
        else:
            plan = call(f"{url}/api/recovery-plans", token)["items"][0]
        for _ in range(drills):
            item, approved = drill(url, token, plan)
            state = call(f"{url}/sandbox/state")
            if item["status"] != "COMPLETED":
                print(f"  a drill ended {item['status']}: {item.get('reason')}")
                continue
            steps.append(transitions(state, item["executionId"]))
            for wave, delay in delays(item, approved, all_jobs(state)).items():
                found.setdefault(wave, []).append(delay)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    return found, state, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--drills", type=int, default=3)
    parser.add_argument(
        "--drs-phase-seconds",
        type=float,
        default=3.0,
        help="the simulated DRS's phase time: with events dropped, where a job's end falls "
        "between two ticks depends on it (try a few)",
    )
    parser.add_argument("--dropped-only", action="store_true", help="skip the run with events")
    parser.add_argument(
        "--in-targets",
        action="store_true",
        help="drill waves in the two DRS targets (their events forwarded to the deployment)",
    )
    args = parser.parse_args()
    tick = math.ceil(30 / TIME_SCALE)  # the sandbox rounds scaled waits up (Pacing)
    print(f"sandbox: time scale {TIME_SCALE:g}, tick interval {tick:g} s (30 s in AWS)")
    for drop in (True,) if args.dropped_only else (False, True):
        found, state, steps = run(args.drills, drop, args.drs_phase_seconds, args.in_targets)
        label = "events dropped" if drop else "events delivered"
        events = state.get("events", {})
        if args.in_targets:
            events = events.get("fromTargets", {})
            label += " (waves in DRS targets, their events forwarded)"
            print(
                f"\n{label}: {events.get('forwarded', 0)} forwarded by the targets, "
                f"{events.get('delivered', 0)} delivered, {events.get('dropped', 0)} dropped, "
                f"{events.get('refused', 0)} refused by the bus policy"
            )
        else:
            print(
                f"\n{label}: DRS sent {events.get('sent', 0)} launch results, "
                f"{events.get('delivered', 0)} delivered, {events.get('dropped', 0)} dropped"
            )
        invocations = state["invocations"]
        runner = next(v for k, v in invocations.items() if k.endswith("-wave-runner"))
        print(f"  wave-runner invocations over {args.drills} drills: {runner}")
        print(f"  Step Functions state transitions per drill: {sorted(steps)}")
        for wave, values in found.items():
            worst = max(values)
            line = (
                f"  {wave:<10} delay median {statistics.median(values):.2f} s, "
                f"worst {worst:.2f} s (sandbox seconds, {len(values)} drills)"
            )
            if drop:
                # The wait (at most one sleep) scales back by the time scale; the ticks'
                # own work on either side of it does not.
                aws = min(worst, tick) * 30 / tick + max(0.0, worst - tick)
                line += f"; in AWS seconds at most {aws:.1f} s (30 s ticks + their own work)"
            print(line)


if __name__ == "__main__":
    main()
