"""Validated settings of a bootstrap stack: the main stack's settings plus CI trust."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from infra.project_config import Declaration, running_stack_config
from infra.settings import Settings, SettingsError, load_settings
from infra.stacks import REPO_ROOT, load_stack_config

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

#: The bootstrap project's keys, as its ``Pulumi.yaml`` declares them.
DECLARATION = Declaration.of(REPO_ROOT / "bootstrap" / "Pulumi.yaml")
BOOTSTRAP_PROJECT = DECLARATION.project
GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
OIDC_AUDIENCE = "sts.amazonaws.com"

REPOSITORY_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
REF_NAME_PATTERN = re.compile(r"^[A-Za-z0-9._/-]{1,255}$")
ENVIRONMENT_PATTERN = re.compile(r"^[A-Za-z0-9 ._-]{1,255}$")
OIDC_ARN_PATTERN = re.compile(
    r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com$"
)
PRINCIPAL_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+$")


@dataclass(frozen=True)
class BootstrapSettings:
    """Everything the bootstrap program needs for one deployment."""

    deployment: Settings
    repository: str
    deploy_branch: str
    environment: str
    oidc_provider: str
    noncurrent_version_days: int
    admin_principal_arns: tuple[str, ...]
    store_pulumi_state: bool
    manage_api_gateway_account: bool = False

    @property
    def deploy_subjects(self) -> list[str]:
        """OIDC ``sub`` claims of runs that may deploy: the branch, or the environment."""
        return [
            f"repo:{self.repository}:ref:refs/heads/{self.deploy_branch}",
            f"repo:{self.repository}:environment:{self.environment}",
        ]

    @property
    def preview_subjects(self) -> list[str]:
        return [f"repo:{self.repository}:pull_request"]


def load_bootstrap_settings(
    stack: str, config: Mapping[str, str], main_root: Path = REPO_ROOT
) -> BootstrapSettings:
    """Validate the bootstrap config of ``stack`` and the main stack file it builds on."""
    main_problems: list[str] = []
    try:
        deployment = load_settings(stack, load_stack_config(stack, main_root))
    except SettingsError as exc:
        main_problems = [f"main stack file: {p}" for p in exc.problems]
        deployment = None

    config_values = DECLARATION.read(config)
    value, problem = config_values.string, config_values.problem

    repository = value("githubRepository")
    if repository and not REPOSITORY_PATTERN.fullmatch(repository):
        problem("githubRepository", f"'{repository}' must be 'owner/name' with no wildcard")
    branch = value("deployBranch")
    if not REF_NAME_PATTERN.fullmatch(branch) or "*" in branch:
        problem("deployBranch", f"'{branch}' must be one branch name, no wildcard")
    environment = value("githubEnvironment") or stack
    if not ENVIRONMENT_PATTERN.fullmatch(environment):
        problem("githubEnvironment", f"'{environment}' is not a GitHub environment name")
    oidc = value("oidcProvider")
    if oidc not in ("create", "existing") and not OIDC_ARN_PATTERN.fullmatch(oidc):
        problem(
            "oidcProvider",
            f"'{oidc}' must be 'create', 'existing' or the ARN of the "
            "account's token.actions.githubusercontent.com provider",
        )
    days = config_values.integer("noncurrentVersionDays")
    if days is not None and days < 1:
        problem("noncurrentVersionDays", f"must be a whole number of days >= 1, got '{days}'")
    admins: tuple[str, ...] = ()
    try:
        parsed = json.loads(value("adminPrincipalArns"))
        if not isinstance(parsed, list):
            raise ValueError
        admins = tuple(str(a) for a in parsed)
    except ValueError:
        problem("adminPrincipalArns", "must be a JSON list of ARNs")
    for arn in admins:
        if not PRINCIPAL_ARN_PATTERN.fullmatch(arn):
            problem("adminPrincipalArns", f"'{arn}' is not an IAM role or user ARN")
    store_state = config_values.boolean("storePulumiState")
    manage_account = config_values.boolean("manageApiGatewayAccount")

    problems = main_problems + config_values.problems
    if problems or deployment is None:
        raise SettingsError(stack, problems)
    return BootstrapSettings(
        deployment=deployment,
        repository=repository,
        deploy_branch=branch,
        environment=environment,
        oidc_provider=oidc,
        noncurrent_version_days=days or 0,
        admin_principal_arns=admins,
        store_pulumi_state=bool(store_state),
        manage_api_gateway_account=bool(manage_account),
    )


def from_pulumi() -> BootstrapSettings:
    return load_bootstrap_settings(*running_stack_config())
