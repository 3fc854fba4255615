"""The drs-orchestrator policy pack: assembles the rules in ``drs_policy`` and serves them.

Run by the Pulumi CLI (``pulumi preview --policy-pack policy``) from a checkout of this
repository: the rules read the repository's stack files and share ``infra/naming.py`` and
``infra/iam.py`` with the program, so both import paths are added here.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from drs_policy import POLICIES  # noqa: E402
from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

PolicyPack(
    name="drs-orchestrator",
    description="Isolation between deployments and safety of every resource the program creates.",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=POLICIES,
)
