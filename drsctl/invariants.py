"""The execution invariants (docs/RELIABILITY.md), checked over an execution item and the
DRS jobs the service holds (DescribeJobs items). Shared by the property-based tests of the
pure core, the fault-injection matrix and the chaos benchmark (``benchmarks/chaos_drills.py``),
so all three hold an execution to the same promises."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}
EXECUTION_TAG = "drs-orchestrator:execution"
BATCH_TAG = "drs-orchestrator:batch"
SUCCEEDED_ACTION = {"Success", "CompletedWithSuccess"}


def launch_jobs_of(execution_id: str, drs_jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        j
        for j in drs_jobs
        if j.get("type", "LAUNCH") == "LAUNCH"
        and (j.get("tags") or {}).get(EXECUTION_TAG) == execution_id
    ]


def violations(
    item: dict[str, Any], drs_jobs: list[dict[str, Any]], *, ended: bool = True
) -> list[str]:
    """Every invariant the execution breaks, in words (empty when it keeps them all).
    ``ended``: the faults have stopped and the execution was given time to end. A
    failback is held to the same invariants in its own terms (``failback_violations``)."""
    if item.get("mode") == "FAILBACK":
        return failback_violations(item, drs_jobs, ended=ended)
    found: list[str] = []
    execution_id = item["executionId"]
    status = item["status"]
    waves = {w["name"]: w for w in item["waves"]}

    # every-execution-ends
    if ended and status not in TERMINAL:
        found.append(f"every-execution-ends: still {status}")

    # nothing-launched-is-lost: every DRS job tagged with the execution is on it
    ours = launch_jobs_of(execution_id, drs_jobs)
    tracked = set(item.get("jobs") or {})
    for job in ours:
        if job["jobID"] not in tracked:
            found.append(f"nothing-launched-is-lost: DRS job {job['jobID']} is not recorded")
    if ended:
        for job_id, job in (item.get("jobs") or {}).items():
            drs_job = next((j for j in drs_jobs if j["jobID"] == job_id), None)
            if drs_job and drs_job["status"] == "COMPLETED" and job.get("status") != "COMPLETED":
                found.append(f"nothing-launched-is-lost: job {job_id} not followed to its end")

    # no-partial-wave: no server launched twice by one execution; a completed wave
    # launched all its servers; a failed wave counts the servers it did not launch, and the
    # item says of each why (its batch did not start, or DRS's launch status)
    found += _launched_more_than_once(ours)
    servers = item.get("servers") or {}
    for wave in waves.values():
        if wave["status"] == "COMPLETED":
            missing = [
                s
                for s in wave["servers"]
                if (servers.get(s) or {}).get("launchStatus") != "LAUNCHED"
            ]
            if missing:
                found.append(f"no-partial-wave: wave {wave['name']} COMPLETED without {missing}")
        if wave["status"] == "FAILED" and "did not launch" in str(wave.get("reason", "")):
            unlaunched = [
                s
                for s in wave["servers"]
                if (servers.get(s) or {}).get("launchStatus") != "LAUNCHED"
            ]
            unaccounted = _unaccounted(wave, unlaunched, item.get("batches") or {}, servers)
            if unaccounted:
                found.append(
                    f"no-partial-wave: wave {wave['name']} fails without accounting for "
                    f"{unaccounted}"
                )
            if unlaunched and not re.search(rf"\b{len(unlaunched)} servers?\b", wave["reason"]):
                found.append(
                    f"no-partial-wave: wave {wave['name']} fails without counting its "
                    f"{len(unlaunched)} servers not launched"
                )
            # and what it names as not launched, DRS did not launch by a job of the execution
            # (once that job ended: a wave must not be judged on a job nobody followed)
            launched_by_drs = {
                s["sourceServerID"]
                for j in ours
                if j.get("status") == "COMPLETED"
                for s in j["participatingServers"]
                if s.get("launchStatus") == "LAUNCHED"
            }
            named_wrongly = sorted(s for s in unlaunched if s in launched_by_drs)
            if named_wrongly:
                found.append(
                    f"no-partial-wave: wave {wave['name']} says {named_wrongly} did not launch; "
                    "DRS launched them"
                )

    found += _dependencies_violations(waves)
    # a completed execution completed every wave
    if status == "COMPLETED" and any(w["status"] != "COMPLETED" for w in waves.values()):
        found.append("every-execution-ends: COMPLETED with waves not completed")
    return found


def _unaccounted(
    wave: dict[str, Any],
    unlaunched: list[str],
    batches: dict[str, Any],
    servers: dict[str, Any],
) -> list[str]:
    """``no-partial-wave``: the servers of a failed wave the item says nothing of: neither in
    a batch of the wave that did not start (refused, never accepted, cancelled) nor with a
    launch status from DRS."""
    not_started = {
        server
        for batch in batches.values()
        if batch.get("wave") == wave["name"] and batch.get("status") != "STARTED"
        for server in batch.get("servers", [])
    }
    return [
        s
        for s in unlaunched
        if s not in not_started and not (servers.get(s) or {}).get("launchStatus")
    ]


def _launched_more_than_once(jobs: list[dict[str, Any]]) -> list[str]:
    """``no-partial-wave``: no server launched by two jobs of one execution."""
    launches = Counter(s["sourceServerID"] for j in jobs for s in j["participatingServers"])
    return [
        f"no-partial-wave: server {server} launched {count} times"
        for server, count in launches.items()
        if count > 1
    ]


def _dependencies_violations(waves: dict[str, dict[str, Any]]) -> list[str]:
    """``dependencies-mean-ready``: a wave started only after its dependencies COMPLETED,
    and a wave COMPLETED only once every action it ran succeeded."""
    found = []
    for wave in waves.values():
        if wave["status"] == "COMPLETED":
            for run in wave.get("actionRuns") or ():
                if run["status"] not in SUCCEEDED_ACTION:
                    found.append(
                        f"dependencies-mean-ready: {wave['name']} COMPLETED with its action "
                        f"{run['document']} {run['status']}"
                    )
        if not wave.get("startedAt"):
            continue
        for dependency in wave.get("dependsOn", []):
            before = waves[dependency]
            if before["status"] != "COMPLETED" or before.get("endedAt", "~") > wave["startedAt"]:
                found.append(
                    f"dependencies-mean-ready: {wave['name']} started before {dependency} was ready"
                )
    return found


def failback_violations(
    item: dict[str, Any], drs_jobs: list[dict[str, Any]], *, ended: bool = True
) -> list[str]:
    """The invariants of a failback (``domain/failback.py``): it ends; every failback launch
    DRS holds for it is recorded on the servers it launched; each batch is launched once
    and each server at most once; a completed wave brought every server home, a failed one
    names every server that did not come home; waves start after their dependencies and
    complete after their actions; a completed failback protected every server when asked."""
    found: list[str] = []
    execution_id = item["executionId"]
    status = item["status"]
    waves = {w["name"]: w for w in item["waves"]}
    servers = item.get("failback") or {}
    if ended and status not in TERMINAL:
        found.append(f"every-execution-ends: still {status}")

    ours = launch_jobs_of(execution_id, drs_jobs)
    recorded = {s["jobId"] for s in servers.values() if s.get("jobId")}
    for job in ours:
        if job["jobID"] not in recorded:
            found.append(f"nothing-launched-is-lost: failback job {job['jobID']} is not recorded")
    batches = Counter((j.get("tags") or {}).get(BATCH_TAG) for j in ours)
    for batch, count in batches.items():
        if count > 1:
            found.append(f"no-partial-wave: batch {batch} launched {count} times")
    found += _launched_more_than_once(ours)

    for wave in waves.values():
        not_home = [s for s in wave["servers"] if (servers.get(s) or {}).get("step") != "HOME"]
        if wave["status"] == "COMPLETED" and not_home:
            found.append(f"no-partial-wave: wave {wave['name']} COMPLETED without {not_home}")
        reason = str(wave.get("reason", ""))
        if wave["status"] == "FAILED" and "did not fail back" in reason:
            absent = [s for s in not_home if s not in reason]
            if absent:
                found.append(f"no-partial-wave: wave {wave['name']} fails without naming {absent}")
    found += _dependencies_violations(waves)

    if status == "COMPLETED":
        if any(w["status"] != "COMPLETED" for w in waves.values()):
            found.append("every-execution-ends: COMPLETED with waves not completed")
        if (item.get("options") or {}).get("restartReplication"):
            unprotected = sorted(k for k, s in servers.items() if not s.get("protected"))
            if unprotected:
                found.append(f"every-execution-ends: COMPLETED, {unprotected} not protected")
    return found


def report_violations(
    item: dict[str, Any], stored: tuple[dict[str, Any], str] | None, job_events: int
) -> list[str]:
    """``every-finished-execution-has-a-report``: an execution the finder no longer watches
    (ended and settled) has its report stored, and the report is the whole execution:
    its outcome, every server, every DRS job, every job event recorded for it.
    ``stored`` is the stored (JSON document, HTML page); ``job_events`` how many events
    the job events table holds for the execution."""
    if item["status"] not in TERMINAL or item.get("watch"):
        return []
    rule = "every-finished-execution-has-a-report"
    if stored is None:
        return [f"{rule}: settled without a stored report"]
    document, html = stored
    found = []
    if document["execution"].get("status") != item["status"]:
        found.append(f"{rule}: the report says {document['execution'].get('status')}")
    if {s["sourceServerId"] for s in document["servers"]} != set(item.get("servers") or {}):
        found.append(f"{rule}: the report's servers are not the execution's")
    if {j["jobId"] for j in document["jobs"]} != set(item.get("jobs") or {}):
        found.append(f"{rule}: the report's DRS jobs are not the execution's")
    if len(document["jobEvents"]) != job_events:
        found.append(
            f"{rule}: the report holds {len(document['jobEvents'])} of {job_events} job events"
        )
    if item["executionId"] not in html:
        found.append(f"{rule}: the HTML page is not the execution's")
    return found
