"""Rules of the drs-orchestrator policy pack, grouped by domain.

Each rule is a plain ``pulumi_policy`` policy object, so the same objects run inside
``pulumi preview --policy-pack policy`` and in the offline evaluator (``drs_policy.offline``)
that ``drsctl plan`` uses on the resources a mock run registers.
"""

from __future__ import annotations

from drs_policy import audit, compute, identity, isolation, network, orchestration, storage

POLICIES = [
    *isolation.POLICIES,
    *identity.POLICIES,
    *storage.POLICIES,
    *compute.POLICIES,
    *network.POLICIES,
    *orchestration.POLICIES,
    *audit.POLICIES,
]

__all__ = ["POLICIES"]
