"""Who is who in the sandbox's accounts: each function acting as its own role, the target
roles with the trust and permissions the target program declares, and each target's DRS
events forwarded to the deployments that name it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from infra.iam import target_role_policy
from infra.naming import FUNCTION_SHORT_NAMES, Naming
from infra.target.program import trust_document

if TYPE_CHECKING:
    from collections.abc import Callable

    from drsctl.sandbox.deploy import Deployment
    from drsctl.sandbox.events import Forwarding
    from drsctl.sandbox.gateway import AwsGateway


def alnum(text: str) -> str:
    """``text``'s letters and digits, upper case: the stuff of the sandbox's access keys."""
    return "".join(c for c in text.upper() if c.isalnum())


def act_as_functions(
    gateway: AwsGateway, deployment: Deployment, deployment_key: str, account: str
) -> dict[str, str]:
    """Each function's own access key (function name -> key): it calls AWS acting as its
    role, so the sandbox's STS holds its assume-role of a target's role to that role's
    trust; the gateway still finds the deployment's simulators by the deployment's key."""
    naming = Naming(deployment.deployment_name)
    keys = {}
    for short, function in deployment.functions.items():
        own_key = function_key(deployment_key, short)
        keys[function] = own_key
        gateway.aliases[own_key] = deployment_key
        gateway.trust.principals[own_key] = (
            f"arn:aws:iam::{account}:role/{naming.function_role(short)}"
        )
    return keys


def function_key(deployment_key: str, short: str) -> str:
    """The access key a deployment's function ``short`` calls AWS with in the sandbox."""
    return f"{deployment_key}{alnum(short)}"


def create_target_roles(evaluation: Any, home_account: str) -> None:
    """The deployment's role in each DRS target account, as the target stack creates it:
    its permissions (``infra/iam.py``'s ``target_role_policy``, which readiness simulates)
    and its trust (``infra/target/program.py``'s ``trust_document``: the deployment's
    function roles only, with the target's external id), which the sandbox's STS holds
    every AssumeRole to (``drsctl/sandbox/sts.py``)."""
    from moto.iam.models import iam_backends

    listed: list[dict[str, Any]] = []
    for function in evaluation.of_type("aws:lambda/function:Function"):
        variables = ((function.inputs.get("environment") or {}).get("variables")) or {}
        if variables.get("DRS_TARGETS"):
            listed = json.loads(variables["DRS_TARGETS"])
            break
    naming = Naming(str(evaluation.config["drs-orchestrator:deploymentName"]))
    trusted = [
        f"arn:aws:iam::{home_account}:role/{naming.function_role(short)}"
        for short in FUNCTION_SHORT_NAMES
    ]
    regions_of: dict[tuple[str, str], list[str]] = {}
    for target in listed:
        key = (str(target["roleArn"]), str(target["externalId"]))
        regions_of.setdefault(key, []).append(str(target["region"]))
    for (role_arn, external_id), regions in sorted(regions_of.items()):
        account, name = role_arn.split(":")[4], role_arn.rsplit("/", 1)[-1]
        backend = iam_backends[account]["global"]
        if any(r.name == name for r in backend.get_roles()):
            continue  # two deployments of one account share nothing, but a restart may
        trust = json.dumps(trust_document(trusted, external_id))
        backend.create_role(name, trust, "/", None, "sandbox target role", [], None)
        policy = target_role_policy(sorted(regions), role_arn)
        backend.put_role_policy(name, "runtime", json.dumps(policy))


def fan_out(forwardings: list[Forwarding]) -> Callable[[dict[str, Any]], None]:
    """A target's events, handed to every deployment that forwards them."""

    def put(event: dict[str, Any]) -> None:
        for forwarding in forwardings:
            forwarding.put(event)

    return put
