"""The plan file: protection groups and one recovery plan, in the API's own schemas.

```yaml
protectionGroups:
  - name: Orders databases
    sourceServerIds: [s-0db00000000000001]
recoveryPlan:
  name: Orders three-tier
  waves:
    - {name: Databases, protectionGroups: [Orders databases]}
```

A group without ``region`` gets each deployment's own. Everything is checked with the
request schemas of the API (``lambdas/drs_orchestrator/api/openapi.json``) before anything
is sent, every problem named with its place in the file.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml
from drs_orchestrator.api import schemas

if TYPE_CHECKING:
    from pathlib import Path

TOP_LEVEL = {"protectionGroups", "recoveryPlan"}


class PlanFileError(ValueError):
    """Raised when a plan file cannot be read or breaks the API's schemas."""


@dataclass(frozen=True)
class PlanFile:
    path: Path
    groups: list[dict[str, Any]]
    plan: dict[str, Any]

    def for_region(self, region: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """The groups (missing regions filled in) and the plan, checked against the API."""
        groups = [{"region": region, **copy.deepcopy(g)} for g in self.groups]
        problems = []
        for index, group in enumerate(groups):
            for problem in schemas.validate_body("POST", "/protection-groups", group):
                problems.append(f"protectionGroups[{index}].{problem.field}: {problem.reason}")
        for problem in schemas.validate_body("POST", "/recovery-plans", self.plan):
            problems.append(f"recoveryPlan.{problem.field}: {problem.reason}")
        known = {g.get("name") for g in groups}
        for w, wave in enumerate(self.plan.get("waves", [])):
            for g, name in enumerate(wave.get("protectionGroups", [])):
                if name not in known:
                    problems.append(
                        f"recoveryPlan.waves[{w}].protectionGroups[{g}]: '{name}' is not "
                        "among the file's protectionGroups"
                    )
        if problems:
            msg = f"{self.path}: " + "; ".join(problems)
            raise PlanFileError(msg)
        return groups, copy.deepcopy(self.plan)


def load_plan_file(path: Path) -> PlanFile:
    try:
        text = path.read_text()
    except OSError as exc:
        msg = f"cannot read plan file {path}: {exc}"
        raise PlanFileError(msg) from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        msg = f"{path} is not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}"
        raise PlanFileError(msg) from exc
    if not isinstance(data, dict):
        msg = f"{path}: expected a mapping with protectionGroups and recoveryPlan"
        raise PlanFileError(msg)
    unknown = sorted(set(data) - TOP_LEVEL)
    missing = sorted(TOP_LEVEL - set(data))
    if unknown or missing:
        parts = [f"unknown key '{k}'" for k in unknown] + [f"missing '{k}'" for k in missing]
        msg = f"{path}: " + "; ".join(parts)
        raise PlanFileError(msg)
    groups, plan = data["protectionGroups"], data["recoveryPlan"]
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        msg = f"{path}: protectionGroups must be a list of protection groups"
        raise PlanFileError(msg)
    if not isinstance(plan, dict):
        msg = f"{path}: recoveryPlan must be one recovery plan"
        raise PlanFileError(msg)
    planfile = PlanFile(path, groups, plan)
    planfile.for_region("us-east-1")  # the schemas, before any deployment is touched
    return planfile
