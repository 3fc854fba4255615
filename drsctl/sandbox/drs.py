"""A simulator of AWS Elastic Disaster Recovery: source servers, jobs and job logs.

It answers DRS requests at the HTTP layer, in two ways: inside a process, behind a real
botocore client (``client()``, botocore's ``before-send`` event; the unit and e2e tests),
and over HTTP (``serve()``, behind the sandbox's gateway; ``drsctl sandbox``). Either way
requests go through botocore's own serialisation, validation, error parsing and retries.
Each request body is checked against the DRS model's input shape and each response against
its output shape (``drsctl/sandbox/shapes.py``); a request that breaks the model is answered
with a ValidationException and kept in ``violations``, a response that breaks it is a bug in
the simulator and raises.

Jobs move on in one of two ways: ``autopilot`` (each DescribeJobs moves a described job one
phase on; deterministic, for tests) or ``pace_seconds`` (a job moves one phase on each time
that many seconds have passed, driven by ``advance_due()``; the sandbox's clock thread).

The simulator is three parts: this module (requests, jobs, logs, quotas),
``inventory.py`` (source servers, snapshots, launch configurations) and ``failback.py``
(recovery instances and failback), with ``drs_forms.py`` for errors, ids and timestamps.
"""

from __future__ import annotations

import json
import random
import string
import threading
import time
import uuid
from collections import defaultdict, deque
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
from botocore.awsrequest import AWSResponse
from drs_orchestrator.adapters.clients import RETRY_CONFIG
from drs_orchestrator.domain.wakeups import LAUNCH_FAILED, LAUNCH_RESULT, LAUNCH_SUCCEEDED

from drsctl.sandbox.drs_forms import DrsError, _moment, iso, page, random_id
from drsctl.sandbox.failback import FailbackOperations
from drsctl.sandbox.inventory import InventoryOperations, SnapshotHistory
from drsctl.sandbox.shapes import violations

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from drsctl.sandbox.ec2 import MotoLaunchTemplates

MODEL = botocore.session.get_session().get_service_model("drs")
_OPERATIONS_BY_PATH = {
    MODEL.operation_model(name).http["requestUri"]: name for name in MODEL.operation_names
}


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterable[bytes]:
        yield self._body

    def read(self, *_: Any) -> bytes:
        body, self._body = self._body, b""
        return body


def _error(error: DrsError) -> tuple[int, dict[str, Any], dict[str, str]]:
    return (
        error.status,
        {"message": error.message},
        {"x-amzn-ErrorType": error.code, **error.headers},
    )


class DrsSimulator(InventoryOperations, FailbackOperations):
    """DRS source servers, jobs and job logs in memory, served to botocore clients through
    ``client()`` and over HTTP through ``serve()``. Thread-safe: one lock around each request
    and each clock step."""

    def __init__(
        self,
        region: str = "us-east-1",
        log_page_size: int = 100,
        *,
        account: str = "123456789012",
        pace_seconds: float | None = None,
        throttle_rate: float = 0.0,
        seed: int | None = None,
    ) -> None:
        self.region = region
        #: The account this DRS belongs to (each account and region has its own DRS, with
        #: its own inventory, jobs and quotas).
        self.account = account
        self.jobs: dict[str, dict[str, Any]] = {}
        self.logs: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.log_page_size = log_page_size
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.violations: list[str] = []
        self._scripted_errors: dict[str, deque[DrsError]] = defaultdict(deque)
        self.broken_logs: dict[str, str] = {}
        #: With autopilot, every DescribeJobs moves each described job one phase on
        #: (PENDING -> STARTED -> COMPLETED), failing the launch of ``failing_servers``.
        self.autopilot = False
        self.terminated: set[str] = set()
        #: DescribeSourceServers items (captures or made with ``add_source_server``).
        self.source_servers: list[dict[str, Any]] = []
        self.failing_servers: set[str] = set()
        #: Point-in-time snapshots of each source server, oldest first (DescribeRecovery-
        #: Snapshots items). A server added gets one an hour for the last ``SNAPSHOT_HOURS``.
        self.snapshots = SnapshotHistory()
        #: Each source server's launch configuration (DRS's defaults until updated).
        self.launch_configurations: dict[str, dict[str, Any]] = {}
        #: Where each new server's EC2 launch template is made (the sandbox and the end-to-
        #: end tests: moto's EC2 of this account and region, ``drsctl/sandbox/ec2.py``);
        #: None: the template id is made up and no template exists.
        self.templates: MotoLaunchTemplates | None = None
        #: The snapshot each server was last launched from, when one was asked for.
        self.recovered_from: dict[str, str] = {}
        #: DRS's quotas in this account and region: concurrent jobs, and servers in active
        #: jobs; a StartRecovery over either is refused (ServiceQuotaExceededException).
        self.max_concurrent_jobs = 20
        self.max_servers_in_active_jobs = 500
        #: Log only each server's launch (LAUNCH_START and its end), not its snapshot and
        #: conversion: a smaller log for tests about faults rather than logs.
        self.brief_logs = False
        #: Where the service's EventBridge events go (``DRS Source Server Launch Result``
        #: as each launch job ends); None: nowhere. Called under the simulator's lock: it
        #: must only queue the event.
        self.on_event: Callable[[dict[str, Any]], None] | None = None
        self.events_sent = 0
        #: Seconds a job spends in each phase when paced (None: only autopilot moves jobs).
        self.pace_seconds = pace_seconds
        #: Share of calls to ``throttled_operations`` answered with ThrottlingException.
        self.throttle_rate = throttle_rate
        self.throttled_operations = frozenset({"StartRecovery", "DescribeJobs"})
        self.throttled = 0
        # Simulated failures, not secrets.
        self._random = random.Random(seed)  # noqa: S311  # nosec B311
        self._due: dict[str, float] = {}
        self._lock = threading.RLock()
        # Paced jobs carry real timestamps; the deterministic clock serves the tests.
        # It starts at the current minute so that jobs sort with the orchestrator's own
        # times (DescribeJobs' fromDate filter finds a launch whose answer was lost).
        self._clock = datetime.now(UTC).replace(second=0, microsecond=0)
        self._init_failback()

    # -- wiring ------------------------------------------------------------------------

    def client(self) -> Any:
        """A real boto3 DRS client, configured as the Lambda code configures its own, whose
        requests this fake answers."""
        drs = boto3.client(
            "drs",
            region_name=self.region,
            aws_access_key_id="testing",
            # Never a real credential: the simulator answers before anything is sent.
            aws_secret_access_key="testing",  # noqa: S106  # nosec B106
            config=RETRY_CONFIG,
        )
        drs.meta.events.register_first("before-send.drs", self._answer)
        return drs

    def calls_to(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == operation]

    # -- test controls -----------------------------------------------------------------

    def fail_next(self, operation: str, code: str, times: int = 1, retry_after: int = 0) -> None:
        """Answer the next ``times`` calls of ``operation`` with the error ``code``."""
        status = {"ThrottlingException": 429, "InternalServerException": 500}.get(code, 400)
        headers = {"Retry-After": str(retry_after)} if retry_after else {}
        for _ in range(times):
            self._scripted_errors[operation].append(DrsError(code, status, f"fake {code}", headers))

    def tick(self, seconds: float = 1.0) -> datetime:
        if self.pace_seconds is not None:
            return datetime.now(UTC)
        self._clock += timedelta(seconds=seconds)
        return self._clock

    def advance_due(self, now: float | None = None) -> int:
        """Move each paced job whose phase time is up one phase on; returns how many moved."""
        now = time.monotonic() if now is None else now
        moved = 0
        with self._lock:
            for job_id, due in list(self._due.items()):
                if due <= now:
                    self._advance(job_id)
                    moved += 1
                    if self.jobs[job_id]["status"] == "COMPLETED":
                        del self._due[job_id]
                    else:
                        self._due[job_id] = now + (self.pace_seconds or 0)
            moved += self._advance_failbacks(now)
        return moved

    def live_instances(self) -> list[str]:
        """Recovery instances launched and not terminated (what a drill would leave behind);
        a failback's launch goes back where the server came from, not to a recovery
        instance."""
        with self._lock:
            launched = {
                s["recoveryInstanceID"]
                for j in self.jobs.values()
                for s in j["participatingServers"]
                if s.get("recoveryInstanceID")
                and j["type"] == "LAUNCH"
                and j.get("initiatedBy") != "FAILBACK"
            }
            return sorted(launched - self.terminated)

    def snapshot(self) -> dict[str, Any]:
        """What the simulator holds, for people and tests looking at a running sandbox."""
        with self._lock:
            return {
                "jobs": json.loads(json.dumps(list(self.jobs.values()))),
                # Each source server's replication direction (FAILBACK: made by a reverse).
                "sourceServers": {
                    s["sourceServerID"]: s.get("replicationDirection", "FAILOVER")
                    for s in self.source_servers
                },
                "liveInstances": self.live_instances(),
                "failingServers": sorted(self.failing_servers),
                "throttleRate": self.throttle_rate,
                "throttled": self.throttled,
                "violations": list(self.violations),
            }

    def add_job(
        self,
        server_ids: Iterable[str],
        *,
        job_id: str | None = None,
        is_drill: bool = True,
        job_type: str = "LAUNCH",
        tags: dict[str, str] | None = None,
    ) -> str:
        job_id = job_id or random_id("drsjob-", 17, string.ascii_lowercase + string.digits)
        self.jobs[job_id] = {
            "jobID": job_id,
            "arn": f"arn:aws:drs:{self.region}:{self.account}:job/{job_id}",
            "type": job_type,
            "initiatedBy": "START_DRILL" if is_drill else "START_RECOVERY",
            "creationDateTime": iso(self.tick()),
            "status": "PENDING",
            "participatingServers": [
                {"sourceServerID": s, "launchStatus": "PENDING"} for s in server_ids
            ],
            "tags": dict(tags or {}),
        }
        if self.pace_seconds is not None:
            self._due[job_id] = time.monotonic() + self.pace_seconds
        return job_id

    def load_job(self, job: dict[str, Any], log_items: list[dict[str, Any]]) -> str:
        """Serve a captured DescribeJobs item and its job log as they are."""
        self.jobs[job["jobID"]] = json.loads(json.dumps(job))
        self.logs[job["jobID"]] = json.loads(json.dumps(log_items))
        return job["jobID"]

    def log(self, job_id: str, event: str, **event_data: str) -> None:
        self.logs[job_id].append(
            {"event": event, "eventData": event_data, "logDateTime": iso(self.tick(0.25))}
        )

    def start(self, job_id: str) -> None:
        """PENDING -> STARTED: the job starts and snapshots every server."""
        job = self.jobs[job_id]
        job["status"] = "STARTED"
        self.log(job_id, "JOB_START")
        if job["type"] != "LAUNCH":
            return
        for server in job["participatingServers"]:
            server["launchStatus"] = "IN_PROGRESS"
            if self.brief_logs:
                continue
            self.log(job_id, "SNAPSHOT_START", sourceServerID=server["sourceServerID"])
            self.log(job_id, "SNAPSHOT_END", sourceServerID=server["sourceServerID"])

    def finish(self, job_id: str, failed: Iterable[str] = ()) -> None:
        """STARTED -> COMPLETED: convert and launch every server, failing those named."""
        job, failed = self.jobs[job_id], set(failed)
        for server in job["participatingServers"]:
            sid = server["sourceServerID"]
            conversion = random_id("i-")
            if not self.brief_logs:
                self.log(
                    job_id, "CONVERSION_START", sourceServerID=sid, conversionServerID=conversion
                )
                self.log(
                    job_id, "CONVERSION_END", sourceServerID=sid, conversionServerID=conversion
                )
            self.log(job_id, "LAUNCH_START", sourceServerID=sid)
            if sid in failed:
                server["launchStatus"] = "FAILED"
                self.log(job_id, "LAUNCH_FAILED", sourceServerID=sid, rawError="fake failure")
            else:
                instance = random_id("i-")
                server["launchStatus"] = "LAUNCHED"
                server["recoveryInstanceID"] = instance
                if job.get("initiatedBy") != "FAILBACK":
                    self._launched(job, server, instance)
                # The live service sends LAUNCH_END although the model's enum lacks it.
                self.log(job_id, "LAUNCH_END", sourceServerID=sid, targetInstanceID=instance)
        self.log(job_id, "JOB_END")
        job["status"] = "COMPLETED"
        job["endDateTime"] = iso(self.tick())
        if job.get("initiatedBy") == "FAILBACK":
            self._failback_job_ended(job)
        for server in job["participatingServers"]:
            self._send_launch_result(job, server)

    def _send_launch_result(self, job: dict[str, Any], server: dict[str, Any]) -> None:
        """DRS's ``DRS Source Server Launch Result`` for one server of an ended launch job,
        shaped as EventBridge delivers it (the DRS user guide's example); sent once the
        job shows COMPLETED, so a reader woken by it finds the job ended."""
        if self.on_event is None:
            return
        launched = server["launchStatus"] == "LAUNCHED"
        self.events_sent += 1
        self.on_event(
            {
                "version": "0",
                "id": str(uuid.UUID(int=self._random.getrandbits(128), version=4)),
                "detail-type": LAUNCH_RESULT,
                "source": "aws.drs",
                "account": self.account,
                "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": self.region,
                "resources": [
                    f"arn:aws:drs:{self.region}:{self.account}:source-server/"
                    + server["sourceServerID"]
                ],
                "detail": {
                    "state": LAUNCH_SUCCEEDED if launched else LAUNCH_FAILED,
                    "job-id": job["jobID"],
                    "is-drill": "TRUE" if job["initiatedBy"] == "START_DRILL" else "FALSE",
                },
            }
        )

    # -- the service -------------------------------------------------------------------

    def serve(self, path: str, body: bytes | str | None) -> tuple[int, dict[str, str], bytes]:
        """Answer one DRS request: ``path`` is the request URI (``/DescribeJobs``), ``body``
        its JSON. Returns status, headers and body as the service would."""
        with self._lock:
            status, payload, headers = self._dispatch(path, body)
        raw = json.dumps(payload).encode()
        all_headers = {"Content-Type": "application/json", "Content-Length": str(len(raw))}
        all_headers.update(headers)
        return status, all_headers, raw

    def _dispatch(
        self, path: str, body: bytes | str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        operation = _OPERATIONS_BY_PATH.get(path)
        if operation is None:
            return (
                404,
                {"message": f"no DRS operation at {path}"},
                {"x-amzn-ErrorType": "ResourceNotFoundException"},
            )
        raw = body.decode() if isinstance(body, bytes) else body
        params = json.loads(raw or "{}")
        self._take_arrivals()
        self.calls.append((operation, params))
        op_model = MODEL.operation_model(operation)
        problems = violations(params, op_model.input_shape, request=True)
        if problems:
            self.violations.extend(f"{operation} request {p}" for p in problems)
            return _error(DrsError("ValidationException", 400, "; ".join(problems)))
        if self._scripted_errors[operation]:
            return _error(self._scripted_errors[operation].popleft())
        if operation in self.throttled_operations and self._random.random() < self.throttle_rate:
            self.throttled += 1
            return _error(DrsError("ThrottlingException", 429, "Rate exceeded"))
        try:
            result = getattr(self, f"_op_{operation}")(params)
        except DrsError as error:
            return _error(error)
        # An operation without an output shape (StopFailback) answers an empty body.
        shape = op_model.output_shape
        problems = violations(result, shape, request=False) if shape is not None else []
        if shape is None and result:
            problems = [f"$: {operation} has no output, got {sorted(result)}"]
        if problems:
            msg = f"DRS simulator's {operation} response breaks the model: {problems}"
            raise AssertionError(msg)
        return 200, result, {}

    def _answer(self, request: Any, **_: Any) -> AWSResponse:
        path = request.url.split("amazonaws.com", 1)[-1].split("?", 1)[0]
        status, headers, raw = self.serve(path, request.body)
        return AWSResponse(request.url, status, headers, _RawBody(raw))

    def _op_StartRecovery(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        server_ids = [s["sourceServerID"] for s in params["sourceServers"]]
        busy = {
            s["sourceServerID"]
            for j in self.jobs.values()
            if j["status"] != "COMPLETED"
            for s in j["participatingServers"]
        }
        for wanted in params["sourceServers"]:
            snapshot_id = wanted.get("recoverySnapshotID")
            known = {s["snapshotID"] for s in self.snapshots.get(wanted["sourceServerID"], [])}
            if snapshot_id and snapshot_id not in known:
                msg = f"{snapshot_id} is not a snapshot of {wanted['sourceServerID']}"
                raise DrsError("ValidationException", 400, msg)
        clash = sorted(busy & set(server_ids))
        if clash:
            raise DrsError("ConflictException", 409, f"servers already in a job: {clash}")
        active = [j for j in self.jobs.values() if j["status"] != "COMPLETED"]
        if len(active) >= self.max_concurrent_jobs:
            msg = f"{len(active)} jobs are active; the quota is {self.max_concurrent_jobs}"
            raise DrsError("ServiceQuotaExceededException", 402, msg)
        if len(busy) + len(server_ids) > self.max_servers_in_active_jobs:
            msg = (
                f"{len(busy)} servers are in active jobs; {len(server_ids)} more would pass "
                f"the quota of {self.max_servers_in_active_jobs}"
            )
            raise DrsError("ServiceQuotaExceededException", 402, msg)
        job_id = self.add_job(
            server_ids, is_drill=params.get("isDrill", False), tags=params.get("tags")
        )
        self.recovered_from.update(
            {
                w["sourceServerID"]: w["recoverySnapshotID"]
                for w in params["sourceServers"]
                if w.get("recoverySnapshotID")
            }
        )
        return {"job": json.loads(json.dumps(self.jobs[job_id]))}

    def _op_TerminateRecoveryInstances(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        instances = set(params["recoveryInstanceIDs"])
        server_of = {
            s["recoveryInstanceID"]: s["sourceServerID"]
            for j in self.jobs.values()
            if j["type"] == "LAUNCH"
            for s in j["participatingServers"]
            if s.get("recoveryInstanceID") in instances
        }
        job_id = self.add_job(sorted(server_of.values()), job_type="TERMINATE")
        job = self.jobs[job_id]
        # Each participating server names the recovery instance terminated, as DRS's
        # ParticipatingServer does: how a termination whose answer was lost is found.
        instance_of = {server: instance for instance, server in server_of.items()}
        for server in job["participatingServers"]:
            server["recoveryInstanceID"] = instance_of[server["sourceServerID"]]
        job["initiatedBy"] = "TERMINATE_RECOVERY_INSTANCES"
        self.terminated |= instances
        self._terminated(instances)
        return {"job": json.loads(json.dumps(job))}

    def _advance(self, job_id: str) -> None:
        job = self.jobs[job_id]
        if job["status"] == "PENDING":
            self.start(job_id)
        elif job["status"] == "STARTED":
            if job["type"] == "TERMINATE":
                self.log(job_id, "JOB_END")
                job["status"] = "COMPLETED"
                for server in job["participatingServers"]:
                    server["launchStatus"] = "TERMINATED"
            else:
                failing = [
                    s["sourceServerID"]
                    for s in job["participatingServers"]
                    if self._cannot_launch(s["sourceServerID"])
                ]
                self.finish(job_id, failed=failing)

    def _op_DescribeJobs(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        filters = params.get("filters") or {}
        wanted = filters.get("jobIDs")
        if self.autopilot and wanted and not params.get("nextToken"):
            for job_id in wanted:
                if job_id in self.jobs:
                    self._advance(job_id)
        since, until = filters.get("fromDate"), filters.get("toDate")
        jobs = [
            j
            for j in self.jobs.values()
            if (wanted is None or j["jobID"] in wanted)
            and (since is None or _moment(j["creationDateTime"]) >= _moment(since))
            and (until is None or _moment(j["creationDateTime"]) <= _moment(until))
        ]
        return page(json.loads(json.dumps(jobs)), params, 1000)

    def _op_DescribeJobLogItems(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        job_id = params["jobID"]
        if job_id in self.broken_logs:
            raise DrsError(self.broken_logs[job_id], 400, f"job {job_id} log is broken")
        if job_id not in self.jobs:
            raise DrsError("ResourceNotFoundException", 404, f"job {job_id} not found")
        return page(list(self.logs[job_id]), params, self.log_page_size)
