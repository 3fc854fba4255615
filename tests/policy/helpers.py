"""Build resources the way a mock run registers them, and collect what a rule says of them."""

from __future__ import annotations

import copy
import json
from typing import Any

from drs_policy.offline import evaluate_policies

from infra.offline import RegisteredResource

DEV = "aws-elasticdrs-orchestrator-dev"
ARCHIVE = "aws-drs-orchestrator-archive-test"
ACCOUNT = "123456789012"


def resource(
    resource_type: str,
    name: str,
    props: dict[str, Any],
    *,
    stack: str = "dev",
    protect: bool = False,
) -> RegisteredResource:
    urn = f"urn:pulumi:{stack}::drs-orchestrator::{resource_type}::{name}"
    return RegisteredResource(urn, resource_type, name, True, "", protect, props, props)


def messages(policy: Any, *resources: RegisteredResource, config: dict | None = None) -> list[str]:
    return [v.message for v in evaluate_policies(list(resources), [policy], config)]


def tags(stack: str = "dev", deployment: str = DEV) -> dict[str, str]:
    return {
        "drs-orchestrator:deployment": deployment,
        "pulumi:project": "drs-orchestrator",
        "pulumi:stack": stack,
    }


def changed(props: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``props`` with the dotted ``path`` set to ``value`` (None deletes)."""
    result = copy.deepcopy(props)
    *parents, last = path.split(".")
    target = result
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is None:
        del target[last]
    else:
        target[last] = value
    return result


def policy_document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
