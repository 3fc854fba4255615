"""Races between API requests, run with real threads. Each racing request goes through the
API's service layer (``Catalog``, what every route calls once Powertools has routed and
validated it) on its own thread, as concurrent Lambda invocations would: moto answers one
AWS request at a time, but the requests' logic interleaves between AWS calls. (The
Powertools resolver keeps the current event on its module-level app, so one process cannot
resolve two events at once; in Lambda every invocation has its own process.)"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

from tests.e2e.conftest import wait_until

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.e2e.conftest import Harness

SHARED = "s-0a000000000000001"


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def create(harness: Harness, resource: str, body: dict[str, Any]) -> dict[str, Any]:
    status, created = harness.api("POST", resource, groups="admin", body=json.dumps(body))
    assert status == 201, created
    return created


def plan_body(name: str, group: str, *, pause: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "waves": [{"name": "W", "protectionGroups": [group], "pauseBefore": pause}],
    }


def served(call: Callable[[], Any], status: int) -> tuple[int, Any]:
    """The status and body the API answers for a service call, as its error handler maps
    them (``ApiError.status``)."""
    from drs_orchestrator.errors import ApiError

    try:
        return status, call()
    except ApiError as error:
        return error.status, {"message": str(error)}


def catalog() -> Any:
    from drs_orchestrator.handlers import api

    return api._catalog()


def start(harness: Harness, plan_id: str) -> tuple[int, Any]:
    return served(lambda: catalog().start_execution(plan_id, "DRILL"), 202)


def control(harness: Harness, action: str, execution_id: str) -> tuple[int, Any]:
    method = {"cancel": "cancel", "resume": "resume", "terminate-instances": "terminate_instances"}
    return served(
        lambda: getattr(catalog(), method[action])(execution_id),
        202 if action == "terminate-instances" else 200,
    )


def update_plan(plan_id: str, body: dict[str, Any]) -> tuple[int, Any]:
    return served(lambda: catalog().update_plan(plan_id, dict(body)), 200)


def test_two_starts_sharing_a_server_exactly_one_wins(harness: Harness) -> None:
    create(
        harness,
        "/protection-groups",
        {"name": "a", "region": "us-east-1", "sourceServerIds": [SHARED, "s-0a000000000000002"]},
    )
    create(
        harness,
        "/protection-groups",
        {"name": "b", "region": "us-east-1", "sourceServerIds": ["s-0a000000000000000"]},
    )
    first = create(harness, "/recovery-plans", plan_body("first", "a", pause=True))
    # The second plan shares group a's servers (SHARED among them) and adds its own.
    second_body = plan_body("second", "b", pause=True)
    second_body["waves"][0]["protectionGroups"] = ["b", "a"]
    second = create(harness, "/recovery-plans", second_body)
    for _ in range(5):
        results = at_once(
            lambda: start(harness, first["planId"]), lambda: start(harness, second["planId"])
        )
        statuses = sorted(status for status, _ in results)
        assert statuses == [202, 409], results
        loser = next(body for status, body in results if status == 409)
        assert SHARED in loser["message"]
        winner = next(body for status, body in results if status == 202)
        harness.wait_for(winner["executionId"], "PAUSED")
        assert control(harness, "cancel", winner["executionId"])[0] == 200
        harness.wait_for(winner["executionId"], "CANCELLED")
        wait_until(
            lambda winner=winner: harness.execution(winner["executionId"]).get("holdsReleased"),
            message="the cancelled execution frees its servers",
        )


def test_an_execution_records_the_plan_version_it_runs(harness: Harness) -> None:
    create(
        harness,
        "/protection-groups",
        {"name": "g", "region": "us-east-1", "sourceServerIds": [SHARED]},
    )
    plan = create(harness, "/recovery-plans", plan_body("p", "g"))
    renamed = {**plan_body("p", "g"), "version": plan["version"]}
    renamed["waves"][0]["name"] = "Renamed"
    (updated, _), (started, execution) = at_once(
        lambda: harness.api(
            "PUT",
            "/recovery-plans/{planId}",
            groups="admin",
            body=json.dumps(renamed),
            planId=plan["planId"],
        ),
        lambda: start(harness, plan["planId"]),
    )
    assert updated == 200 and started == 202
    waves = {1: ["W"], 2: ["Renamed"]}[execution["planVersion"]]
    assert [w["name"] for w in execution["waves"]] == waves
    harness.wait_for(execution["executionId"], "COMPLETED")


def test_cancel_against_resume_ends_once(harness: Harness) -> None:
    create(
        harness,
        "/protection-groups",
        {"name": "g", "region": "us-east-1", "sourceServerIds": [SHARED]},
    )
    plan = create(harness, "/recovery-plans", plan_body("p", "g", pause=True))
    status, execution = start(harness, plan["planId"])
    assert status == 202
    execution_id = execution["executionId"]
    harness.wait_for(execution_id, "PAUSED")
    wait_until(lambda: "taskToken" in harness.execution(execution_id), message="machine waits")

    results = at_once(
        lambda: control(harness, "cancel", execution_id),
        lambda: control(harness, "resume", execution_id),
    )

    assert results[0][0] == 200, "cancel is accepted from PAUSED and from RUNNING"
    item = harness.wait_for(execution_id, "CANCELLED", "COMPLETED", "FAILED")
    assert item["status"] == "CANCELLED"
    assert harness.machine_status(execution_id) == "SUCCEEDED"
    assert len(harness.drs.jobs) <= 1, "the wave launched at most once"


def test_two_terminations_at_once_start_one_drs_job(harness: Harness) -> None:
    create(
        harness,
        "/protection-groups",
        {"name": "g", "region": "us-east-1", "sourceServerIds": [SHARED]},
    )
    plan = create(harness, "/recovery-plans", plan_body("p", "g"))
    status, execution = start(harness, plan["planId"])
    execution_id = execution["executionId"]
    harness.wait_for(execution_id, "COMPLETED")

    results = at_once(
        lambda: control(harness, "terminate-instances", execution_id),
        lambda: control(harness, "terminate-instances", execution_id),
    )

    assert sorted(status for status, _ in results) == [202, 409], results
    terminate_jobs = [j for j in harness.drs.jobs.values() if j["type"] == "TERMINATE"]
    assert len(terminate_jobs) == 1
    item = harness.execution(execution_id)
    [termination] = item["terminations"]
    assert termination["status"] == "STARTED"
    assert termination["jobId"] == terminate_jobs[0]["jobID"]

    # The finder follows the TERMINATE job to its end, then lets the execution go.
    def settled() -> bool:
        harness.run_finder()
        current = harness.execution(execution_id)
        return (
            current["jobs"][termination["jobId"]]["status"] == "COMPLETED"
            and "watch" not in current
        )

    wait_until(settled, message="the TERMINATE job followed to its end")
    server = harness.execution(execution_id)["servers"][SHARED]
    assert server["terminationStatus"] == "TERMINATED"
    assert server["launchStatus"] == "LAUNCHED", "the launch's own record is kept"
