"""The whole-life fault matrix: one execution's life from the operator's start to its
report (tests/e2e/life.py: the API's start holding its servers, sleeps between ticks woken
by DRS's events, the hand-over to a fresh run, the approval the machine waits for given
through the API, the API's cancel while the approved wave launches, the
API's termination of the recovery instances, the finder's schedule and janitor settling
it), with one fault at one occurrence of one call site, of one of seven kinds (the five of
the drill's matrix, an answer lost after botocore's own retry, a crash that takes the
execution environment's warm objects with it).

Every site of the life, every occurrence a life always reaches and every kind make
``ALL_CASES``; a run takes a seeded sample of them, one per site drawn at random up to
``SAMPLE`` sites, so that runs reach every case over time. The seed is printed in the
suite's summary (``DRS_FAULT_SEED`` runs the same sample again; ``DRS_LIFE_SAMPLE=all`` runs
every case). Each case must end the execution as the operator asked, launch each server
once, terminate every recovery instance once, free every server, store the report whole,
publish every notification, and keep every invariant the checker knows.

``test_the_life_matrix_covers_every_call_site_of_a_life`` discovers the call sites by
living a life and fails when it reaches one the matrix does not list.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from typing import TYPE_CHECKING

import pytest

from drsctl.invariants import (
    final_violations,
    holds_violations,
    report_violations,
    violations,
)
from tests.e2e.conftest import FINDER_ACTION, drop_warm_objects, wait_until
from tests.e2e.faults import LIFE_KINDS, FaultInjector, site_scope
from tests.e2e.life import (
    API_CANCEL,
    API_RESUME,
    API_START,
    API_TERMINATE,
    APP,
    DB,
    live,
    prepare,
)

if TYPE_CHECKING:
    from tests.e2e.conftest import Harness
    from tests.e2e.life import Life


pytestmark = pytest.mark.matrix

#: The wave runner's actions a life's ticks are made by: a run's first tick (``start``)
#: and the others (``tick``) are one site, since where a hand-over falls decides which of
#: the two launches a wave or ends the execution.
TICKS = "ticks"
TICK_ACTIONS = frozenset({"start", "tick"})
#: Every call site of a life: (the handler's action, the AWS call point) -> how many
#: occurrences every life reaches (measured over lives on a loaded machine, and taken
#: with a margin where the threads' timing moves the count: the ticks', the wakes', the
#: sleeps' and the finder's).
LIFE_SITES: dict[tuple[str, str], int] = {
    # The operator's start: the plan and groups read, the holds, the audit and the execution
    # written, its state machine started.
    (API_START, "dynamodb:GetItem"): 3,
    (API_START, "dynamodb:Scan"): 1,
    (API_START, "dynamodb:PutItem"): 9,
    (API_START, "stepfunctions:StartExecution"): 1,
    # Ticks: the two launches, the hand-over to a fresh run, the end (the holds freed, the
    # notifications).
    (TICKS, "dynamodb:GetItem"): 4,
    (TICKS, "dynamodb:UpdateItem"): 10,
    (TICKS, "dynamodb:DeleteItem"): 6,
    (TICKS, "drs:StartRecovery"): 2,
    (TICKS, "stepfunctions:StartExecution"): 1,
    (TICKS, "sns:Publish"): 3,
    # Sleeps between ticks, and the wakes DRS's launch events bring.
    ("sleep", "dynamodb:GetItem"): 1,
    ("sleep", "dynamodb:PutItem"): 1,
    ("drs-event", "dynamodb:GetItem"): 5,
    ("drs-event", "dynamodb:UpdateItem"): 2,
    ("drs-event", "drs:DescribeJobs"): 2,
    ("drs-event", "stepfunctions:SendTaskSuccess"): 2,
    # The machine's wait for the approval (its task token saved), and the operator's
    # approval: the audit's intent and outcome, the record, the token handed back.
    ("awaitApproval", "dynamodb:GetItem"): 1,
    ("awaitApproval", "dynamodb:UpdateItem"): 1,
    (API_RESUME, "dynamodb:GetItem"): 4,
    (API_RESUME, "dynamodb:PutItem"): 2,
    (API_RESUME, "dynamodb:UpdateItem"): 2,
    (API_RESUME, "stepfunctions:SendTaskSuccess"): 1,
    # The operator's cancel: the audit's intent and outcome, the record.
    (API_CANCEL, "dynamodb:GetItem"): 4,
    (API_CANCEL, "dynamodb:PutItem"): 2,
    (API_CANCEL, "dynamodb:UpdateItem"): 1,
    # The operator's termination of the recovery instances.
    (API_TERMINATE, "dynamodb:GetItem"): 3,
    (API_TERMINATE, "dynamodb:PutItem"): 2,
    (API_TERMINATE, "dynamodb:UpdateItem"): 2,
    (API_TERMINATE, "drs:TerminateRecoveryInstances"): 1,
    # The finder's schedule and janitor: the launches and the termination followed, the
    # report stored, the execution settled.
    (FINDER_ACTION, "dynamodb:Query"): 8,
    (FINDER_ACTION, "dynamodb:GetItem"): 6,
    (FINDER_ACTION, "dynamodb:UpdateItem"): 12,
    (FINDER_ACTION, "dynamodb:BatchWriteItem"): 4,
    (FINDER_ACTION, "drs:DescribeJobs"): 6,
    (FINDER_ACTION, "drs:DescribeJobLogItems"): 4,
    (FINDER_ACTION, "stepfunctions:DescribeExecution"): 3,
    (FINDER_ACTION, "s3:PutObject"): 4,
}
#: Call sites a life reaches in some runs only, with why.
TIMING_SITES: dict[tuple[str, str], str] = {
    # Faulted in the drill's matrix (tests/e2e/test_fault_matrix.py), whose ticks always
    # follow their launches.
    (TICKS, "drs:DescribeJobs"): "a tick follows a launch only if no wake or schedule did",
    (TICKS, "drs:DescribeJobLogItems"): "as DescribeJobs: the schedule may read the events",
    (TICKS, "dynamodb:BatchWriteItem"): "as DescribeJobs: the schedule may record the events",
    ("sleep", "stepfunctions:SendTaskSuccess"): (
        "a sleep wakes itself only when a wake came while its tick ran"
    ),
}
#: The phases of an execution's life the sites lie in, as the summary line names them.
LIFE_PHASES = {
    API_START: "the API's start",
    TICKS: "ticks and the hand-over",
    "sleep": "sleeps",
    "drs-event": "wakes",
    "awaitApproval": "the approval's wait",
    API_RESUME: "the API's approval",
    API_CANCEL: "the API's cancel",
    API_TERMINATE: "the API's termination",
    FINDER_ACTION: "the finder's schedule and janitor",
}

ALL_CASES = [
    (action, point, occurrence, kind)
    for (action, point), reached in LIFE_SITES.items()
    for occurrence in range(1, reached + 1)
    for kind in LIFE_KINDS
]

#: Each site's cases, for the sample's draw.
CASES_BY_SITE: dict[tuple[str, str], list[tuple[str, str, int, str]]] = {
    site: [c for c in ALL_CASES if c[:2] == site] for site in LIFE_SITES
}


def fault_seed() -> int:
    """The run's seed: ``DRS_FAULT_SEED`` (tests/conftest.py sets one for the whole run, so
    every worker draws the same sample)."""
    return int(os.environ.get("DRS_FAULT_SEED") or 0)


def sample(seed: int, size: str) -> list[tuple[str, str, int, str]]:
    """The run's cases: ``size`` sites (``all``: every case of every site) drawn with
    ``seed``, each with one occurrence and one kind drawn too, in the matrix's order."""
    if size == "all":
        return ALL_CASES
    draw = random.Random(seed)  # noqa: S311 - a sample of cases, not a secret
    sites = draw.sample(sorted(LIFE_SITES), min(int(size), len(LIFE_SITES)))
    chosen = {draw.choice(CASES_BY_SITE[site]) for site in sites}
    return [case for case in ALL_CASES if case in chosen]


#: Sites per run (``DRS_LIFE_SAMPLE``: a number, or ``all``).
SAMPLE = os.environ.get("DRS_LIFE_SAMPLE", "16")
CASES = sample(fault_seed(), SAMPLE)


def phases_covered() -> list[str]:
    actions = {action for action, _ in LIFE_SITES}
    return [phase for action, phase in LIFE_PHASES.items() if action in actions]


def assert_lived_well(harness: Harness, life: Life) -> None:
    """Everything a life must leave, whatever fault it met."""
    items = [harness.execution(e) for e in life.made]
    drs_jobs = harness.drs_jobs()
    for made in items:
        assert violations(made, drs_jobs) == [], made["executionId"]
        assert "watch" not in made, "settled: nothing left for the finder to follow"
        if made["executionId"] != life.execution_id:  # a start that failed: nothing ran
            assert made["status"] == "FAILED", made["status"]
            assert not made.get("jobs"), "a start that failed launched nothing"
    assert holds_violations(items, harness.holds()) == []
    assert harness.holds() == {}, "every server free"
    item = harness.execution(life.execution_id)
    assert life.ended_as is not None
    assert final_violations(life.ended_as, item) == []
    assert item["status"] == "CANCELLED", item.get("reason")
    waves = {w["name"]: w for w in item["waves"]}
    assert (waves["Db"]["status"], waves["Web"]["status"]) == ("COMPLETED", "SKIPPED")
    # The cancel can land between App's launch written down and DRS asked (a fault there
    # widens the window): App is then not launched, and says so.
    app_launched = waves["App"]["status"] == "COMPLETED"
    if not app_launched:
        assert waves["App"]["status"] == "FAILED", waves["App"]
        assert "not launched: cancelled" in waves["App"]["reason"], waves["App"]["reason"]
    expected = [*DB, *APP] if app_launched else DB
    launched = [
        s["sourceServerID"]
        for j in drs_jobs
        if j["type"] == "LAUNCH"
        for s in j["participatingServers"]
    ]
    assert sorted(launched) == sorted(expected), "each server launched once, Web never"
    instances = {
        s["recoveryInstanceId"] for s in item["servers"].values() if s.get("recoveryInstanceId")
    }
    assert len(instances) == len(expected)
    assert harness.drs.terminated == instances, "every recovery instance terminated"
    terminating = {j["jobID"] for j in drs_jobs if j["type"] == "TERMINATE"}
    assert terminating, "the instances were terminated by a DRS job"
    assert terminating <= set(item["jobs"]), "every TERMINATE job on the record"
    assert {item["jobs"][j]["status"] for j in terminating} == {"COMPLETED"}, "followed"
    started = {t["jobId"] for t in item["terminations"] if t["status"] == "STARTED"}
    assert started, item["terminations"]
    assert started <= terminating, "a request names the job it started"
    # Every run ends (a run handed over to twice, a lost save, still sleeps its last second).
    wait_until(
        lambda: all(r["status"] != "RUNNING" for r in harness.machine_runs(life.execution_id)),
        message="every run of the execution ended",
    )
    assert item.get("outbox") == {}, "every notification published"
    told = [n["event"] for n in harness.notifications() if n["executionId"] == life.execution_id]
    assert {"started", "waiting for approval", "cancelled"} <= set(told), told
    status, trail = harness.api(
        "GET", "/audit", groups="read-only", query={"object": life.execution_id}
    )
    assert status == 200, trail
    approvals = [e for e in trail["items"] if e["action"] == "resumeExecution"]
    assert any(e["outcome"] in ("succeeded", "unknown") for e in approvals), "approval audited"
    stored = harness.stored_report(life.execution_id)
    assert report_violations(item, stored, len(harness.events(life.execution_id))) == []


@pytest.fixture
def planned(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> str:
    return prepare(harness, monkeypatch)


def test_a_life_without_faults_keeps_every_invariant(
    harness: Harness, planned: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    FaultInjector().install(monkeypatch)
    life = live(harness, planned)
    assert_lived_well(harness, life)
    assert len(harness.machine_runs(life.execution_id)) >= 2, "handed over to a fresh run"
    assert len(harness.drs_jobs()) == 3, "Db's launch, App's, and one termination"


def test_the_life_matrix_covers_every_call_site_of_a_life(
    harness: Harness, planned: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    injector = FaultInjector()
    injector.install(monkeypatch)
    life = live(harness, planned)
    sites = Counter(injector.sites)  # the life's own calls, before the checks' reads
    assert_lived_well(harness, life)
    assert len(harness.machine_runs(life.execution_id)) >= 2, "handed over to a fresh run"
    reached = {(TICKS if a in TICK_ACTIONS else a, p) for a, p in sites}
    made = Counter()
    for (a, p), count in sites.items():
        made[(TICKS if a in TICK_ACTIONS else a, p)] += count
    assert reached - set(LIFE_SITES) - set(TIMING_SITES) == set(), "a site without its row"
    assert set(LIFE_SITES) - reached == set(), "the matrix lists a site a life never reaches"
    for site, occurrences in LIFE_SITES.items():
        assert made[site] >= occurrences, f"{site} made {made[site]} times"
    assert set(LIFE_PHASES) == {action for action, _ in LIFE_SITES}


@pytest.mark.parametrize(("action", "point", "occurrence", "kind"), CASES)
def test_one_fault_in_a_life(
    harness: Harness,
    planned: str,
    monkeypatch: pytest.MonkeyPatch,
    action: str,
    point: str,
    occurrence: int,
    kind: str,
) -> None:
    injector = FaultInjector(
        point=point,
        kind=kind,
        occurrence=occurrence,
        scope=TICK_ACTIONS if action == TICKS else site_scope(action),
        drop_warm=drop_warm_objects,
    )
    injector.install(monkeypatch)
    life = live(harness, planned)
    assert injector.injected == [(point, kind)], f"never reached: {injector.sites}"
    assert_lived_well(harness, life)


def test_the_sample_is_the_seed_s_and_reaches_every_case_over_seeds() -> None:
    """One seed, one sample (every worker draws the same); over seeds, every site's every
    occurrence and every kind is drawn."""
    assert sample(7, "16") == sample(7, "16")
    assert len(sample(7, "16")) == 16
    assert {(a, p) for a, p, _, _ in sample(7, "16")} <= set(LIFE_SITES)
    drawn = {case for seed in range(3000) for case in sample(seed, "16")}
    assert drawn == set(ALL_CASES)
    assert len(ALL_CASES) == len(LIFE_KINDS) * sum(LIFE_SITES.values())
    assert sample(7, "all") == ALL_CASES
