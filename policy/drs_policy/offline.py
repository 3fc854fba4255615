"""Evaluate the pack's rules without the Pulumi CLI, on resources a mock run registered.

The same policy objects the pack serves to the engine are called here with the same
arguments (``ResourceValidationArgs`` per resource, ``StackValidationArgs`` per stack), with
policy config defaults taken from each rule's schema, so ``drsctl plan`` shows the verdicts
``pulumi preview --policy-pack policy`` gives.
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from drs_policy import POLICIES
from drs_policy.context import (
    facts_for,
    mentions_other,
    other_deployment_names,
    project_root,
    stacks_sharing_deployment,
    strings_in,
)

if TYPE_CHECKING:
    from infra.offline import Evaluation, RegisteredResource


@dataclass(frozen=True)
class Violation:
    """One policy violation, as the engine would report it."""

    policy: str
    enforcement: str
    message: str
    urn: str | None = None

    @property
    def mandatory(self) -> bool:
        return self.enforcement == EnforcementLevel.MANDATORY.value

    @property
    def resource(self) -> str:
        return self.urn.split("::")[-1] if self.urn else "(stack)"


def policy_config(policy: Policy, config: Mapping[str, Any] | None) -> dict[str, Any]:
    """Schema defaults of ``policy`` overlaid with ``config[policy.name]``."""
    values: dict[str, Any] = {}
    schema = policy.config_schema
    if schema is not None:
        values.update({k: v["default"] for k, v in schema.properties.items() if "default" in v})
    own = (config or {}).get(policy.name)
    if isinstance(own, Mapping):
        values.update({k: v for k, v in own.items() if k != "enforcementLevel"})
    return values


def enforcement_of(policy: Policy, config: Mapping[str, Any] | None) -> str:
    own = (config or {}).get(policy.name)
    if isinstance(own, str):
        return own
    if isinstance(own, Mapping) and "enforcementLevel" in own:
        return str(own["enforcementLevel"])
    level = policy.enforcement_level or EnforcementLevel.MANDATORY
    return level.value


def _options(resource: RegisteredResource) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=resource.protect,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=resource.parent_urn or None,
    )


def _run(validate: Any, args: Any, collect: Any) -> None:
    result = validate(args, collect)
    if inspect.isawaitable(result):  # pragma: no cover - the pack's rules are synchronous
        msg = "asynchronous policies are not supported offline"
        raise TypeError(msg)


def evaluate_policies(
    resources: Sequence[RegisteredResource],
    policies: Iterable[Policy] = POLICIES,
    config: Mapping[str, Any] | None = None,
) -> list[Violation]:
    """Every violation the rules report for one stack's resources."""
    violations: list[Violation] = []
    stack_resources = [
        PolicyResource(r.type, r.inputs, r.urn, r.name, _options(r), None, None, [], {})
        for r in resources
    ]
    for policy in policies:
        level = enforcement_of(policy, config)
        if level == EnforcementLevel.DISABLED.value:
            continue
        settings = policy_config(policy, config)

        def collect(
            message: str,
            urn: str | None = None,
            *,
            _p: Policy = policy,
            _level: str = level,
            _default: str | None = None,
        ) -> None:
            violations.append(Violation(_p.name, _level, message, urn or _default))

        if isinstance(policy, ResourceValidationPolicy):
            for resource in resources:
                args = ResourceValidationArgs(
                    resource.type,
                    resource.inputs,
                    resource.urn,
                    resource.name,
                    _options(resource),
                    None,
                    settings,
                )

                def collect_for(
                    message: str, urn: str | None = None, *, _urn: str = resource.urn
                ) -> None:
                    collect(message, urn or _urn)

                _run(policy.validate, args, collect_for)
        elif isinstance(policy, StackValidationPolicy):
            _run(policy.validate, StackValidationArgs(stack_resources, settings), collect)
    return violations


def evaluate_stack(
    evaluation: Evaluation, config: Mapping[str, Any] | None = None
) -> list[Violation]:
    """The pack's verdicts on one stack, read against that project's stack files."""
    with project_root(evaluation.deployment_root):
        return evaluate_policies(evaluation.resources, config=config)


def evaluate_across_stacks(
    evaluations: Mapping[str, Evaluation], config: Mapping[str, Any] | None = None
) -> list[Violation]:
    """What only a view of every stack together shows: names two deployments both claim,
    and any resource of one stack that mentions another stack's deployment."""
    roots = {evaluation.deployment_root for evaluation in evaluations.values()}
    if len(roots) != 1:
        msg = f"stacks evaluated from different projects: {sorted(map(str, roots))}"
        raise ValueError(msg)
    with project_root(roots.pop()):
        return _across_stacks(evaluations, config)


def _across_stacks(
    evaluations: Mapping[str, Evaluation], config: Mapping[str, Any] | None
) -> list[Violation]:
    mandatory = EnforcementLevel.MANDATORY.value
    violations: list[Violation] = []
    for stack in sorted(evaluations):
        shared = stacks_sharing_deployment(stack, config)
        if shared:
            violations.append(
                Violation(
                    "deployment-name-unique",
                    mandatory,
                    f"stack {stack} shares its deployment name with {', '.join(shared)}",
                )
            )
    claims: dict[str, list[tuple[str, RegisteredResource]]] = defaultdict(list)
    for stack, evaluation in sorted(evaluations.items()):
        for resource in evaluation.custom_resources:
            if resource.physical_name:
                claims[resource.physical_name].append((stack, resource))
    for name, owners in sorted(claims.items()):
        stacks = sorted({stack for stack, _ in owners})
        if len(stacks) > 1:
            violations.append(
                Violation(
                    "stacks-share-no-physical-name",
                    mandatory,
                    f"physical name '{name}' is claimed by stacks {', '.join(stacks)}",
                    owners[-1][1].urn,
                )
            )
    for stack, evaluation in sorted(evaluations.items()):
        for resource in evaluation.resources:
            facts = facts_for(resource.urn, config)
            own = facts.deployment_name if facts else ""
            others = other_deployment_names(own, config)
            for path, text in strings_in(resource.inputs):
                other = mentions_other(text, own, others)
                if other:
                    violations.append(
                        Violation(
                            "no-cross-deployment-references",
                            mandatory,
                            f"stack {stack}: property '{path}' refers to deployment '{other}'",
                            resource.urn,
                        )
                    )
    return violations
