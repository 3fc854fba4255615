"""``drsctl plan``: what stacks would deploy and what the policy pack says, all offline.

Each stack's program runs under pulumi's mock runtime; the pack's rules are evaluated on the
resources it registers (``drs_policy.offline``), exactly the objects ``pulumi preview
--policy-pack policy`` serves. With ``--all``, every stack is evaluated and the stacks are
also checked together: no physical name claimed twice, no reference across deployments.
The exit status is 1 when any mandatory rule is violated.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from typing import TYPE_CHECKING, Any, TextIO

from drs_policy.offline import Violation, evaluate_across_stacks, evaluate_stack

from drsctl.tables import table_lines
from infra.offline import REPO_ROOT, Evaluation, evaluate, stack_files

if TYPE_CHECKING:
    from pathlib import Path


def plan_rows(evaluation: Evaluation) -> list[dict[str, str]]:
    """One row per resource, components included, grouped under their parents."""
    return [
        {
            "type": resource.type,
            "name": resource.name,
            "physicalName": resource.physical_name or "",
            "parent": resource.parent_type.rsplit(":", 1)[-1] if resource.parent_type else "",
            "protect": "yes" if resource.protect else "",
        }
        # Registration order is asynchronous; the URN groups children under their parents.
        for resource in sorted(evaluation.resources, key=lambda r: r.urn)
    ]


def violation_rows(violations: list[Violation]) -> list[dict[str, str]]:
    return [
        {
            "policy": v.policy,
            "enforcement": v.enforcement,
            "resource": v.resource,
            "message": v.message,
        }
        for v in violations
    ]


def plan_document(evaluation: Evaluation, seconds: float, violations: list[Violation]) -> dict:
    rows = plan_rows(evaluation)
    custom = evaluation.custom_resources
    return {
        "stack": evaluation.stack,
        "deploymentName": evaluation.outputs.get("deploymentName"),
        "resources": rows,
        "totals": {
            "resources": len(custom),
            "components": len(rows) - len(custom),
            "byType": dict(sorted(Counter(r.type for r in custom).items())),
        },
        "outputs": evaluation.outputs,
        "violations": violation_rows(violations),
        "evaluationSeconds": round(seconds, 2),
    }


def _table(rows: list[dict[str, str]], columns: list[str], out: TextIO) -> None:
    lines = table_lines([[r[c] for c in columns] for r in rows], [c.upper() for c in columns])
    out.write("".join(line + "\n" for line in lines))


def _print_violations(rows: list[dict[str, str]], out: TextIO) -> None:
    if rows:
        _table(rows, ["policy", "enforcement", "resource", "message"], out)
    else:
        out.write("  none\n")


def print_plan(document: dict, out: TextIO) -> None:
    out.write(f"Stack {document['stack']} -> deployment {document['deploymentName']}\n\n")
    _table(document["resources"], ["type", "name", "physicalName", "parent", "protect"], out)
    totals = document["totals"]
    out.write(
        f"\n{totals['resources']} resources in {totals['components']} components "
        f"(evaluated offline in {document['evaluationSeconds']} s):\n"
    )
    for resource_type, count in totals["byType"].items():
        out.write(f"  {count:3d}  {resource_type}\n")
    out.write("\nOutputs:\n")
    for key, value in document["outputs"].items():
        out.write(f"  {key}: {value}\n")
    out.write("\nPolicy violations:\n")
    _print_violations(document["violations"], out)
    out.write("\n")


def run_plan(
    stacks: list[str],
    as_json: bool,
    project_dir: Path = REPO_ROOT,
    policy_config: dict[str, Any] | None = None,
    bootstrap: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Evaluate ``stacks`` (all of them when empty); 1 if any mandatory rule is broken.

    With ``bootstrap``, the bootstrap program (``<project>/bootstrap``) is evaluated instead;
    its stacks are the same deployments, named by the main project's stack files.
    """
    out, err = out or sys.stdout, err or sys.stderr
    root, program = project_dir, None
    if bootstrap:
        from infra.bootstrap.program import build as program

        root = project_dir / "bootstrap"
    everything = not stacks
    stacks = stacks or sorted(stack_files(root))
    evaluations: dict[str, Evaluation] = {}
    documents = []
    violations: list[Violation] = []
    for stack in stacks:
        err.write(
            f"evaluating stack '{stack}' under pulumi mocks (builds and proves packages)...\n"
        )
        evaluation, document, found = _plan_stack(stack, root, program, project_dir, policy_config)
        evaluations[stack] = evaluation
        violations += found
        documents.append(document)
    across = evaluate_across_stacks(evaluations, policy_config) if everything else []
    violations += across
    if as_json:
        payload: dict[str, Any] = (
            documents[0]
            if not everything
            else {
                "stacks": documents,
                "acrossStacks": violation_rows(across),
            }
        )
        json.dump(payload, out, indent=2)
        out.write("\n")
    else:
        for document in documents:
            print_plan(document, out)
        if everything:
            out.write(f"Across stacks ({', '.join(stacks)}):\n")
            _print_violations(violation_rows(across), out)
    return _verdict(violations, len(stacks), err)


def _plan_stack(
    stack: str,
    root: Path,
    program: Any,
    project_dir: Path,
    policy_config: dict[str, Any] | None,
    stack_config: dict[str, str] | None = None,
) -> tuple[Evaluation, dict, list[Violation]]:
    """One stack evaluated under mocks, its plan document and the pack's verdicts on it."""
    started = time.perf_counter()
    evaluation = evaluate(
        stack, root=root, program=program, deployment_root=project_dir, stack_config=stack_config
    )
    seconds = time.perf_counter() - started
    found = evaluate_stack(evaluation, policy_config)
    return evaluation, plan_document(evaluation, seconds, found), found


def _verdict(violations: list[Violation], stacks: int, err: TextIO) -> int:
    """Say how many rules were broken; 1 if any was mandatory."""
    mandatory = [v for v in violations if v.mandatory]
    err.write(
        f"{len(violations)} policy violation(s), {len(mandatory)} mandatory, in {stacks} stack(s)\n"
    )
    return 1 if mandatory else 0


def run_target_plan(
    stack: str,
    account: str,
    orchestrator_account: str | None,
    as_json: bool,
    project_dir: Path = REPO_ROOT,
    policy_config: dict[str, Any] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Evaluate the target-account program for ``account`` of ``stack``'s deployment.

    Its stack, ``<stack>.<account>``, is read from this repository's ``target/`` when the
    file exists; before it does, ``orchestrator_account`` stands for it. ``project_dir`` holds
    the main stack files. 1 if a mandatory rule is broken.
    """
    from infra.stacks import stack_files, target_stack
    from infra.target.program import build as program
    from infra.target.settings import DECLARATION, MAIN_ROOT

    out, err = out or sys.stdout, err or sys.stderr
    root, name = REPO_ROOT / "target", target_stack(stack, account)
    stack_config = None
    if name not in stack_files(root):
        if not orchestrator_account:
            from drsctl.cli import UsageError

            msg = (
                f"no {root}/Pulumi.{name}.yaml: give --orchestrator-account, the account "
                f"stack '{stack}' deploys to"
            )
            raise UsageError(msg)
        stack_config = {DECLARATION.key("orchestratorAccount").full_name: orchestrator_account}
    err.write(f"evaluating target stack '{name}' under pulumi mocks...\n")
    token = MAIN_ROOT.set(project_dir)
    try:
        _, document, violations = _plan_stack(
            name, root, program, project_dir, policy_config, stack_config
        )
    finally:
        MAIN_ROOT.reset(token)
    if as_json:
        json.dump(document, out, indent=2)
        out.write("\n")
    else:
        print_plan(document, out)
    return _verdict(violations, 1, err)
