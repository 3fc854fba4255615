"""Following an execution from the command line, and the exit codes that say how it ended.

Scripts (and the operator on the day the console is unreachable) need to tell apart an
execution that completed, one that failed, and one that waits for a person, without
parsing text: every ``drsctl`` command that starts or steers an execution and waits for it
exits with one of ``ExitCode``'s values, and says each change as it happens on the way.
"""

from __future__ import annotations

import sys
import time
from enum import IntEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

#: Seconds between two readings of an execution while following it.
FOLLOW_SECONDS = 2.0
TERMINAL = ("COMPLETED", "FAILED", "CANCELLED")


class ExitCode(IntEnum):
    """What a command's exit status means, the same for every command."""

    #: Completed (or, without ``--wait``, asked and accepted; a listing printed).
    DONE = 0
    #: The execution failed or was cancelled (a readiness check: a plan needs action).
    FAILED = 1
    #: The command could not be carried out: bad arguments, refused by the API, unreachable.
    USAGE = 2
    #: The execution waits for a person: a wave's approval, a failback's cut-over.
    WAITING_FOR_A_PERSON = 3
    #: ``--wait`` ran out of time while the execution was still running.
    STILL_RUNNING = 4


def progress(as_json: bool) -> Callable[[str], None]:
    """Where a command says what happens: standard error when ``--json`` keeps standard
    output for the JSON alone, else standard output."""
    if as_json:
        return lambda line: print(line, file=sys.stderr)
    return print


def exit_code(item: dict[str, Any]) -> ExitCode:
    """The exit code an execution's reading stands for."""
    status = item.get("status")
    if status == "COMPLETED":
        return ExitCode.DONE
    if status in ("FAILED", "CANCELLED"):
        return ExitCode.FAILED
    if status == "PAUSED":
        return ExitCode.WAITING_FOR_A_PERSON
    return ExitCode.STILL_RUNNING


def _changes(item: dict[str, Any], seen: dict[str, str]) -> list[str]:
    """What moved since the last reading: waves, servers' launches, wave actions."""
    said = []
    for wave in item.get("waves") or ():
        status = wave["status"] + (f" ({wave['reason']})" if wave.get("reason") else "")
        if seen.get(f"wave {wave['name']}") != status:
            seen[f"wave {wave['name']}"] = status
            said.append(f"  wave {wave['name']}: {status}")
        for run in wave.get("actionRuns") or ():
            key = f"{wave['name']}#{run.get('phase', '')}#{run['index']}"
            status = run["status"] + (f" ({run['failure']})" if run.get("failure") else "")
            if seen.get(key) != status:
                seen[key] = status
                said.append(f"  wave {wave['name']}, {run['document']}: {status}")
    for server, state in sorted((item.get("servers") or {}).items()):
        status = state.get("launchStatus", "PENDING")
        if state.get("recoveryInstanceId"):
            status += f" ({state['recoveryInstanceId']})"
        if seen.get(server) != status:
            seen[server] = status
            said.append(f"  {server}: {status}")
    return said


def follow_execution(
    read: Callable[[], dict[str, Any]],
    timeout: float,
    say: Callable[[str], None],
    pause: Callable[[float], None] = time.sleep,
    approve_hint: str = "",
) -> dict[str, Any]:
    """Read a drill or recovery until it ends or waits for an approval, saying each change;
    the last reading. Past ``timeout`` seconds, the reading as it is (still running)."""
    deadline = time.monotonic() + timeout
    seen: dict[str, str] = {}
    while True:
        item = read()
        for line in _changes(item, seen):
            say(line)
        if item["status"] == "PAUSED":
            waiting = [w["name"] for w in item["waves"] if w["status"] == "AWAITING_APPROVAL"]
            say(f"waits for the approval of {', '.join(waiting) or 'a wave'}{approve_hint}")
            return item
        if item["status"] in TERMINAL:
            reason = f": {item['reason']}" if item.get("reason") else ""
            say(f"execution {item['executionId']}: {item['status']}{reason}")
            return item
        if time.monotonic() > deadline:
            say(f"execution {item['executionId']} is still {item['status']} after {timeout:.0f} s")
            return item
        pause(FOLLOW_SECONDS)
