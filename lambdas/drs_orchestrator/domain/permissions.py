"""What a recovery plan needs the deployment's roles to be allowed, and how a refusal reads.

A plan's recovery is made by the wave runner (its own role at home) and, in another account
or region, by the role the deployment assumes there (``infra/target``). Each is checked with
IAM's policy simulation (``SimulatePrincipalPolicy``) in the region it acts in: identity
policies, permissions boundaries and the organization's SCPs all count, so a region-deny
SCP or a hand-edited role is found before the day rather than on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

#: What launching and following a wave needs of the role acting in its DRS target (the
#: wave runner's calls: StartRecovery with its dependent actions, and the job's status and
#: log it follows).
RECOVERY_ACTIONS = (
    "drs:StartRecovery",
    "drs:CreateRecoveryInstanceForDrs",
    "drs:TagResource",
    "drs:ListTagsForResource",
    "drs:DescribeJobs",
    "drs:DescribeJobLogItems",
)
#: What pre- and post-wave actions need of the wave runner (always at home).
AUTOMATION_ACTIONS = ("ssm:StartAutomationExecution", "ssm:GetAutomationExecution")
#: Who acts where: the wave runner at home, the target role elsewhere.
RUNNER, TARGET_ROLE = "the wave runner's role", "the role in the target"


@dataclass(frozen=True)
class Need:
    """Actions ``principal`` must be allowed on ``resource`` in ``target`` (its region)."""

    principal: str
    target: str
    region: str
    actions: tuple[str, ...]
    resource: str = "*"


@dataclass(frozen=True)
class Denial:
    """An action the simulation did not allow: ``decision`` is IAM's (``implicitDeny``,
    ``explicitDeny``); ``by_organization`` when an SCP denies it, ``by_boundary`` when the
    role's permissions boundary does; ``role_missing`` when IAM has no such role (every
    action of the need is refused at once)."""

    need: Need
    action: str
    decision: str
    by_organization: bool = False
    by_boundary: bool = False
    role_missing: bool = False

    def reason(self) -> str:
        if self.role_missing:
            return "the role does not exist"
        if self.by_organization:
            return "an SCP of the organization denies it"
        if self.by_boundary:
            return "the role's permissions boundary does not allow it"
        if self.decision == "explicitDeny":
            return "a policy of the role denies it"
        return "no policy of the role allows it"

    def fix(self) -> str:
        if self.by_organization:
            return "ask the organization's administrators to allow it for this role and region"
        if self.need.principal == RUNNER:
            return "deploy this stack again: the wave runner's policy grants it"
        return "update the target stack (infra/target) in that account: its role grants it"


def missing_role(need: Need) -> Denial:
    """The one denial for a need whose role IAM does not have (deleted by hand)."""
    return Denial(need, ", ".join(need.actions), "implicitDeny", role_missing=True)


def denials(need: Need, results: Sequence[Mapping[str, Any]]) -> list[Denial]:
    """The actions of IAM's ``EvaluationResults`` for ``need`` that are not allowed."""
    return [
        Denial(
            need,
            str(result["EvalActionName"]),
            str(result["EvalDecision"]),
            by_organization=(result.get("OrganizationsDecisionDetail") or {}).get(
                "AllowedByOrganizations"
            )
            is False,
            by_boundary=(result.get("PermissionsBoundaryDecisionDetail") or {}).get(
                "AllowedByPermissionsBoundary"
            )
            is False,
        )
        for result in results
        if result.get("EvalDecision") != "allowed"
    ]


def needs(
    home: tuple[str, str],
    targets: Sequence[tuple[str, str, str]],
    *,
    launches_at_home: bool,
    has_actions: bool,
) -> list[Need]:
    """What the plan needs: ``home`` is the deployment's own (key, region); ``targets``
    are (key, region, role ARN) of the other DRS targets its waves launch in. The wave
    runner launches at home itself, assumes each other target's role (which launches
    there), and runs the actions' Automation documents at home."""
    home_key, home_region = home
    found = []
    if launches_at_home:
        found.append(Need(RUNNER, home_key, home_region, RECOVERY_ACTIONS))
    if has_actions:
        found.append(Need(RUNNER, home_key, home_region, AUTOMATION_ACTIONS))
    for key, region, role_arn in targets:
        found.append(Need(RUNNER, home_key, home_region, ("sts:AssumeRole",), role_arn))
        found.append(Need(TARGET_ROLE, key, region, RECOVERY_ACTIONS))
    return found
