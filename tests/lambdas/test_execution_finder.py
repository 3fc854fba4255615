"""The execution finder against moto DynamoDB and the DRS fake."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from drs_orchestrator.adapters.dynamodb import ExecutionRecords

from tests.lambdas.conftest import EXECUTIONS_TABLE, events_of, put_execution

if TYPE_CHECKING:
    from tests.fakes.drs import FakeDrs

FIXTURES = Path(__file__).parents[1] / "fixtures" / "drs"
SERVERS = ["s-1111111111aaaaaaa", "s-2222222222bbbbbbb", "s-3333333333ccccccc"]


def execution(dynamodb: Any, execution_id: str) -> dict[str, Any]:
    item = ExecutionRecords(EXECUTIONS_TABLE, client=dynamodb).get(execution_id)
    assert item is not None
    return item


def record_operations(client: Any) -> list[str]:
    seen: list[str] = []
    client.meta.events.register("before-call.*", lambda model, **_: seen.append(model.name))
    return seen


def test_finder_follows_a_job_from_pending_to_completed(finder, dynamodb, drs: FakeDrs) -> None:
    job_id = drs.add_job(SERVERS)
    put_execution(dynamodb, "exec-1", {job_id: "wave-a"})

    report = finder.poll()
    item = execution(dynamodb, "exec-1")
    assert report.jobs_polled == 1 and report.events_written == 0
    assert item["jobs"][job_id]["status"] == "PENDING"
    assert {s["launchStatus"] for s in item["servers"].values()} == {"PENDING"}
    assert set(item["servers"]) == set(SERVERS)

    drs.start(job_id)
    report = finder.poll()
    item = execution(dynamodb, "exec-1")
    assert item["jobs"][job_id]["status"] == "STARTED"
    assert {s["launchStatus"] for s in item["servers"].values()} == {"IN_PROGRESS"}
    assert report.events_written == 1 + 2 * len(SERVERS)

    drs.finish(job_id, failed=[SERVERS[2]])
    report = finder.poll()
    item = execution(dynamodb, "exec-1")
    job = item["jobs"][job_id]
    assert job["status"] == "COMPLETED" and job["endDateTime"].endswith("Z")
    assert job["eventCount"] == len(drs.logs[job_id])
    statuses = {sid: s["launchStatus"] for sid, s in item["servers"].items()}
    assert statuses == {SERVERS[0]: "LAUNCHED", SERVERS[1]: "LAUNCHED", SERVERS[2]: "FAILED"}
    launched = drs.jobs[job_id]["participatingServers"][0]
    assert item["servers"][SERVERS[0]]["recoveryInstanceId"] == launched["recoveryInstanceID"]
    assert "recoveryInstanceId" not in item["servers"][SERVERS[2]]
    assert item["servers"][SERVERS[0]]["waveName"] == "wave-a"
    assert report.jobs_completed == 1
    # Three polls changed the execution, all of them the scheduled finder's.
    assert (item["lastPolledBy"], item["schedulePolls"]) == ("schedule", 3)
    assert "waveRunnerPolls" not in item
    assert len(events_of(dynamodb, "exec-1")) == len(drs.logs[job_id])

    calls_before = len(drs.calls)
    report = finder.poll()
    assert report.jobs_polled == 0, "a completed job is not polled again"
    assert len(drs.calls) == calls_before


def test_finder_reads_every_page_of_a_long_job_log(finder, dynamodb, drs: FakeDrs) -> None:
    drs.log_page_size = 4
    job_id = drs.add_job(SERVERS)
    drs.start(job_id)
    drs.finish(job_id)
    put_execution(dynamodb, "exec-1", {job_id: "wave-a"})

    report = finder.poll()

    total = len(drs.logs[job_id])
    assert total > 3 * drs.log_page_size
    log_calls = drs.calls_to("DescribeJobLogItems")
    assert len(log_calls) == -(-total // drs.log_page_size)
    assert [c.get("nextToken") for c in log_calls][1:] == [str(n) for n in range(4, total, 4)]
    assert report.events_written == total
    stored = events_of(dynamodb, "exec-1")
    assert len(stored) == total
    assert [e["logDateTime"] for e in stored] == sorted(e["logDateTime"] for e in stored)


def test_finder_retries_throttled_calls_with_backoff(
    finder, dynamodb, drs: FakeDrs, no_retry_sleep: list[float]
) -> None:
    job_id = drs.add_job(SERVERS)
    drs.start(job_id)
    put_execution(dynamodb, "exec-1", {job_id: "wave-a"})
    drs.fail_next("DescribeJobs", "ThrottlingException", times=2)
    drs.fail_next("DescribeJobLogItems", "ThrottlingException", times=1)

    report = finder.poll()

    assert report.executions_failed == 0
    assert len(drs.calls_to("DescribeJobs")) == 3
    assert len(drs.calls_to("DescribeJobLogItems")) == 2
    assert len(no_retry_sleep) == 3, "each throttled call waited before its retry"
    assert execution(dynamodb, "exec-1")["jobs"][job_id]["status"] == "STARTED"


def test_finder_skips_every_execution_when_drs_stays_throttled(
    finder, dynamodb, drs: FakeDrs, no_retry_sleep: list[float]
) -> None:
    job_id = drs.add_job(SERVERS)
    put_execution(dynamodb, "exec-1", {job_id: "wave-a"})
    drs.fail_next("DescribeJobs", "ThrottlingException", times=8)

    report = finder.poll()

    assert report.executions_failed == 1
    assert "ThrottlingException" in report.failures[0]["error"]
    assert len(no_retry_sleep) == 7
    assert execution(dynamodb, "exec-1")["jobs"][job_id]["status"] == "PENDING"


def test_one_broken_execution_does_not_stop_the_others(finder, dynamodb, drs: FakeDrs) -> None:
    healthy = {}
    for n in range(3):
        job_id = drs.add_job(SERVERS[:1])
        drs.start(job_id)
        healthy[f"exec-ok-{n}"] = job_id
        put_execution(dynamodb, f"exec-ok-{n}", {job_id: "wave-a"})
    broken_log_job = drs.add_job(SERVERS[1:2])
    drs.broken_logs[broken_log_job] = "AccessDeniedException"
    put_execution(dynamodb, "exec-broken-log", {broken_log_job: "wave-a"})
    put_execution(dynamodb, "exec-malformed", {}, extra={"servers": "not-a-map"})

    report = finder.poll()

    assert report.executions == 5
    assert report.executions_failed == 2
    assert {f["executionId"] for f in report.failures} == {"exec-broken-log", "exec-malformed"}
    for execution_id, job_id in healthy.items():
        assert execution(dynamodb, execution_id)["jobs"][job_id]["status"] == "STARTED"
        assert len(events_of(dynamodb, execution_id)) == 3


def test_a_rejected_combined_describe_isolates_the_bad_execution(
    finder, dynamodb, drs: FakeDrs
) -> None:
    good = drs.add_job(SERVERS[:1])
    put_execution(dynamodb, "exec-good", {good: "wave-a"})
    put_execution(dynamodb, "exec-bad", {"drsjob-0000000000000000!": "wave-a"})
    # The id matches the finder's own check only if it is well formed; this one is not,
    # so the finder refuses it before it can poison the combined DescribeJobs request.
    report = finder.poll()
    assert {f["executionId"] for f in report.failures} == {"exec-bad"}
    assert execution(dynamodb, "exec-good")["servers"][SERVERS[0]]["launchStatus"] == "PENDING"
    assert drs.violations == []


def test_second_poll_records_no_duplicate_events(finder, dynamodb, drs: FakeDrs) -> None:
    job_id = drs.add_job(SERVERS)
    drs.start(job_id)
    put_execution(dynamodb, "exec-1", {job_id: "wave-a"})
    first = finder.poll()
    version_after_first = execution(dynamodb, "exec-1")["version"]
    operations = record_operations(dynamodb)

    second = finder.poll()

    assert first.events_written == len(drs.logs[job_id])
    assert second.events_written == 0
    assert not {"PutItem", "BatchWriteItem"} & set(operations), "recorded prefix not rewritten"
    # A quiet poll writes only its heartbeat: lastPolledAt moves (so the wave runner does
    # not fall back to polling DRS itself), the version and the job data do not.
    assert operations.count("UpdateItem") == 1, "a quiet poll writes one heartbeat"
    after = execution(dynamodb, "exec-1")
    assert after["version"] == version_after_first, "the heartbeat leaves the version alone"
    assert after["schedulePolls"] == 2
    assert len(events_of(dynamodb, "exec-1")) == len(drs.logs[job_id])


def test_rewritten_log_prefix_falls_back_to_conditional_writes(
    finder, dynamodb, drs: FakeDrs
) -> None:
    job_id = drs.add_job(SERVERS)
    drs.start(job_id)
    put_execution(dynamodb, "exec-1", {job_id: "wave-a"})
    finder.poll()
    first_items = len(drs.logs[job_id])
    drs.logs[job_id].reverse()  # same items, another order: the shortcut must not be trusted
    drs.log(job_id, "CONVERSION_START", sourceServerID=SERVERS[0])

    report = finder.poll()

    assert report.events_already_recorded == first_items
    assert report.events_written == 1
    assert len(events_of(dynamodb, "exec-1")) == first_items + 1


@pytest.mark.parametrize(
    "wave", ["wave1_drsjob-556c7b1d99221f996", "wave2_drsjob-541cee6300c363be5"]
)
def test_finder_records_a_real_drill_capture(finder, dynamodb, drs: FakeDrs, wave: str) -> None:
    """A real two-server drill job: LAUNCH_END (absent from the model's enum) is stored as it
    came, and the instance ids come from it because the 2022 job lacks recoveryInstanceID."""
    job = json.loads((FIXTURES / f"describe_jobs__drs-tools_{wave}.json").read_text())["items"][0]
    log = json.loads((FIXTURES / f"describe_job_log_items__drs-tools_{wave}.json").read_text())
    job_id = drs.load_job(job, log["items"])
    put_execution(dynamodb, "exec-real", {job_id: "wave-1"})

    report = finder.poll()

    assert drs.violations == []
    assert report.events_written == len(log["items"])
    item = execution(dynamodb, "exec-real")
    assert item["jobs"][job_id]["status"] == "COMPLETED"
    assert item["jobs"][job_id]["endDateTime"] == job["endDateTime"].replace("+00:00", "Z")
    launch_ends = {
        e["eventData"]["sourceServerID"]: e["eventData"]["targetInstanceID"]
        for e in log["items"]
        if e["event"] == "LAUNCH_END"
    }
    assert len(launch_ends) == 2
    for server_id, instance_id in launch_ends.items():
        assert item["servers"][server_id]["launchStatus"] == "LAUNCHED"
        assert item["servers"][server_id]["recoveryInstanceId"] == instance_id
    stored = events_of(dynamodb, "exec-real")
    assert sum(e["event"] == "LAUNCH_END" for e in stored) == 2
    assert all(e["logDateTime"].endswith("Z") for e in stored)
    assert {e["event"] for e in stored} >= {"JOB_START", "JOB_END", "CONVERSION_END"}


def test_finder_queries_the_status_index_and_never_scans(finder, dynamodb, drs: FakeDrs) -> None:
    running = drs.add_job(SERVERS[:1])
    done = drs.add_job(SERVERS[1:2])
    put_execution(dynamodb, "exec-running", {running: "wave-a"})
    put_execution(dynamodb, "exec-paused", {drs.add_job(SERVERS[2:]): "w"}, status="PAUSED")
    put_execution(dynamodb, "exec-finished", {done: "wave-a"}, status="COMPLETED")
    operations = record_operations(dynamodb)

    report = finder.poll()

    assert "Scan" not in operations
    assert operations.count("Query") >= 3
    assert report.executions == 2
    described = {i for call in drs.calls_to("DescribeJobs") for i in call["filters"]["jobIDs"]}
    assert done not in described


def test_describe_jobs_batches_at_most_1000_ids(dynamodb, drs: FakeDrs) -> None:
    from drs_orchestrator.adapters.drs import DrsGateway

    ids = [drs.add_job(SERVERS[:1]) for _ in range(2300)]
    found = DrsGateway(client=drs.client()).describe_jobs(ids)
    sizes = [len(c["filters"]["jobIDs"]) for c in drs.calls_to("DescribeJobs")]
    assert sizes == [1000, 1000, 300]
    assert set(found) == set(ids)


def test_finder_defers_executions_when_the_invocation_runs_out_of_time(
    finder, dynamodb, drs: FakeDrs
) -> None:
    for n in range(4):
        put_execution(dynamodb, f"exec-{n}", {drs.add_job(SERVERS[:1]): "wave-a"})
    budget = iter([60.0, 30.0, 9.0, 9.0])

    report = finder.poll(remaining_seconds=lambda: next(budget))

    assert report.executions_updated == 2
    assert report.executions_deferred == 2
    assert report.executions_failed == 0
    assert len(drs.calls_to("DescribeJobLogItems")) == 2

    second = finder.poll(remaining_seconds=lambda: 60.0)
    assert second.executions_updated == 2, "the deferred executions are caught up next time"


class FlakyBatchClient:
    """A DynamoDB client whose first BatchWriteItem leaves items unprocessed."""

    def __init__(self, unprocessed_rounds: int) -> None:
        self.rounds = unprocessed_rounds
        self.batches: list[int] = []

    def batch_write_item(self, RequestItems: dict) -> dict:  # noqa: N803 - boto3's name
        [(table, requests)] = RequestItems.items()
        self.batches.append(len(requests))
        if self.rounds:
            self.rounds -= 1
            return {"UnprocessedItems": {table: requests[1:]}}
        return {"UnprocessedItems": {}}


def _events(count: int):
    from drs_orchestrator.domain.jobs import JobEvent

    return [
        JobEvent(
            "exec-1",
            "drsjob-aaaaaaaaaaaaaaaaa",
            "SNAPSHOT_START",
            f"2026-11-01T12:00:{n:02d}.000000Z",
            {"sourceServerID": SERVERS[0]},
        )
        for n in range(count)
    ]


def test_unprocessed_batch_items_are_resubmitted(monkeypatch: pytest.MonkeyPatch) -> None:
    from drs_orchestrator.adapters.dynamodb import JobEventsStore

    monkeypatch.setattr("drs_orchestrator.adapters.dynamodb.time.sleep", lambda _s: None)
    client = FlakyBatchClient(unprocessed_rounds=2)
    written, duplicates = JobEventsStore("t", 30, client=client).record(_events(5), known_new=True)
    assert (written, duplicates) == (5, 0)
    assert client.batches == [5, 4, 3], "each retry resubmits only what was left unprocessed"


def test_items_left_unprocessed_after_every_retry_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    from drs_orchestrator.adapters.dynamodb import JobEventsStore
    from drs_orchestrator.errors import StoreError

    monkeypatch.setattr("drs_orchestrator.adapters.dynamodb.time.sleep", lambda _s: None)
    client = FlakyBatchClient(unprocessed_rounds=100)
    with pytest.raises(StoreError, match="UnprocessedItems"):
        JobEventsStore("t", 30, client=client).record(_events(30), known_new=True)


def test_the_wave_runners_fallback_poll_is_told_apart(finder, dynamodb, drs: FakeDrs) -> None:
    job_id = drs.add_job(SERVERS)
    put_execution(dynamodb, "exec-1", {job_id: "wave-a"})
    finder.poll_one(execution(dynamodb, "exec-1"))
    item = execution(dynamodb, "exec-1")
    assert (item["lastPolledBy"], item["waveRunnerPolls"]) == ("wave-runner", 1)
    assert "schedulePolls" not in item


def test_the_executions_left_behind_by_the_time_budget_go_first_next_time(
    finder, dynamodb, drs: FakeDrs
) -> None:
    """Fair rotation: least recently polled first, so the same executions are not the ones
    starved every time the budget runs out."""
    for n in range(4):
        put_execution(dynamodb, f"exec-{n}", {drs.add_job(SERVERS[:1]): "wave-a"})
    finder.poll(remaining_seconds=iter([60.0, 30.0, 9.0, 9.0]).__next__)
    polled_first = {
        e
        for e in ("exec-0", "exec-1", "exec-2", "exec-3")
        if execution(dynamodb, e).get("lastPolledAt")
    }
    assert len(polled_first) == 2

    finder.poll(remaining_seconds=iter([60.0, 30.0, 9.0, 9.0]).__next__)

    assert all(
        execution(dynamodb, e).get("lastPolledAt") for e in ("exec-0", "exec-1", "exec-2", "exec-3")
    )


def test_identical_log_items_and_items_without_a_time_are_each_recorded_once(
    finder, dynamodb, drs: FakeDrs
) -> None:
    job_id = drs.add_job(SERVERS[:1])
    drs.start(job_id)
    twin = {
        "event": "SNAPSHOT_START",
        "eventData": {"sourceServerID": SERVERS[0]},
        "logDateTime": "2026-11-01T12:00:05.000Z",
    }
    drs.logs[job_id] += [dict(twin), dict(twin), {"event": "USING_PREVIOUS_SNAPSHOT_FAILED"}]
    put_execution(dynamodb, "exec-1", {job_id: "wave-a"})

    first = finder.poll()
    second = finder.poll()

    assert first.executions_failed == 0 and second.executions_failed == 0
    stored = events_of(dynamodb, "exec-1")
    assert len(stored) == len(drs.logs[job_id])
    keys = sorted(e["eventKey"] for e in stored)
    assert any(k.endswith("#2") for k in keys), "the second identical item has a key of its own"
    undated = [e for e in stored if e["event"] == "USING_PREVIOUS_SNAPSHOT_FAILED"]
    assert undated[0]["logDateTime"] == "2026-11-01T12:00:05.000000Z", "borrows the time before it"
    assert second.events_written == 0


def test_a_slow_poll_never_overwrites_newer_data(finder, dynamodb, drs: FakeDrs) -> None:
    """terminal-is-final: the poll read the item, then the runner ended it; the poll's write
    goes stale, is compared with the item as it is now, and leaves the outcome alone."""
    job_id = drs.add_job(SERVERS[:1])
    drs.start(job_id)
    put_execution(dynamodb, "exec-1", {job_id: "wave-a"}, extra={"version": 3})
    store = finder._executions
    apply = store.apply
    ended = {"done": False}

    def runner_ends_it_first(update: Any, polled_at: str, polled_by: str) -> None:
        if not ended["done"]:
            ended["done"] = True
            ExecutionRecords(EXECUTIONS_TABLE, client=dynamodb).save(
                "exec-1", 3, {"status": "COMPLETED", "endedAt": "2026-11-01T13:00:00.000000Z"}
            )
        apply(update, polled_at, polled_by)

    store.apply = runner_ends_it_first
    report = finder.poll()

    item = execution(dynamodb, "exec-1")
    assert report.executions_stale == 0 and report.executions_updated == 1
    assert item["status"] == "COMPLETED" and item["endedAt"] == "2026-11-01T13:00:00.000000Z"
    assert item["jobs"][job_id]["status"] == "STARTED", "late job data still recorded"
    assert item["version"] > 4


def test_a_job_drs_does_not_know_costs_only_itself_and_counts_add_up(
    finder, dynamodb, drs: FakeDrs
) -> None:
    """A tracked job DRS no longer lists is counted missing and the finder goes on to the
    execution's other jobs; each job's events keep their own keys, and the poll's counts
    are the sum over the jobs (mutation testing: a ``break`` there, or counts overwritten
    by the last job, went unnoticed)."""
    first, second = drs.add_job(SERVERS[:1]), drs.add_job(SERVERS[1:])
    for job_id in (first, second):
        drs.start(job_id)
        drs.finish(job_id)
    put_execution(
        dynamodb,
        "exec-1",
        {"drsjob-0123456789abcdef0": "wave-a", first: "wave-a", second: "wave-b"},
    )

    report = finder.poll()

    item = execution(dynamodb, "exec-1")
    assert report.jobs_missing == 1
    assert report.jobs_polled == 2 and report.jobs_completed == 2
    expected = len(drs.logs[first]) + len(drs.logs[second])
    assert report.log_items_read == expected
    assert report.events_written == expected and report.events_already_recorded == 0
    assert report.servers_updated == len(SERVERS)
    assert {item["jobs"][j]["status"] for j in (first, second)} == {"COMPLETED"}
    stored = events_of(dynamodb, "exec-1")
    assert len(stored) == expected, "each job's events stored under keys of their own"
    assert {e["jobId"] for e in stored} == {first, second}
