"""The execution invariants (docs/RELIABILITY.md), checked over an execution item and the
DRS jobs the service holds (DescribeJobs items). Shared by the property-based tests of the
pure core, the fault-injection matrix and the chaos benchmark (``benchmarks/chaos_drills.py``),
so all three hold an execution to the same promises."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}
#: Where a wave may be once its execution ended.
WAVE_ENDED = {"COMPLETED", "FAILED", "SKIPPED"}
#: Step Functions' limit of history events per run (``long-runs-fit``).
HISTORY_LIMIT = 25_000
#: A reason's count of servers: ``3 servers``, ``1 server``.
SERVER_COUNT = re.compile(r"\b(\d+) servers?\b")
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
    found += _waves_in_flight_after_the_end(item)

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
        found += _launch_statuses_disagreeing(ours, item.get("servers") or {})

    # no-partial-wave: no server launched twice by one execution; a completed wave
    # launched all its servers; a failed wave counts the servers it did not launch, and the
    # item says of each why (its batch did not start, or DRS's launch status)
    found += _launched_more_than_once(ours)
    servers = item.get("servers") or {}
    for wave in waves.values():
        if wave["status"] == "COMPLETED":
            missing = _not_launched(wave, servers)
            if missing:
                found.append(f"no-partial-wave: wave {wave['name']} COMPLETED without {missing}")
        if wave["status"] == "FAILED":
            found += _failed_wave_violations(wave, item, ours)

    found += _dependencies_violations(waves)
    found += _approvals_violations(waves)
    # a completed execution completed every wave
    if status == "COMPLETED" and any(w["status"] != "COMPLETED" for w in waves.values()):
        found.append("every-execution-ends: COMPLETED with waves not completed")
    return found


def _not_launched(wave: dict[str, Any], servers: dict[str, Any]) -> list[str]:
    """The servers of ``wave`` the item does not record LAUNCHED."""
    return [s for s in wave["servers"] if (servers.get(s) or {}).get("launchStatus") != "LAUNCHED"]


def _counts_at_least(reason: str, servers: int) -> bool:
    """Whether ``reason`` counts ``servers`` servers or more (``12 servers``): a wave's
    reason counts its servers not launched when it failed; later launches only lower the
    number still not launched."""
    counted = [int(n) for n in SERVER_COUNT.findall(reason)]
    return bool(counted) and max(counted) >= servers


def _unaccounted(wave: dict[str, Any], unlaunched: list[str], item: dict[str, Any]) -> list[str]:
    """``no-partial-wave``: the servers of a failed wave the item says nothing of: neither in
    a batch of the wave that did not start (refused, never accepted, cancelled), nor with a
    launch status from DRS, nor in a started batch whose DRS target is out of reach (its
    job cannot be followed: ``unreachableTargets`` says why)."""
    unreachable = item.get("unreachableTargets") or {}
    said = {
        server
        for batch in (item.get("batches") or {}).values()
        if batch.get("wave") == wave["name"]
        and (batch.get("status") != "STARTED" or batch.get("target") in unreachable)
        for server in batch.get("servers", [])
    }
    servers = item.get("servers") or {}
    return [
        s for s in unlaunched if s not in said and not (servers.get(s) or {}).get("launchStatus")
    ]


def _failed_wave_violations(
    wave: dict[str, Any], item: dict[str, Any], ours: list[dict[str, Any]]
) -> list[str]:
    """``no-partial-wave`` for a FAILED wave, whatever failed it (its launch, an action, an
    approval that timed out, a lost target, ``Finalise`` or the janitor): its reason counts
    the servers not launched (at least as many as are still not launched: a job followed
    after the failure may launch some), and the item says of each why. A wave failed by its
    launch (``servers did not launch``) names none that DRS launched."""
    found: list[str] = []
    servers = item.get("servers") or {}
    reason = str(wave.get("reason", ""))
    unlaunched = _not_launched(wave, servers)
    if not unlaunched:
        return found
    batches = item.get("batches") or {}
    if any(b.get("wave") == wave["name"] for b in batches.values()):
        # It launched (or meant to): each server's batch or DRS's launch status says why.
        unaccounted = _unaccounted(wave, unlaunched, item)
        if unaccounted:
            found.append(
                f"no-partial-wave: wave {wave['name']} fails without accounting for {unaccounted}"
            )
    if not _counts_at_least(reason, len(unlaunched)):
        found.append(
            f"no-partial-wave: wave {wave['name']} fails without counting its "
            f"{len(unlaunched)} servers not launched"
        )
    if "did not launch" in reason:
        # What it names as not launched, DRS did not launch by a job of the execution (once
        # that job ended: a wave must not be judged on a job nobody followed).
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
    return found


def _waves_in_flight_after_the_end(item: dict[str, Any]) -> list[str]:
    """``every-execution-ends``: an ended execution leaves no wave in flight (a wave not
    started is skipped, one in flight fails with the reason)."""
    if item["status"] not in TERMINAL:
        return []
    return [
        f"every-execution-ends: ended {item['status']} with wave {w['name']} still {w['status']}"
        for w in item["waves"]
        if w["status"] not in WAVE_ENDED
    ]


def _launch_statuses_disagreeing(jobs: list[dict[str, Any]], servers: dict[str, Any]) -> list[str]:
    """``nothing-launched-is-lost``: once a launch job of the execution ended, each server
    it launched is recorded with the launch status DRS gives it (a server recorded LAUNCHED
    that DRS says FAILED would complete a wave that is not up)."""
    found = []
    for job in jobs:
        if job.get("status") != "COMPLETED":
            continue
        for server in job["participatingServers"]:
            drs_says = server.get("launchStatus")
            recorded = (servers.get(server["sourceServerID"]) or {}).get("launchStatus")
            if drs_says and recorded != drs_says:
                found.append(
                    f"nothing-launched-is-lost: server {server['sourceServerID']} recorded "
                    f"{recorded}, DRS says {drs_says} (job {job['jobID']})"
                )
    return found


def _approvals_violations(waves: dict[str, dict[str, Any]]) -> list[str]:
    """``approval-exactly-once``: a wave paused for approval starts only once approved (it
    may fail or be skipped unapproved: its approval timed out, the execution was
    cancelled)."""
    started = {"PRE_ACTIONS", "LAUNCHING", "LAUNCHED", "POST_ACTIONS", "COMPLETED"}
    return [
        f"approval-exactly-once: wave {w['name']} went on to {w['status']} without its approval"
        for w in waves.values()
        if w.get("pauseBefore")
        and not w.get("approved")
        and (w["status"] in started or w.get("batchIds"))
    ]


def holds_violations(items: list[dict[str, Any]], holds: dict[str, str]) -> list[str]:
    """``servers-held-atomically`` over executions and the server-holds table (server ->
    the execution holding it), once the faults stopped and every execution settled: an
    ended execution holds nothing; one that holds any of its servers holds them all (they
    are taken before its record is written); two live executions that hold servers share
    none (of two starts sharing a server exactly one wins)."""
    rule = "servers-held-atomically"
    found = []
    live_holding: dict[str, set[str]] = {}
    for item in items:
        execution_id = item["executionId"]
        servers = {s for w in item["waves"] for s in w["servers"]}
        held = {s for s, holder in holds.items() if holder == execution_id}
        if item["status"] in TERMINAL and held:
            found.append(
                f"{rule}: {execution_id} ended {item['status']} and still holds {sorted(held)}"
            )
        elif item["status"] not in TERMINAL and held:
            if servers - held:
                found.append(
                    f"{rule}: {execution_id} runs without holding {sorted(servers - held)}"
                )
            live_holding[execution_id] = servers
    ids = sorted(live_holding)
    for n, first in enumerate(ids):
        for second in ids[n + 1 :]:
            shared = live_holding[first] & live_holding[second]
            if shared:
                found.append(f"{rule}: {first} and {second} both run with {sorted(shared)}")
    return found


def final_violations(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """``terminal-is-final``: what an ended execution said when it ended (``before``) it
    still says later (``after``): its status, reason and end, each wave's status and
    reason. Later writes may add jobs, servers' launch statuses and reports only."""
    if before["status"] not in TERMINAL:
        return []
    rule = "terminal-is-final"
    found = [
        f"{rule}: its {key} changed from {before.get(key)!r} to {after.get(key)!r}"
        for key in ("status", "reason", "endedAt")
        if before.get(key) != after.get(key)
    ]
    later = {w["name"]: w for w in after["waves"]}
    for wave in before["waves"]:
        now = later.get(wave["name"]) or {}
        for key in ("status", "reason", "endedAt"):
            if wave.get(key) != now.get(key):
                found.append(
                    f"{rule}: wave {wave['name']}'s {key} changed from {wave.get(key)!r} to "
                    f"{now.get(key)!r}"
                )
    return found


def history_violations(events_by_run: dict[str, int]) -> list[str]:
    """``long-runs-fit``: no state machine run of an execution holds more history events
    than Step Functions keeps (25,000); the runner hands over to a new run before."""
    return [
        f"long-runs-fit: run {run} holds {count} history events, over {HISTORY_LIMIT}"
        for run, count in sorted(events_by_run.items())
        if count > HISTORY_LIMIT
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
    found += _waves_in_flight_after_the_end(item)

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
        if wave["status"] == "FAILED" and not_home:
            found += _failback_wave_failed(wave, not_home, servers)
    found += _dependencies_violations(waves)

    if status == "COMPLETED":
        if any(w["status"] != "COMPLETED" for w in waves.values()):
            found.append("every-execution-ends: COMPLETED with waves not completed")
        if (item.get("options") or {}).get("restartReplication"):
            unprotected = sorted(k for k, s in servers.items() if not s.get("protected"))
            if unprotected:
                found.append(f"every-execution-ends: COMPLETED, {unprotected} not protected")
    return found


def _failback_wave_failed(
    wave: dict[str, Any], not_home: list[str], servers: dict[str, Any]
) -> list[str]:
    """``no-partial-wave`` for a failed failback wave: its reason counts the servers not
    home, and each such server's record says why (its step FAILED with a reason), unless the
    wave failed before any of them left (nothing of the wave started)."""
    found = []
    if not _counts_at_least(str(wave.get("reason", "")), len(not_home)):
        found.append(
            f"no-partial-wave: wave {wave['name']} fails without counting its "
            f"{len(not_home)} servers not home"
        )
    if "did not fail back" in str(wave.get("reason", "")):
        silent = [s for s in not_home if not (servers.get(s) or {}).get("reason")]
        if silent:
            found.append(f"no-partial-wave: wave {wave['name']} fails saying nothing of {silent}")
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
