"""An execution's whole life as an operator lives it, for the whole-life fault matrix
(tests/e2e/test_life_matrix.py): started through the API (its servers held, its state
machine started), sleeping between ticks and woken by DRS's launch events, handing over to
a fresh run, its second wave approved through the API once the machine waits for it,
cancelled through the API while that wave launches, its recovery
instances terminated through the API once it ended, and settled by the finder's schedule
and janitor (the termination followed, the report stored).

The operator here does what a person at the console does when a request fails: asks again
(a 5xx, a 502 from a function that died, a 409 while a dead start's servers are not freed
yet), up to ``ATTEMPTS`` times, the finder's schedule running in between.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from tests.e2e.conftest import FINDER_ACTION, REGION, wait_until
from tests.e2e.test_fault_matrix import hold_launches_until_described
from tests.patience import PATIENCE

if TYPE_CHECKING:
    import pytest

    from tests.e2e.conftest import Harness

#: A real pause: the harness makes ``time.sleep`` return at once (botocore's back-off), and
#: a loop of the operator's spinning would take the cores the state machine's thread needs.
pause = time.sleep

#: The handler actions of the API's requests in a life (``Harness.api``'s ``action``).
API_START, API_CANCEL, API_TERMINATE = "api-start", "api-cancel", "api-terminate"
API_RESUME = "api-resume"
#: How often the operator asks again after a failed request.
ATTEMPTS = 6
DB = [f"s-1ife00000000000d{n}" for n in range(2)]
APP = [f"s-1ife00000000000a{n}" for n in range(3)]
WEB = [f"s-1ife00000000000w{n}" for n in range(1)]
#: Ticks per state machine run: the life hands over to a fresh run at least once.
TICKS_PER_RUN = 2
#: How long a termination written down and not started stands "asked for" (deployed:
#: ``TERMINATION_IN_FLIGHT``, 5 minutes): the operator told to ask again after it waits.
IN_FLIGHT_SECONDS = 2
#: The end of a 409 that says when a termination may be asked for again.
ASK_AGAIN = re.compile(r"ask again after (\S+)$")


@dataclass
class Life:
    """What the operator saw: every request's (action, status), the executions the API
    made (a start that failed makes one too), and the execution that ran."""

    answers: list[tuple[str, int]] = field(default_factory=list)
    made: list[str] = field(default_factory=list)
    execution_id: str = ""
    #: The execution as first seen ended (``terminal-is-final`` compares it with later).
    ended_as: dict[str, Any] | None = None
    #: The operator's cancel went through (200, or 409: it already had).
    cancel_asked: bool = False
    terminated: bool = False


def prepare(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> str:
    """The life's world before any fault is armed: three protection groups and a plan of
    three waves in a chain (Db, App, Web; App waits for approval) made by an admin, sleeps
    of one second between ticks (woken by DRS's events), two ticks per run, the holds of a
    start that died abandoned at once, a termination that died before DRS was asked
    standing "asked for" two seconds. Returns the plan's id."""
    from drs_orchestrator.handlers import api, wave_runner
    from drs_orchestrator.services import executions

    monkeypatch.setenv("POLL_SECONDS", "1")
    monkeypatch.setenv("TICKS_PER_RUN", str(TICKS_PER_RUN))
    # The operator asks again at once: the holds of a start that died are abandoned at
    # once (deployed: after 300 s; no other start races this one).
    monkeypatch.setenv("HOLDS_ABANDONED_AFTER_SECONDS", "0")
    monkeypatch.setattr(executions, "TERMINATION_IN_FLIGHT", timedelta(seconds=IN_FLIGHT_SECONDS))
    wave_runner._runner.cache_clear()
    api._catalog.cache_clear()
    for name, servers in (("life-db", DB), ("life-app", APP), ("life-web", WEB)):
        body = {"name": name, "region": REGION, "sourceServerIds": servers}
        status, made = harness.api(
            "POST", "/protection-groups", groups="admin", body=json.dumps(body)
        )
        assert status == 201, made
    plan = {
        "name": "life",
        "waves": [
            {"name": "Db", "protectionGroups": ["life-db"]},
            {
                "name": "App",
                "protectionGroups": ["life-app"],
                "dependsOn": ["Db"],
                "pauseBefore": True,
            },
            {"name": "Web", "protectionGroups": ["life-web"], "dependsOn": ["App"]},
        ],
    }
    status, created = harness.api("POST", "/recovery-plans", groups="admin", body=json.dumps(plan))
    assert status == 201, created
    # Home's launches end only once the finder's schedule described them: App is still
    # launching when the operator cancels, however the threads ran.
    hold_launches_until_described(harness.drs, FINDER_ACTION)
    return str(created["planId"])


def live(harness: Harness, plan_id: str, timeout: float = PATIENCE) -> Life:
    """Start, run, cancel, terminate and settle one execution of the plan."""
    life = Life()
    _hold_app_until_cancel_asked(harness, life)
    life.execution_id = _start(harness, plan_id, life)
    _run_and_cancel(harness, life, timeout)
    _terminate(harness, life)
    _settle(harness, life)
    return life


def _hold_app_until_cancel_asked(harness: Harness, life: Life) -> None:
    """App's launch ends only once the operator's cancel went through: the finder the
    operator's loop runs could otherwise describe App's job, launched between the loop's
    read and its run of the schedule, to its end before the loop saw App launching."""
    advance = harness.drs._advance

    def held(job_id: str) -> None:
        job = harness.drs.jobs[job_id]
        servers = {s["sourceServerID"] for s in job["participatingServers"]}
        app_running = job["type"] == "LAUNCH" and job["status"] == "STARTED" and servers & set(APP)
        if app_running and not life.cancel_asked:
            return
        advance(job_id)

    harness.drs._advance = held


def _ask(harness: Harness, life: Life, action: str, method: str, resource: str, **kw: Any) -> Any:
    status, body = harness.api(method, resource, action=action, **kw)
    life.answers.append((action, status))
    if status == 202 and action == API_START:
        life.made.append(body["executionId"])
    elif status == 503 and body and action == API_START:
        life.made.extend(w.rstrip(":") for w in body["message"].split() if w.startswith("ex-"))
    return status, body


def _start(harness: Harness, plan_id: str, life: Life) -> str:
    for _ in range(ATTEMPTS):
        status, body = _ask(
            harness,
            life,
            API_START,
            "POST",
            "/recovery-plans/{planId}/executions",
            body=json.dumps({"mode": "DRILL"}),
            planId=plan_id,
        )
        if status == 202:
            return str(body["executionId"])
        assert status in (409, 500, 502, 503), (status, body)
        running = _running_holder(harness, body) if status == 409 else None
        if running:  # the start whose answer was lost (502) did start: the operator follows it
            life.made.append(running)
            return running
        harness.run_finder()  # a dead start's execution is ended, its servers freed
    msg = f"the start never went through: {life.answers}"
    raise AssertionError(msg)


def _running_holder(harness: Harness, body: Any) -> str | None:
    """The execution a 409 names as holding the servers, if it is live: a start whose
    answer the operator never got (the function died after starting it) is running."""
    words = str((body or {}).get("message", "")).split()
    named = next((w for w in words if w.startswith("ex-")), None)
    if named is None:
        return None
    item = harness.records.get(named)
    return named if item and item["status"] not in ("COMPLETED", "FAILED", "CANCELLED") else None


def _run_and_cancel(harness: Harness, life: Life, timeout: float) -> None:
    """Deliver DRS's events (the sleeps' wakes) and run the schedule until the execution
    ended; approve the second wave once the machine waits for the approval, and cancel it
    once that wave launches (its launch ends only once the cancel was asked)."""
    cancelled = approved = False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        harness.deliver_drs_events()
        item = harness.execution(life.execution_id)
        waiting = item["status"] == "PAUSED" and "taskToken" in item
        if waiting and item["waves"][1]["status"] == "AWAITING_APPROVAL" and not approved:
            approved = _control(harness, life, API_RESUME, "resume")
        launching = item["waves"][1]["status"] == "LAUNCHING"
        if launching and not cancelled:
            cancelled = life.cancel_asked = _control(harness, life, API_CANCEL, "cancel")
        if cancelled or not launching:
            harness.run_finder()
        ended = item["status"] in ("COMPLETED", "FAILED", "CANCELLED")
        life.ended_as = life.ended_as or (item if ended else None)
        if ended and harness.machine_status(life.execution_id, timeout=0.5) != "RUNNING":
            return
        pause(0.05)
    msg = f"{life.execution_id} never ended: {harness.execution(life.execution_id)['status']}"
    raise AssertionError(msg)


def _control(harness: Harness, life: Life, action: str, control: str) -> bool:
    """The operator's ``POST /executions/{id}/<control>`` (resume: the approval; cancel);
    True once it went through (200, or 409: it already had, its answer lost)."""
    status, body = _ask(
        harness,
        life,
        action,
        "POST",
        f"/executions/{{executionId}}/{control}",
        executionId=life.execution_id,
    )
    assert status in (200, 409, 500, 502, 503), (status, body)
    return status in (200, 409)


def _terminate(harness: Harness, life: Life) -> None:
    """Ask for the recovery instances' termination until it went through: 202, or a 409
    saying nothing is left. A 409 naming when to ask again (a request written down whose
    function may have died before DRS was asked) is waited out, the schedule running
    meanwhile (it records a TERMINATE job DRS started unheard), and asked again."""
    for _ in range(ATTEMPTS):
        status, body = _ask(
            harness,
            life,
            API_TERMINATE,
            "POST",
            "/executions/{executionId}/terminate-instances",
            executionId=life.execution_id,
        )
        again = ASK_AGAIN.search(body.get("message", "")) if status == 409 else None
        if again is not None:
            _wait_out(harness, again.group(1))
            continue
        if status in (202, 409):
            life.terminated = True
            return
        assert status in (500, 502, 503), (status, body)
        harness.run_finder()
    msg = f"the termination never went through: {life.answers}"
    raise AssertionError(msg)


def _wait_out(harness: Harness, stamp: str) -> None:
    """Until ``stamp`` has passed (a moment more, for the clocks' rounding), the finder's
    schedule running."""
    from drs_orchestrator.domain.timestamps import parse_drs_timestamp

    until = parse_drs_timestamp(stamp).timestamp() + 0.5
    while time.time() < until:
        harness.run_finder()
        pause(0.2)


def _settle(harness: Harness, life: Life) -> None:
    """The schedule follows the termination and settles every execution made."""

    def settled() -> bool:
        harness.run_finder()
        return all("watch" not in harness.execution(e) for e in life.made)

    wait_until(settled, message="every execution settled")
