"""Validated settings of a target-account stack: the main stack's deployment and targets,
and the account the deployment runs in.

A target stack is named ``<main stack>.<account id>`` (``dev.111122223333``): the main
stack file says which deployment the role serves and, in ``drsTargets``, the regions,
role name and external id of that account; the target stack adds only
``orchestratorAccount``, where the deployment's function roles live.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

from infra.naming import FUNCTION_SHORT_NAMES
from infra.project_config import Declaration, running_stack_config
from infra.settings import Settings, SettingsError, load_settings
from infra.stacks import REPO_ROOT, load_stack_config, split_target_stack
from infra.targets import ACCOUNT_ID_PATTERN

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

#: The target project's keys, as its ``Pulumi.yaml`` declares them.
DECLARATION = Declaration.of(REPO_ROOT / "target" / "Pulumi.yaml")
TARGET_PROJECT = DECLARATION.project

#: Where the main project's stack files are read from (offline runs and tests point it
#: elsewhere; a real ``pulumi up`` in ``target/`` reads the repository's).
MAIN_ROOT: ContextVar[Path] = ContextVar("main_root", default=REPO_ROOT)


@dataclass(frozen=True)
class TargetSettings:
    """Everything the target program needs for one deployment in one account."""

    stack: str
    deployment: Settings
    account_id: str
    orchestrator_account: str
    role_name: str
    external_id: str
    regions: tuple[str, ...]

    def trusted_role_arns(self) -> list[str]:
        """The deployment's function roles: the only principals that may assume the role."""
        naming, partition = self.deployment.naming, self.deployment.partition
        return [
            f"arn:{partition}:iam::{self.orchestrator_account}:role/{naming.function_role(short)}"
            for short in FUNCTION_SHORT_NAMES
        ]


class TargetSettingsError(SettingsError):
    """A target stack's name, config or main stack does not hold together."""


def load_target_settings(stack: str, config: Mapping[str, str]) -> TargetSettings:
    """Validate target stack ``stack``: its name, its config and its main stack's targets."""
    parts = split_target_stack(stack)
    if parts is None:
        msg = "must be named <main stack>.<12-digit account id>, e.g. 'dev.111122223333'"
        raise TargetSettingsError(stack, [f"stack name '{stack}' {msg}"])
    main_stack, account = parts
    try:
        deployment = load_settings(main_stack, load_stack_config(main_stack, MAIN_ROOT.get()))
    except SettingsError as exc:
        raise TargetSettingsError(stack, [f"main stack file: {p}" for p in exc.problems]) from exc

    values = DECLARATION.read(config)
    problems = values.problems
    orchestrator = values.string("orchestratorAccount")
    if orchestrator and not ACCOUNT_ID_PATTERN.fullmatch(orchestrator):
        values.problem("orchestratorAccount", f"'{orchestrator}' is not an AWS account id")

    mine = [t for t in deployment.targets if t.account_id == account]
    if not mine:
        listed = ", ".join(t.key for t in deployment.targets) or "none"
        problems.append(
            f"account {account} is not a target of stack '{main_stack}' (its drsTargets: {listed})"
        )
    if problems:
        raise TargetSettingsError(stack, problems)
    return TargetSettings(
        stack=stack,
        deployment=deployment,
        account_id=account,
        orchestrator_account=orchestrator,
        role_name=mine[0].role_name,
        external_id=mine[0].external_id,
        regions=tuple(sorted(t.region for t in mine)),
    )


def from_pulumi() -> TargetSettings:
    return load_target_settings(*running_stack_config())
