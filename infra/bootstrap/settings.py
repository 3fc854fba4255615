"""Validated settings of a bootstrap stack: the main stack's settings plus CI trust."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from infra.settings import Settings, SettingsError, load_settings
from infra.stacks import REPO_ROOT, load_stack_config

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

BOOTSTRAP_PROJECT = "drs-orchestrator-bootstrap"
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

KEYS = {
    "githubRepository": "owner/name of the repository whose workflows may assume the CI roles",
    "deployBranch": "branch whose workflow runs may deploy (default main)",
    "githubEnvironment": "GitHub environment of this stack's deploy job (default: the stack name)",
    "oidcProvider": "'create', 'existing' (the account's GitHub provider) or the provider's ARN",
    "noncurrentVersionDays": "days a non-current object version is kept (default 90)",
    "adminPrincipalArns": "JSON list of role/user ARNs that may also read the bucket",
    "storePulumiState": "true to keep Pulumi state in the bucket under pulumi-state/",
    "manageApiGatewayAccount": "true in one stack per account: set API Gateway's CloudWatch role",
}
DEFAULTS = {
    "deployBranch": "main",
    "oidcProvider": "create",
    "noncurrentVersionDays": "90",
    "adminPrincipalArns": "[]",
    "storePulumiState": "true",
    "manageApiGatewayAccount": "false",
}


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
    problems: list[str] = []
    try:
        deployment = load_settings(stack, load_stack_config(stack, main_root))
    except SettingsError as exc:
        problems.extend(f"main stack file: {p}" for p in exc.problems)
        deployment = None

    for key in config:
        name = key.split(":", 1)[1] if key.startswith(f"{BOOTSTRAP_PROJECT}:") else None
        if name is not None and name not in KEYS:
            problems.append(f"'{key}': unknown configuration key")

    def value(name: str) -> str:
        raw = str(config.get(f"{BOOTSTRAP_PROJECT}:{name}") or "").strip()
        return raw or DEFAULTS.get(name, "")

    def problem(name: str, rule: str) -> None:
        problems.append(f"'{BOOTSTRAP_PROJECT}:{name}': {rule}")

    repository = value("githubRepository")
    if not repository:
        problem("githubRepository", f"required ({KEYS['githubRepository']})")
    elif not REPOSITORY_PATTERN.fullmatch(repository):
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
    days_raw = value("noncurrentVersionDays")
    days = int(days_raw) if days_raw.isdigit() else 0
    if days < 1:
        problem("noncurrentVersionDays", f"must be a whole number of days >= 1, got '{days_raw}'")
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
    state = value("storePulumiState").lower()
    if state not in ("true", "false"):
        problem("storePulumiState", f"must be true or false, got '{state}'")

    account = value("manageApiGatewayAccount").lower()
    if account not in ("true", "false"):
        problem("manageApiGatewayAccount", f"must be true or false, got '{account}'")

    if problems or deployment is None:
        raise SettingsError(stack, problems)
    return BootstrapSettings(
        deployment=deployment,
        repository=repository,
        deploy_branch=branch,
        environment=environment,
        oidc_provider=oidc,
        noncurrent_version_days=days,
        admin_principal_arns=admins,
        store_pulumi_state=state == "true",
        manage_api_gateway_account=account == "true",
    )


def from_pulumi() -> BootstrapSettings:
    import pulumi
    from pulumi.runtime.config import CONFIG, get_config_env

    config = {**get_config_env(), **CONFIG.get()}
    return load_bootstrap_settings(pulumi.get_stack(), {k: str(v) for k, v in config.items()})
