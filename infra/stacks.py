"""The project's stacks as their files describe them: names and flattened config.

Light on purpose (PyYAML only): the offline evaluator and the policy pack both read stack
files through here, so they agree on every stack's deployment name and settings.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from infra.project_config import Declaration, config_string

REPO_ROOT = Path(__file__).resolve().parents[1]
PROJECT = "drs-orchestrator"
#: A target-account stack (``infra/target``) serves the deployment of ``<main stack>`` in
#: one account: ``<main stack>.<account id>``.
TARGET_STACK_PATTERN = re.compile(r"^(?P<main>[A-Za-z0-9_-]+)\.(?P<account>\d{12})$")


def target_stack(main_stack: str, account_id: str) -> str:
    """The target project's stack for ``account_id`` of ``main_stack``'s deployment."""
    return f"{main_stack}.{account_id}"


def split_target_stack(stack: str) -> tuple[str, str] | None:
    """``(main stack, account id)`` of a target-account stack; None for any other stack."""
    match = TARGET_STACK_PATTERN.fullmatch(stack)
    return (match["main"], match["account"]) if match else None


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
    config = Declaration.of(root / "Pulumi.yaml").defaults()
    stack_doc = yaml.safe_load(files[stack].read_text()) or {}
    for key, value in (stack_doc.get("config") or {}).items():
        if isinstance(value, dict) and "secure" in value:
            value = "[secret]"  # offline runs never decrypt
        config[key] = config_string(value)
    return config
