"""What the rules know about the project's deployments, and helpers shared by the rules.

A rule learns which stack it is checking from the resource URN, and the stack's deployment
name, bucket and ``protectData`` from the repository's ``Pulumi.<stack>.yaml`` files (the
same reader the offline evaluator uses). Policy config can add or override deployments, and
name further deployments that must never be referenced.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING, Any

from infra.naming import DEPLOYMENT_TAG_KEY, Naming
from infra.project_config import Declaration
from infra.stacks import REPO_ROOT, load_stack_config, split_target_stack, stack_files

if TYPE_CHECKING:
    from pathlib import Path

#: Config schema shared by the rules that need to know the deployments.
DEPLOYMENTS_SCHEMA = {
    "deployments": {
        "type": "object",
        "description": "Stack name -> deployment name, added to those read from the stack files.",
        "additionalProperties": {"type": "string"},
        "default": {},
    },
    "otherDeployments": {
        "type": "array",
        "description": "Further deployment names no resource may mention.",
        "items": {"type": "string"},
        "default": [],
    },
}


@dataclass(frozen=True)
class StackFacts:
    """One stack's deployment as its stack file configures it."""

    stack: str
    deployment_name: str
    deployment_bucket: str
    protect_data: bool


_project_root: ContextVar[Path] = ContextVar("project_root", default=REPO_ROOT)


@contextmanager
def project_root(root: Path) -> Iterator[None]:
    """Read stack files from ``root`` instead of this repository (offline runs, tests)."""
    token = _project_root.set(root)
    try:
        yield
    finally:
        _project_root.reset(token)


def _stack_file_facts() -> dict[str, StackFacts]:
    return _facts_in(_project_root.get())


@cache
def _facts_in(root: Path) -> dict[str, StackFacts]:
    # The keys, their types and defaults come from the project's Pulumi.yaml through the
    # reader the program validates with; a stack file's problems are the program's to report.
    declaration = Declaration.of(root / "Pulumi.yaml")
    facts = {}
    for stack in stack_files(root):
        values = declaration.read(load_stack_config(stack, root))
        name = values.string("deploymentName")
        protect = values.boolean("protectData")
        facts[stack] = StackFacts(
            stack=stack,
            deployment_name=name,
            deployment_bucket=values.string("deploymentBucket") or Naming(name).deployment_bucket(),
            protect_data=True if protect is None else protect,
        )
    return facts


def known_stacks(config: Mapping[str, Any] | None = None) -> dict[str, StackFacts]:
    """Every known stack: the repository's stack files, plus those in policy config."""
    facts = dict(_stack_file_facts())
    for stack, name in ((config or {}).get("deployments") or {}).items():
        base = facts.get(stack)
        facts[stack] = StackFacts(
            stack, name, Naming(name).deployment_bucket(), base.protect_data if base else True
        )
    return facts


def stacks_sharing_deployment(stack: str, config: Mapping[str, Any] | None = None) -> list[str]:
    """Other known stacks configured with the same deployment name as ``stack``."""
    stacks = known_stacks(config)
    own = stacks.get(stack)
    if own is None:
        return []
    return sorted(
        s for s, f in stacks.items() if s != stack and f.deployment_name == own.deployment_name
    )


def stack_of(urn: str) -> str:
    """``urn:pulumi:<stack>::<project>::...`` -> ``<stack>``."""
    return urn.split("::", 1)[0].split(":")[-1]


def main_stack(stack: str) -> str:
    """The main project's stack a stack belongs to: a target account's stack serves the
    deployment of ``<main stack>``; every other stack is its own."""
    parts = split_target_stack(stack)
    return parts[0] if parts else stack


def facts_for(urn: str, config: Mapping[str, Any] | None = None) -> StackFacts | None:
    return known_stacks(config).get(main_stack(stack_of(urn)))


def unknown_stack_message(urn: str) -> str:
    return (
        f"stack '{stack_of(urn)}' has no Pulumi.{stack_of(urn)}.yaml and is not in the policy "
        "config 'deployments'; the pack cannot tell which deployment it is"
    )


def other_deployment_names(own: str, config: Mapping[str, Any] | None = None) -> list[str]:
    names = {f.deployment_name for f in known_stacks(config).values()}
    names.update((config or {}).get("otherDeployments") or [])
    return sorted(n for n in names if n and n != own)


def mentions(text: str, name: str) -> bool:
    """Whether ``text`` names ``name`` as a whole segment (not inside a longer word)."""
    return re.search(rf"(?<![a-z0-9]){re.escape(name)}(?![a-z0-9])", text) is not None


def mentions_other(text: str, own: str, others: list[str]) -> str | None:
    """The other deployment ``text`` mentions, once every mention of ``own`` is set aside."""
    stripped = text.replace(own, " ") if own else text
    return next((other for other in others if mentions(stripped, other)), None)


def strings_in(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string inside ``value`` with its property path; JSON documents are opened."""
    if isinstance(value, str):
        document = _json_document(value)
        if document is None:
            yield path, value
        else:  # a policy or ASL document: report the member that names another deployment
            yield from strings_in(document, path)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from strings_in(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from strings_in(item, f"{path}[{index}]")


def _json_document(text: str) -> Any:
    """``text`` parsed when it is a JSON object or array, else None."""
    if text[:1] not in "{[":
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None
    return document if isinstance(document, dict | list) else None


def policy_statements(document: Any) -> list[dict[str, Any]]:
    """The statements of an IAM policy document given as JSON text or a dict."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    if not isinstance(document, Mapping):
        return []
    statements = document.get("Statement", [])
    return [
        s
        for s in ([statements] if isinstance(statements, Mapping) else statements)
        if isinstance(s, Mapping)
    ]


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


@cache
def is_taggable(resource_type: str) -> bool:
    """Whether the pulumi_aws resource class for ``resource_type`` accepts ``tags``."""
    if not resource_type.startswith("aws:"):
        return False
    _, module_path, class_name = resource_type.split(":")
    module_name = module_path.split("/")[0]
    module_name = {"lambda": "lambda_"}.get(module_name, module_name)
    try:
        cls = getattr(import_module(f"pulumi_aws.{module_name}"), class_name)
    except (ImportError, AttributeError):
        return False
    import inspect

    return "tags" in inspect.signature(cls._internal_init).parameters


__all__ = [
    "DEPLOYMENTS_SCHEMA",
    "DEPLOYMENT_TAG_KEY",
    "StackFacts",
    "as_list",
    "facts_for",
    "is_taggable",
    "known_stacks",
    "mentions",
    "mentions_other",
    "other_deployment_names",
    "policy_statements",
    "stack_of",
    "strings_in",
    "unknown_stack_message",
]
