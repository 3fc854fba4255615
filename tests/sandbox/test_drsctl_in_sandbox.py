# ruff: noqa: F811 - the ``sandbox`` fixture is imported from test_targets_in_sandbox
"""``drsctl`` drives what an operator does through the API, in a sandbox, end to end (issue
30): plans and executions listed and shown, a drill that waits for its approval (exit 3),
approved and followed to its end (exit 0), its instances terminated; a recovery to a point
in time; its failback, which waits for its cut-over (exit 3, where it once said 0), then
approved home. ``--json`` prints what scripts read; the exit codes tell completed, failed
and waiting for a person apart."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import pytest

from tests.console.conftest import ROOT
from tests.patience import PATIENCE

# The same sandbox fixture (one sandbox for this module), and its helpers.
from tests.sandbox.test_targets_in_sandbox import drsctl, post, sandbox  # noqa: F401

if TYPE_CHECKING:
    from tests.console.conftest import RunningSandbox

pytestmark = pytest.mark.sandbox

PLAN = "Orders three-tier"  # seeded: three waves, paused before the last


def run(sandbox: RunningSandbox, *args: str) -> subprocess.CompletedProcess[str]:
    return drsctl(*args[:2], *args[2:], "--sandbox", str(sandbox.workdir))


def test_plans_are_listed_and_shown(sandbox: RunningSandbox) -> None:
    listed = run(sandbox, "plans", "dev", "--json")
    assert listed.returncode == 0, listed.stderr
    plans = json.loads(listed.stdout)
    assert PLAN in [p["name"] for p in plans]
    shown = run(sandbox, "plans", "dev", PLAN)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"{PLAN} (")
    assert "  wave Web tier after App tier, pauses for approval: " in shown.stdout
    missing = run(sandbox, "plans", "dev", "Nope")
    assert missing.returncode == 2
    assert f"dev has no recovery plan named 'Nope' (its plans: {PLAN}" in missing.stderr


def test_a_drill_waits_for_its_approval_then_completes_and_is_cleaned_up(
    sandbox: RunningSandbox,
) -> None:
    started = run(sandbox, "drill", "dev", PLAN, "--wait", "--timeout", "120")
    assert started.returncode == 3, started.stdout + started.stderr  # waits for a person
    execution_id = started.stdout.split()[1]
    assert started.stdout.splitlines()[0] == f"drill {execution_id} of {PLAN} started"
    assert f"waits for the approval of Web tier: drsctl approve dev {execution_id}" in (
        started.stdout
    )
    assert "  wave Databases: COMPLETED" in started.stdout

    approved = run(sandbox, "approve", "dev", execution_id, "--wait", "--json")
    assert approved.returncode == 0, approved.stdout + approved.stderr
    item = json.loads(approved.stdout)  # standard output is the JSON alone
    assert (item["executionId"], item["status"]) == (execution_id, "COMPLETED")
    assert f"execution {execution_id}: COMPLETED" in approved.stderr

    listed = json.loads(run(sandbox, "executions", "dev", "--status", "COMPLETED", "--json").stdout)
    assert execution_id in [e["executionId"] for e in listed]
    shown = run(sandbox, "executions", "dev", execution_id)
    assert shown.stdout.startswith(f"{execution_id}: DRILL of {PLAN}, COMPLETED")
    by_plan = run(sandbox, "executions", "dev", "--plan", PLAN)
    assert execution_id in by_plan.stdout and by_plan.stdout.startswith("EXECUTION")

    terminated = run(sandbox, "terminate", "dev", execution_id, "--json")
    assert terminated.returncode == 0, terminated.stderr
    deadline = time.monotonic() + PATIENCE
    while True:
        servers = sandbox.get(f"/api/executions/{execution_id}", sandbox.token())["servers"]
        statuses = {s.get("terminationStatus") for s in servers.values()}
        if statuses == {"TERMINATED"} or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert statuses == {"TERMINATED"}
    # A second drill's approval of an ended execution is refused: exit 2, the API's reason.
    again = run(sandbox, "approve", "dev", execution_id)
    assert again.returncode == 2 and "answered 409" in again.stderr


def test_a_recovery_and_its_failback_through_drsctl(sandbox: RunningSandbox) -> None:
    point = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    started = run(
        sandbox, "recover", "dev", PLAN, "--point-in-time", point, "--wait", "--timeout", "120"
    )
    assert started.returncode == 3, started.stdout + started.stderr
    recovery_id = started.stdout.split()[1]
    done = run(sandbox, "approve", "dev", recovery_id, "--wait")
    assert done.returncode == 0, done.stdout + done.stderr
    recovery = sandbox.get(f"/api/executions/{recovery_id}", sandbox.token())
    assert recovery["mode"] == "RECOVERY" and recovery["pointInTime"] == point

    # The failback, followed: the operator boots the failback clients meanwhile, and it
    # stops at the plan's pause, the cut-over, with exit 3 (it once exited 0 there).
    command = [sys.executable, "-m", "drsctl", "failback", "dev", recovery_id, "--wait"]
    command += ["--timeout", "150", "--sandbox", str(sandbox.workdir)]
    following = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    failback_id = boot_failback_clients(sandbox, recovery_id)
    out, err = following.communicate(timeout=PATIENCE)
    assert following.returncode == 3, out + err
    assert "waits for the cut-over approval of Web tier" in out

    home = run(sandbox, "approve", "dev", failback_id, "--wait", "--timeout", "120")
    assert home.returncode == 0, home.stdout + home.stderr
    item = sandbox.get(f"/api/executions/{failback_id}", sandbox.token())
    assert item["status"] == "COMPLETED"
    assert {s["step"] for s in item["failback"].values()} == {"HOME"}


def boot_failback_clients(sandbox: RunningSandbox, recovery_id: str) -> str:
    """The failback of ``recovery_id``, once it exists, with its on-premises servers'
    failback clients booted (the sandbox's control)."""
    deadline = time.monotonic() + PATIENCE
    while True:
        found = [
            e
            for e in sandbox.get("/api/executions?limit=100", sandbox.token())["items"]
            if e.get("recoveryExecutionId") == recovery_id
        ]
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert found, f"no failback of {recovery_id}"
    item: dict[str, Any] = found[0]
    waiting = [s["instance"] for s in item["failback"].values() if not s.get("origin")]
    post(sandbox, "/sandbox/failback-clients", {"recoveryInstanceIds": waiting}, api="")
    return str(item["executionId"])
