"""Readiness for failback: can the workload a recovery launched go home now, and how much
data must move first (issue 19, part 2)?

``evaluate`` takes a finished recovery (its waves, and for each launched server its recovery
instance id and the DRS target it runs in), what DRS says of each recovery instance
(a DescribeRecoveryInstances item, or None when it no longer exists), and the DRS targets
(account/region keys) the deployment can reach. Per server:

- the recovery instance must still exist and run (terminated: nothing to fail back);
- launched from an AWS source (``originEnvironment`` AWS): it fails back by reverse
  replication to its origin, which the deployment must reach as home or a DRS target to
  launch there; from on premises: the failback client must be booted on the original
  machine and connected (until then, a warning naming the step);
- its failback replication, once started: in progress (a warning, with its lag), ready for
  launch (passed), failed (action required, with DRS's error);
- the data still to move: the instance's disks, less what failback replication has copied.

Pure: DRS's answers in, the same ``Readiness`` findings as plan readiness out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from drs_orchestrator.domain.readiness import Finding, Readiness, Severity, State

if TYPE_CHECKING:
    from collections.abc import Mapping

#: EC2 states in which a recovery instance can still fail back.
ALIVE = frozenset({"PENDING", "RUNNING", "STOPPING", "STOPPED"})


@dataclass(frozen=True)
class LaunchedServer:
    """A server a recovery launched: its wave, recovery instance and where it runs."""

    server: str
    wave: str
    instance: str
    #: The DRS target key it runs in (None: the deployment's home).
    target: str | None = None
    #: ``account/region`` of an AWS source (its ``sourceCloudProperties``); None: on
    #: premises, or not known.
    origin: str | None = None


@dataclass(frozen=True)
class FailbackReadiness:
    """The verdict, and per server the bytes failback replication must still copy."""

    readiness: Readiness
    bytes_to_move: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.readiness.as_dict(),
            "bytesToMove": dict(sorted(self.bytes_to_move.items())),
            "totalBytesToMove": sum(self.bytes_to_move.values()),
        }


def launched_servers(execution: Mapping[str, Any]) -> list[LaunchedServer]:
    """The servers a recovery execution launched, each with its recovery instance."""
    jobs = execution.get("jobs") or {}
    found = []
    for server_id, server in sorted((execution.get("servers") or {}).items()):
        instance = server.get("recoveryInstanceId")
        if server.get("launchStatus") != "LAUNCHED" or not instance:
            continue
        job = jobs.get(server.get("jobId")) or {}
        found.append(
            LaunchedServer(server_id, str(server.get("waveName", "")), instance, job.get("target"))
        )
    return found


def bytes_to_move(instance: Mapping[str, Any]) -> int:
    """The instance's disks less what failback replication has copied so far."""
    replicated = {
        d.get("deviceName"): int(d.get("replicatedStorageBytes") or 0)
        for d in (instance.get("dataReplicationInfo") or {}).get("replicatedDisks") or ()
    }
    disks = (instance.get("recoveryInstanceProperties") or {}).get("disks") or ()
    return sum(
        max(0, int(d.get("bytes") or 0) - replicated.get(d.get("internalDeviceName"), 0))
        for d in disks
    )


def origin_of(server: Mapping[str, Any]) -> str | None:
    """``account/region`` of a source server that is an EC2 instance elsewhere in AWS (a
    DescribeSourceServers item's ``sourceCloudProperties``); None for any other."""
    cloud = server.get("sourceCloudProperties") or {}
    if not cloud.get("originRegion") or not cloud.get("originAccountID"):
        return None
    return f"{cloud['originAccountID']}/{cloud['originRegion']}"


def evaluate(
    launched: list[LaunchedServer],
    instances: Mapping[str, Mapping[str, Any] | None],
    reachable: set[str],
) -> FailbackReadiness:
    """``instances``: DescribeRecoveryInstances items by id (None: gone); ``reachable``:
    the ``account/region`` keys of home and every DRS target the deployment reaches."""
    findings: list[Finding] = []
    moving: dict[str, int] = {}
    for launch in launched:
        instance = instances.get(launch.instance)
        findings += _server_findings(launch, instance, reachable)
        if instance is not None:
            moving[launch.server] = bytes_to_move(instance)
    severities = {f.severity for f in findings}
    state = (
        State.ACTION_REQUIRED
        if Severity.ACTION_REQUIRED in severities
        else State.WARNINGS
        if findings
        else State.PASSED
    )
    return FailbackReadiness(Readiness(state, findings, servers=len(launched)), moving)


def _server_findings(
    launch: LaunchedServer,
    instance: Mapping[str, Any] | None,
    reachable: set[str],
) -> list[Finding]:
    def finding(severity: Severity, check: str, message: str, fix: str) -> Finding:
        return Finding(severity, check, launch.wave, launch.server, message, fix)

    if instance is None or instance.get("ec2InstanceState") not in ALIVE:
        state = instance.get("ec2InstanceState") if instance else "gone"
        return [
            finding(
                Severity.ACTION_REQUIRED,
                "recovery-instance",
                f"its recovery instance {launch.instance} is {state}: there is nothing to "
                "fail back",
                "start a recovery of the server again, or take it out of the failback",
            )
        ]
    found = []
    failback = instance.get("failback") or {}
    state = str(failback.get("state") or "FAILBACK_NOT_STARTED")
    if instance.get("originEnvironment") == "AWS":
        origin = launch.origin
        if origin is not None and origin not in reachable:
            found.append(
                finding(
                    Severity.ACTION_REQUIRED,
                    "failback-origin",
                    f"it came from {origin}, which this deployment does not reach: the "
                    "failback cannot launch there",
                    f"add {origin} to drsTargets (and deploy its target stack)",
                )
            )
    elif state == "FAILBACK_NOT_STARTED" and not failback.get("failbackClientID"):
        found.append(
            finding(
                Severity.WARNING,
                "failback-client",
                "no failback client is connected for it yet",
                "boot the DRS failback client on the original machine (or its replacement) "
                "with this recovery instance's ID",
            )
        )
    if state == "FAILBACK_ERROR":
        error = (instance.get("dataReplicationInfo") or {}).get("dataReplicationError") or {}
        found.append(
            finding(
                Severity.ACTION_REQUIRED,
                "failback-replication",
                f"its failback replication failed: {error.get('error', 'no reason given')}",
                "fix the cause DRS names, then stop and start its failback again",
            )
        )
    elif state in ("FAILBACK_IN_PROGRESS", "FAILBACK_NOT_READY_FOR_LAUNCH"):
        lag = (instance.get("dataReplicationInfo") or {}).get("lagDuration")
        found.append(
            finding(
                Severity.WARNING,
                "failback-replication",
                "its failback replication is not ready for launch yet"
                + (f" (lag {lag})" if lag else ""),
                "wait until DRS shows it ready for launch",
            )
        )
    return found
