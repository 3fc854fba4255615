"""``drsctl compare <stackA> <stackB>``: do two deployments differ in kind?

Each stack is reduced to a profile of what must be the same for both to behave alike:
resource counts by type, each function's handler, runtime, memory, timeout, environment
variable names and package hash, each schedule and event rule, and the state machine
definition (with the deployment name replaced by a placeholder). Names, ARNs, tags and
environment values are left out: they must differ. Offline (default) the profiles come
from the programs run under mocks; with ``--live`` from the deployed stacks through boto3.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from drsctl.tables import table_lines

if TYPE_CHECKING:
    from pathlib import Path

    from drsctl.verify import AwsClients
    from infra.offline import Evaluation

Profile = dict[str, str]
PLACEHOLDER = "<deployment>"


def _normalise(text: str, deployment: str) -> str:
    return text.replace(deployment, PLACEHOLDER) if deployment else text


def offline_profile(evaluation: Evaluation) -> Profile:
    """The profile of a stack's program, evaluated under mocks."""
    deployment = str(evaluation.outputs.get("deploymentName", ""))
    profile: Profile = {}
    for resource_type, count in Counter(r.type for r in evaluation.custom_resources).items():
        profile[f"count {resource_type}"] = str(count)
    packages = {
        r.inputs["key"].split("/")[1]: r.inputs["key"]
        for r in evaluation.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
        if str(r.inputs.get("key", "")).startswith("lambda/")
    }
    for function in evaluation.of_type("aws:lambda/function:Function"):
        short = function.name.removesuffix("-function")
        inputs = function.inputs
        variables = (inputs.get("environment") or {}).get("variables") or {}
        key = packages.get(short, "")
        _function_profile(
            profile,
            short,
            inputs.get("handler"),
            inputs.get("runtime"),
            inputs.get("memorySize"),
            inputs.get("timeout"),
            variables,
            key.rsplit("/", 1)[-1].removesuffix(".zip"),
        )
    console = sorted(
        r.inputs["key"]
        for r in evaluation.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
        if not str(r.inputs.get("key", "")).startswith("lambda/")
    )
    profile["console files"] = ", ".join(console)
    for rule in evaluation.of_type("aws:cloudwatch/eventRule:EventRule"):
        short = _normalise(str(rule.inputs.get("name", "")), deployment)
        pattern = rule.inputs.get("eventPattern")
        if pattern:
            profile[f"events {short}"] = _pattern(pattern)
        else:
            profile[f"schedule {short}"] = str(rule.inputs.get("scheduleExpression"))
    for machine in evaluation.of_type("aws:sfn/stateMachine:StateMachine"):
        short = _normalise(str(machine.inputs.get("name", "")), deployment)
        profile[f"state machine {short} definition"] = _definition(
            machine.inputs.get("definition"), deployment
        )
    return profile


def _function_profile(
    profile: Profile,
    short: str,
    handler: Any,
    runtime: Any,
    memory: Any,
    timeout: Any,
    variables: dict[str, Any],
    package_sha256: str,
) -> None:
    profile[f"function {short} handler"] = str(handler)
    profile[f"function {short} runtime"] = str(runtime)
    profile[f"function {short} memory"] = _number(memory)
    profile[f"function {short} timeout"] = _number(timeout)
    profile[f"function {short} environment keys"] = ", ".join(sorted(variables))
    profile[f"function {short} package sha256"] = package_sha256


def _number(value: Any) -> str:
    """Numbers as the same text whether they came as 256 (boto3) or 256.0 (mock inputs)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _definition(definition: Any, deployment: str) -> str:
    """A state machine definition, canonical JSON with the deployment name replaced."""
    text = definition if isinstance(definition, str) else json.dumps(definition)
    with contextlib.suppress(ValueError):  # not JSON: compare the text as it is
        text = json.dumps(json.loads(text), sort_keys=True)
    return _normalise(text, deployment)


def live_profile(outputs: dict[str, Any], clients: AwsClients) -> Profile:
    """The profile of a deployed stack, read through boto3 from its outputs."""
    deployment = str(outputs.get("deploymentName", ""))
    profile: Profile = {}
    for key, name in sorted(outputs.items()):
        match = re.fullmatch(r"(\w+)FunctionName", key)
        if not match:
            continue
        short = re.sub(r"(?<!^)([A-Z])", r"-\1", match[1]).lower()
        config = clients.lambda_.get_function_configuration(FunctionName=name)
        variables = (config.get("Environment") or {}).get("Variables") or {}
        sha = base64.b64decode(config.get("CodeSha256", "")).hex()
        _function_profile(
            profile,
            short,
            config.get("Handler"),
            config.get("Runtime"),
            config.get("MemorySize"),
            config.get("Timeout"),
            variables,
            sha,
        )
    for key, rule in sorted(outputs.items()):
        if not key.endswith("RuleName") or not rule:
            continue
        described = clients.events.describe_rule(Name=rule)
        short = _normalise(str(rule), deployment)
        if described.get("EventPattern"):
            profile[f"events {short}"] = _pattern(described["EventPattern"])
        else:
            profile[f"schedule {short}"] = str(described.get("ScheduleExpression"))
    machine = outputs.get("stateMachineArn")
    if machine:
        described = clients.stepfunctions.describe_state_machine(stateMachineArn=machine)
        name = _normalise(str(described.get("name", "")), deployment)
        profile[f"state machine {name} definition"] = _definition(
            described.get("definition"), deployment
        )
    return profile


@dataclass(frozen=True)
class Difference:
    aspect: str
    first: str
    second: str


def differences(first: Profile, second: Profile) -> list[Difference]:
    return [
        Difference(aspect, first.get(aspect, "(absent)"), second.get(aspect, "(absent)"))
        for aspect in sorted(set(first) | set(second))
        if first.get(aspect) != second.get(aspect)
    ]


def print_comparison(
    names: tuple[str, str], first: Profile, second: Profile, out: TextIO
) -> list[Difference]:
    found = differences(first, second)
    rows = [
        (aspect, first.get(aspect, "(absent)"), second.get(aspect, "(absent)"))
        for aspect in sorted(set(first) | set(second))
    ]
    lines = table_lines(
        [(aspect, _clip(a), _clip(b)) for aspect, a, b in rows],
        ("ASPECT", names[0], names[1]),
        marks=["   " if a == b else "!= " for _, a, b in rows],
    )
    out.write("".join(line + "\n" for line in lines))
    if found:
        out.write(f"\n{len(found)} difference(s) in kind between {names[0]} and {names[1]}.\n")
    else:
        out.write(f"\n{names[0]} and {names[1]} match in kind ({len(rows)} aspects).\n")
    return found


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else f"{text[: limit - 12]}...{text[-9:]}"


def run_compare(
    first: str,
    second: str,
    live: bool = False,
    outputs: tuple[Path | None, Path | None] = (None, None),
    project_dir: Path | None = None,
    out: TextIO | None = None,
    clients: tuple[AwsClients, AwsClients] | None = None,
) -> int:
    """0 when the two stacks match in kind, 1 otherwise."""
    out = out or sys.stdout
    if live:
        from drsctl.verify import AwsClients, stack_outputs

        first_outputs = stack_outputs(first, outputs[0])
        second_outputs = stack_outputs(second, outputs[1])
        clients = clients or (
            AwsClients.for_region(str(first_outputs.get("region", ""))),
            AwsClients.for_region(str(second_outputs.get("region", ""))),
        )
        profiles = (
            live_profile(first_outputs, clients[0]),
            live_profile(second_outputs, clients[1]),
        )
    else:
        from infra.offline import REPO_ROOT, evaluate

        root = project_dir or REPO_ROOT
        profiles = (
            offline_profile(evaluate(first, root=root)),
            offline_profile(evaluate(second, root=root)),
        )
    return 1 if print_comparison((first, second), *profiles, out) else 0


def _pattern(pattern: Any) -> str:
    """An event pattern in one spelling (keys sorted), however it was written."""
    parsed = json.loads(pattern) if isinstance(pattern, str) else pattern
    return json.dumps(parsed, sort_keys=True)
