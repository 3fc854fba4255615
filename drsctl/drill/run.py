"""Drill one plan file in two deployments side by side and report how they differed."""

from __future__ import annotations

import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from drsctl.api_client import ApiCallError, ApiClient
from drsctl.drill.api import (
    cognito_token,
    credentials_for,
    sandbox_aws,
    sandbox_client,
    sandbox_token,
)
from drsctl.drill.diff import compare, render
from drsctl.drill.trace import Trace, build_trace, events_recorded, follow

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from drsctl.drill.planfile import PlanFile


@dataclass
class Target:
    """One deployment the drill runs in."""

    stack: str
    region: str
    api: ApiClient
    history: Callable[[str], list[str] | None]


def _history_reader(
    stepfunctions: Any, state_machine_arn: str, settle_seconds: float = 30.0
) -> Callable[[str], list[str] | None]:
    """The states one execution entered, across its state machine runs (a long execution
    hands over to ``<execution>-r2``, ``-r3``...), or None when the history cannot be read.
    The record ends a moment before its run does (the run still routes to its end state), so
    the last run is read once it stopped, or after ``settle_seconds``."""

    def arn_of(name: str) -> str:
        return state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"

    def entered(name: str) -> list[str]:
        deadline = time.monotonic() + settle_seconds
        while (
            stepfunctions.describe_execution(executionArn=arn_of(name))["status"] == "RUNNING"
            and time.monotonic() < deadline
        ):
            time.sleep(0.2)
        return [
            e["stateEnteredEventDetails"]["name"]
            for page in stepfunctions.get_paginator("get_execution_history").paginate(
                executionArn=arn_of(name)
            )
            for e in page["events"]
            if "stateEnteredEventDetails" in e
        ]

    def read(execution_id: str) -> list[str] | None:
        states: list[str] = []
        name, number = execution_id, 1
        try:
            while True:
                states += entered(name)
                if not states or states[-1] != "HandedOver":
                    return states
                number += 1
                name = f"{execution_id}-r{number}"
        except (ClientError, BotoCoreError):
            return states or None

    return read


def sandbox_targets(stacks: Sequence[str], workdir: Path) -> list[Target]:
    """The given stacks of a running ``drsctl sandbox`` (its ``sandbox.json``)."""
    state_file = workdir / "sandbox.json"
    try:
        urls = json.loads(state_file.read_text())
    except (OSError, ValueError) as exc:
        msg = (
            f"no running sandbox in {workdir} ({exc}); start one: drsctl sandbox {' '.join(stacks)}"
        )
        raise RuntimeError(msg) from exc
    targets = []
    for stack in stacks:
        if stack not in urls:
            msg = f"the sandbox in {workdir} runs {', '.join(urls)}, not {stack}"
            raise RuntimeError(msg)
        site = urls[stack]
        try:
            token = sandbox_token(site)
            aws = sandbox_aws(site)
        except OSError as exc:  # refused, timed out: the sandbox that wrote the file is gone
            reason = getattr(exc, "reason", exc)
            msg = (
                f"the sandbox in {workdir} is not running: its {state_file.name} names {site} "
                f"for {stack}, which does not answer ({reason}); it was stopped without "
                f"cleaning up. Start one: drsctl sandbox {' '.join(stacks)}"
            )
            raise RuntimeError(msg) from exc
        stepfunctions = sandbox_client(aws, "stepfunctions")
        targets.append(
            Target(
                stack,
                aws["region"],
                ApiClient(f"{site}/api", lambda token=token: token),
                _history_reader(stepfunctions, aws["stateMachineArn"]),
            )
        )
    return targets


def live_target(stack: str, outputs: dict[str, Any]) -> Target:
    """A deployed stack: API and user pool from its outputs, credentials from the environment."""
    missing = [
        k for k in ("apiUrl", "userPoolId", "userPoolClientId", "region") if not outputs.get(k)
    ]
    if missing:
        msg = f"the outputs of {stack} lack {', '.join(missing)}"
        raise RuntimeError(msg)
    region = str(outputs["region"])
    username, password = credentials_for(stack)
    token = cognito_token(
        username,
        password,
        str(outputs["userPoolId"]),
        str(outputs["userPoolClientId"]),
        boto3.client("cognito-idp", region_name=region),
    )
    history = _history_reader(
        boto3.client("stepfunctions", region_name=region), str(outputs.get("stateMachineArn", ""))
    )
    return Target(stack, region, ApiClient(str(outputs["apiUrl"]).rstrip("/"), token), history)


def apply_plan_file(target: Target, planfile: PlanFile) -> str:
    """Create or update the file's groups and plan in the deployment; the plan's id."""
    groups, plan = planfile.for_region(target.region)
    existing = {g["name"]: g for g in target.api.all("/protection-groups")}
    for group in groups:
        current = existing.get(group["name"])
        if current is None:
            target.api.call("POST", "/protection-groups", group)
        else:
            body = {**group, "version": current["version"]}
            target.api.call("PUT", f"/protection-groups/{current['groupId']}", body)
    plans = {p["name"]: p for p in target.api.all("/recovery-plans")}
    current = plans.get(plan["name"])
    if current is None:
        return str(target.api.call("POST", "/recovery-plans", plan)["planId"])
    body = {**plan, "version": current["version"]}
    target.api.call("PUT", f"/recovery-plans/{current['planId']}", body)
    return str(current["planId"])


class Progress:
    """One line per deployment, printed when it changes."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out
        self._last: dict[str, str] = {}
        self._lock = threading.Lock()

    def update(self, stack: str, item: dict[str, Any]) -> None:
        events = events_recorded(item)
        done = sum(
            w["status"] in ("COMPLETED", "LAUNCHED", "FAILED", "SKIPPED") for w in item["waves"]
        )
        line = f"{item['status']}, {done}/{len(item['waves'])} waves settled, {events} job events"
        with self._lock:
            if self._last.get(stack) != line:
                self._last[stack] = line
                self._out.write(f"  {stack}: {line}\n")
                self._out.flush()


def _drill(target: Target, plan_id: str, progress: Progress, timeout: float) -> Trace:
    execution = target.api.call("POST", f"/recovery-plans/{plan_id}/executions", {"mode": "DRILL"})
    observation = follow(
        target.api,
        execution["executionId"],
        timeout=timeout,
        progress=lambda item: progress.update(target.stack, item),
    )
    return build_trace(target.stack, observation, target.history(execution["executionId"]))


def terminate(target: Target, trace: Trace, out: IO[str]) -> None:
    try:
        target.api.call("POST", f"/executions/{trace.execution_id}/terminate-instances")
        out.write(f"  {target.stack}: drill instances terminated\n")
    except ApiCallError as error:
        if error.status == 409 and "no recovery instance left" in str(error):
            out.write(f"  {target.stack}: no drill instance to terminate\n")
        else:
            raise


def run_drill_comparison(
    targets: list[Target],
    planfile: PlanFile,
    *,
    keep_instances: bool = False,
    json_out: Path | None = None,
    timeout: float = 1800,
    out: IO[str] = sys.stdout,
) -> int:
    """0 for the same behaviour, 1 for any difference (each explained in the report)."""
    first, second = targets
    out.write(f"applying {planfile.path} to {first.stack} and {second.stack}...\n")
    plan_ids = [apply_plan_file(t, planfile) for t in targets]
    out.write(f"drilling '{planfile.plan['name']}' in both (paused waves approved at once)...\n")
    progress = Progress(out)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(_drill, t, p, progress, timeout)
            for t, p in zip(targets, plan_ids, strict=True)
        ]
        traces = [f.result() for f in futures]
    comparison = compare(*traces)
    out.write("\n" + render(comparison) + "\n")
    if json_out is not None:
        json_out.write_text(json.dumps(comparison.as_dict(), indent=2, default=str))
        out.write(f"\ntraces and differences: {json_out}\n")
    if not keep_instances:
        for target, trace in zip(targets, traces, strict=True):
            terminate(target, trace, out)
    return 0 if comparison.same else 1
