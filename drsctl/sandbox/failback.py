"""The DRS simulator's recovery instances and their failback (issue 19, the simulator's part).

Every server a LAUNCH job launches becomes a recovery instance (``DescribeRecoveryInstances``,
paginated, filtered by ids or source servers) until it is terminated. Failback, as the DRS
API offers it (shapes held to botocore's model like every other operation):

- **AWS to AWS** (``originEnvironment`` AWS: the source server is an EC2 instance of another
  region or account, ``sourceCloudProperties``): ``ReverseReplication`` starts replicating
  the recovery instance back to its origin and answers the ARN of the reversed-direction
  source server there (put in the origin's DRS, when ``origin_drs`` finds that simulator:
  ``replicationDirection`` FAILBACK, replicating continuously, so a recovery of it there
  launches the workload home); the instance's ``failback.state`` goes FAILBACK_IN_PROGRESS, then
  FAILBACK_READY_FOR_LAUNCH once that replication is continuous.
- **On premises** (``originEnvironment`` ON_PREMISES): the failback client, booted on the
  original machine, connects (``connect_failback_client``: the operator's step, played by
  the sandbox's controls and the tests) and replicates; the state goes the same way.
  ``StartFailbackLaunch`` then launches the failback (a LAUNCH job initiated by FAILBACK);
  when it ends the state is FAILBACK_COMPLETED. ``StopFailback`` stops it.
- ``StartReplication`` restarts a source server's forward replication (INITIATING, then
  CONTINUOUS on the next read).

Failback moves one step per read (``DescribeRecoveryInstances``, with ``autopilot``) or per
``pace_seconds``; ``stall_failback`` makes an instance's failback fail (FAILBACK_ERROR).
Assumptions where the API reference is silent: a drill's instances cannot fail back (their
origin is still live), and an instance that is failing back cannot be terminated.
"""

from __future__ import annotations

import json
import string
from collections import deque
from typing import TYPE_CHECKING, Any

from drsctl.sandbox.drs_forms import DrsError, iso, page, random_id

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

#: How a failback moves on, one step per read.
_NEXT_STATE = {
    "FAILBACK_IN_PROGRESS": "FAILBACK_READY_FOR_LAUNCH",
}


class FailbackOperations:
    """Recovery instances and failback, mixed into ``DrsSimulator`` (which holds the
    lock, the clock, jobs and source servers these read)."""

    #: Recovery instances by id, from launch to termination.
    recovery_instances: dict[str, dict[str, Any]]
    #: Origin (region, account) of each source server that is an EC2 instance elsewhere in
    #: AWS (AWS-to-AWS replication); the others are on premises.
    origins: dict[str, tuple[str, str]]
    #: Instances whose failback fails at its next step.
    stalled_failbacks: set[str]
    #: The reversed-direction source server of each instance replicating back (its ARN).
    reversed_servers: dict[str, str]

    #: The DRS simulator of an origin (region, account), where a reversed server appears.
    origin_drs: Callable[[str, str], FailbackOperations | None] | None

    def _init_failback(self) -> None:
        self.recovery_instances = {}
        self.origins = {}
        self.stalled_failbacks = set()
        self.reversed_servers = {}
        self.origin_drs = None
        #: Reversed servers other simulators sent here, added under this one's own lock at
        #: its next request (never under the sender's: no two locks are ever held at once).
        self._arriving: deque[dict[str, Any]] = deque()
        #: When each paced failback replication moves on (``time.monotonic`` seconds).
        self._failback_due: dict[str, float] = {}

    # -- what launches make --------------------------------------------------------------

    def _launched(self, job: dict[str, Any], server: dict[str, Any], instance_id: str) -> None:
        """The recovery instance of a server a job launched (DRS names it by its EC2
        instance)."""
        sid = server["sourceServerID"]
        origin = self.origins.get(sid)
        item: dict[str, Any] = {
            "recoveryInstanceID": instance_id,
            "arn": f"arn:aws:drs:{self.region}:{self.account}:recovery-instance/{instance_id}",  # type: ignore[attr-defined]
            "ec2InstanceID": instance_id,
            "ec2InstanceState": "RUNNING",
            "sourceServerID": sid,
            "jobID": job["jobID"],
            "isDrill": job.get("initiatedBy") == "START_DRILL",
            "originEnvironment": "AWS" if origin else "ON_PREMISES",
            "tags": dict(job.get("tags") or {}),
            "failback": {"state": "FAILBACK_NOT_STARTED"},
        }
        if origin:
            item["originAvailabilityZone"] = f"{origin[0]}a"
        self.recovery_instances[instance_id] = item

    def _terminated(self, instance_ids: Iterable[str]) -> None:
        for instance_id in instance_ids:
            self.recovery_instances.pop(instance_id, None)

    # -- the operator's steps (the sandbox's controls, the tests) ----------------------

    def connect_failback_client(self, instance_id: str) -> None:
        """The failback client booted on the original on-premises machine connects and
        starts replicating this recovery instance back."""

        with self._lock:  # type: ignore[attr-defined]
            instance = self._instance(instance_id)
            if instance["originEnvironment"] != "ON_PREMISES":
                msg = f"{instance_id} came from AWS: it fails back by ReverseReplication"
                raise DrsError("ValidationException", 400, msg)
            instance["failback"].update(
                state="FAILBACK_IN_PROGRESS",
                failbackClientID=random_id("fbc-", 12, string.ascii_lowercase + string.digits),
                failbackInitiationTime=self._now(),
                failbackToOriginalServer=True,
            )

    def stall_failback(self, instance_id: str) -> None:
        """The instance's failback replication fails at its next step (FAILBACK_ERROR)."""
        with self._lock:  # type: ignore[attr-defined]
            self.stalled_failbacks.add(instance_id)

    # -- operations ----------------------------------------------------------------------

    def _instance(self, instance_id: str) -> dict[str, Any]:

        instance = self.recovery_instances.get(instance_id)
        if instance is None:
            msg = f"recovery instance {instance_id} not found"
            raise DrsError("ResourceNotFoundException", 404, msg)
        return instance

    def _now(self) -> str:

        return iso(self.tick(0))  # type: ignore[attr-defined]

    def _advance_failbacks(self, now: float) -> int:
        """Paced (the sandbox): each failback replication under way moves on once
        ``pace_seconds`` have passed since it started or last moved."""
        pace = self.pace_seconds  # type: ignore[attr-defined]
        if pace is None:
            return 0
        moved = 0
        for instance_id, instance in self.recovery_instances.items():
            if instance["failback"]["state"] not in _NEXT_STATE:
                self._failback_due.pop(instance_id, None)
                continue
            due = self._failback_due.setdefault(instance_id, now + pace)
            if due <= now:
                self._step_failback(instance)
                self._failback_due.pop(instance_id, None)
                moved += 1
        return moved

    def _step_failback(self, instance: dict[str, Any]) -> None:
        failback = instance["failback"]
        if failback["state"] not in _NEXT_STATE:
            return
        if instance["recoveryInstanceID"] in self.stalled_failbacks:
            failback["state"] = "FAILBACK_ERROR"
            instance["dataReplicationInfo"] = {
                "dataReplicationState": "STALLED",
                "dataReplicationError": {"error": "FAILBACK_CLIENT_NOT_SEEN"},
            }
            return
        failback["state"] = _NEXT_STATE[failback["state"]]
        failback["firstByteDateTime"] = failback.get("firstByteDateTime") or self._now()
        instance["dataReplicationInfo"] = {
            "dataReplicationState": "CONTINUOUS",
            "lagDuration": "PT0S",
            "replicatedDisks": [],
        }

    def _op_DescribeRecoveryInstances(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        filters = params.get("filters") or {}
        ids, servers = filters.get("recoveryInstanceIDs"), filters.get("sourceServerIDs")
        found = [
            i
            for i in self.recovery_instances.values()
            if (ids is None or i["recoveryInstanceID"] in ids)
            and (servers is None or i["sourceServerID"] in servers)
        ]
        if self.autopilot and not params.get("nextToken"):  # type: ignore[attr-defined]
            for instance in found:
                self._step_failback(instance)
        return page(json.loads(json.dumps(found)), params, 200)

    def _op_ReverseReplication(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802

        instance = self._instance(params["recoveryInstanceID"])
        origin = self.origins.get(instance["sourceServerID"])
        if origin is None:
            msg = "only a recovery instance launched from an AWS source reverses replication"
            raise DrsError("ValidationException", 400, msg)
        if instance["isDrill"]:
            raise DrsError("ValidationException", 400, "a drill instance cannot fail back")
        failback = instance["failback"]
        instance_id = instance["recoveryInstanceID"]
        if failback["state"] == "FAILBACK_NOT_STARTED":
            failback.update(state="FAILBACK_IN_PROGRESS", failbackInitiationTime=self._now())
            self.reversed_servers[instance_id] = (
                f"arn:aws:drs:{origin[0]}:{origin[1]}:source-server/{random_id('s-')}"
            )
            peer = self.origin_drs(*origin) if self.origin_drs else None
            if peer is not None:
                peer.receive_reversed(self._reversed_server(instance))
        # Asked again while reversed: the same reversed server (the call is idempotent).
        return {"reversedDirectionSourceServerArn": self.reversed_servers[instance_id]}

    def _reversed_server(self, instance: dict[str, Any]) -> dict[str, Any]:
        """What the origin's DRS needs to make the reversed-direction source server."""
        source = self._server(instance["sourceServerID"])  # type: ignore[attr-defined]
        hints = (source.get("sourceProperties") or {}).get("identificationHints") or {}
        return {
            "sourceServerID": self.reversed_servers[instance["recoveryInstanceID"]].rsplit("/")[-1],
            "tags": dict(source.get("tags") or {}),
            "hostname": hints.get("hostname"),
            "reversedDirectionSourceServerArn": source["arn"],
        }

    def receive_reversed(self, server: dict[str, Any]) -> None:
        """A reversed server another simulator made here (thread-safe: a deque append)."""
        self._arriving.append(server)

    def _take_arrivals(self) -> None:
        """Add the reversed servers sent here, as DRS shows them: replicating back
        (``FAILBACK``), continuously, with their launch configuration (called under this
        simulator's lock)."""
        while self._arriving:
            arrived = self._arriving.popleft()
            known = {s["sourceServerID"] for s in self.source_servers}  # type: ignore[attr-defined]
            if arrived["sourceServerID"] in known:
                continue
            server = self.add_source_server(  # type: ignore[attr-defined]
                arrived["sourceServerID"], arrived["tags"], hostname=arrived["hostname"]
            )
            server["replicationDirection"] = "FAILBACK"
            server["reversedDirectionSourceServerArn"] = arrived["reversedDirectionSourceServerArn"]

    def _op_StartFailbackLaunch(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802

        instances = [self._instance(i) for i in params["recoveryInstanceIDs"]]
        unready = [
            i["recoveryInstanceID"]
            for i in instances
            if i["failback"]["state"] != "FAILBACK_READY_FOR_LAUNCH"
        ]
        if unready:
            msg = f"not ready for failback launch: {', '.join(unready)}"
            raise DrsError("ConflictException", 409, msg)
        job_id = self.add_job(  # type: ignore[attr-defined]
            [i["sourceServerID"] for i in instances], is_drill=False, tags=params.get("tags")
        )
        job = self.jobs[job_id]  # type: ignore[attr-defined]
        job["initiatedBy"] = "FAILBACK"
        for instance in instances:
            instance["failback"].update(state="FAILBACK_IN_PROGRESS", failbackJobID=job_id)
            instance["failback"]["failbackLaunchType"] = "RECOVERY"
        return {"job": json.loads(json.dumps(job))}

    def _failback_job_ended(self, job: dict[str, Any]) -> None:
        """A FAILBACK job ended: its instances' failback is complete."""
        for instance in self.recovery_instances.values():
            if instance["failback"].get("failbackJobID") == job["jobID"]:
                instance["failback"]["state"] = "FAILBACK_COMPLETED"

    def _op_StopFailback(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        instance = self._instance(params["recoveryInstanceID"])
        instance["failback"] = {"state": "FAILBACK_NOT_STARTED"}
        instance.pop("dataReplicationInfo", None)
        self.reversed_servers.pop(instance["recoveryInstanceID"], None)
        return {}

    def _op_StartReplication(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        server = self._server(params["sourceServerID"])  # type: ignore[attr-defined]
        server["dataReplicationInfo"] = {
            "dataReplicationState": "INITIATING",
            "replicatedDisks": [],
        }
        server["replicationDirection"] = "FAILOVER"
        answer = json.loads(json.dumps(server))
        # Continuous from the next read on: the simulator does not model the initial sync.
        server["dataReplicationInfo"] = {
            "dataReplicationState": "CONTINUOUS",
            "lagDuration": "PT0S",
            "replicatedDisks": [],
        }
        return {"sourceServer": answer}
