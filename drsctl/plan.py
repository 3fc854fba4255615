"""``drsctl plan <stack>``: what a stack would deploy, evaluated offline under mocks."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from typing import TYPE_CHECKING, TextIO

from infra.offline import REPO_ROOT, Evaluation, evaluate

if TYPE_CHECKING:
    from pathlib import Path


def plan_rows(evaluation: Evaluation) -> list[dict[str, str]]:
    """One row per resource, components included, in declaration order."""
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


def plan_document(evaluation: Evaluation, seconds: float) -> dict:
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
        "evaluationSeconds": round(seconds, 2),
    }


def _table(rows: list[dict[str, str]], columns: list[str], out: TextIO) -> None:
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}
    out.write("  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip() + "\n")
    for row in rows:
        out.write("  ".join(row[c].ljust(widths[c]) for c in columns).rstrip() + "\n")


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


def run_plan(
    stack: str,
    as_json: bool,
    project_dir: Path = REPO_ROOT,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    err.write(f"evaluating stack '{stack}' under pulumi mocks (builds and proves packages)...\n")
    started = time.perf_counter()
    evaluation = evaluate(stack, root=project_dir)
    document = plan_document(evaluation, time.perf_counter() - started)
    if as_json:
        json.dump(document, out, indent=2)
        out.write("\n")
    else:
        print_plan(document, out)
    return 0
