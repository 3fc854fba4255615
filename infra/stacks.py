"""The project's stacks as their files describe them: names and flattened config.

Light on purpose (PyYAML only): the offline evaluator and the policy pack both read stack
files through here, so they agree on every stack's deployment name and settings.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from infra.project_config import Declaration, config_string

REPO_ROOT = Path(__file__).resolve().parents[1]
PROJECT = "drs-orchestrator"


class UnknownStackError(LookupError):
    """Raised when no ``Pulumi.<stack>.yaml`` exists for the requested stack."""


def stack_files(root: Path = REPO_ROOT) -> dict[str, Path]:
    """Every stack of the project in ``root``, by name."""
    return {
        path.name[len("Pulumi.") : -len(".yaml")]: path
        for path in sorted(root.glob("Pulumi.*.yaml"))
    }


def project_name(root: Path = REPO_ROOT) -> str:
    """The ``name`` in ``root/Pulumi.yaml``: the project, and its config namespace."""
    return Declaration.of(root / "Pulumi.yaml").project


def load_stack_config(stack: str, root: Path = REPO_ROOT) -> dict[str, str]:
    """The flattened config of ``stack``: project defaults overlaid by the stack file."""
    files = stack_files(root)
    if stack not in files:
        known = ", ".join(files) or "none"
        msg = f"unknown stack '{stack}': no Pulumi.{stack}.yaml in {root} (stacks: {known})"
        raise UnknownStackError(msg)
    declared = Declaration.of(root / "Pulumi.yaml").keys.values()
    config = {key.full_name: key.default for key in declared if key.default is not None}
    stack_doc = yaml.safe_load(files[stack].read_text()) or {}
    for key, value in (stack_doc.get("config") or {}).items():
        if isinstance(value, dict) and "secure" in value:
            value = "[secret]"  # offline runs never decrypt
        config[key] = config_string(value)
    return config
