"""Statuses of executions, waves and servers, and the one table of allowed transitions.

Every status change goes through ``transition``; a change the table does not allow raises
``InvalidTransitionError`` instead of silently corrupting an execution.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from drs_orchestrator.errors import OrchestratorError


class InvalidTransitionError(OrchestratorError):
    """Raised when a status change is not in the transition table."""


class ExecutionStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    CANCELLING = "CANCELLING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class WaveStatus(StrEnum):
    PENDING = "PENDING"
    #: A failback's wave replicating back until every server is ready for launch.
    REPLICATING = "REPLICATING"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    PRE_ACTIONS = "PRE_ACTIONS"
    LAUNCHING = "LAUNCHING"
    LAUNCHED = "LAUNCHED"
    POST_ACTIONS = "POST_ACTIONS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


class ServerStatus(StrEnum):
    """DRS per-server ``launchStatus``."""

    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    LAUNCHED = "LAUNCHED"
    FAILED = "FAILED"
    TERMINATED = "TERMINATED"


E, W, S = ExecutionStatus, WaveStatus, ServerStatus

EXECUTION_TRANSITIONS: dict[ExecutionStatus, frozenset[ExecutionStatus]] = {
    E.PENDING: frozenset({E.RUNNING, E.CANCELLING, E.CANCELLED, E.FAILED}),
    E.RUNNING: frozenset({E.PAUSED, E.CANCELLING, E.COMPLETED, E.FAILED}),
    E.PAUSED: frozenset({E.RUNNING, E.CANCELLING, E.FAILED}),
    E.CANCELLING: frozenset({E.CANCELLED, E.FAILED}),
    E.COMPLETED: frozenset(),
    E.FAILED: frozenset(),
    E.CANCELLED: frozenset(),
}

WAVE_TRANSITIONS: dict[WaveStatus, frozenset[WaveStatus]] = {
    W.PENDING: frozenset(
        {W.REPLICATING, W.AWAITING_APPROVAL, W.PRE_ACTIONS, W.LAUNCHING, W.SKIPPED, W.FAILED}
    ),
    W.REPLICATING: frozenset({W.AWAITING_APPROVAL, W.LAUNCHING, W.SKIPPED, W.FAILED}),
    W.AWAITING_APPROVAL: frozenset({W.PRE_ACTIONS, W.LAUNCHING, W.SKIPPED, W.FAILED}),
    W.PRE_ACTIONS: frozenset({W.LAUNCHING, W.FAILED, W.SKIPPED}),
    W.LAUNCHING: frozenset({W.LAUNCHED, W.FAILED}),
    W.LAUNCHED: frozenset({W.POST_ACTIONS, W.COMPLETED, W.FAILED}),
    W.POST_ACTIONS: frozenset({W.COMPLETED, W.FAILED}),
    W.COMPLETED: frozenset(),
    W.FAILED: frozenset(),
    W.SKIPPED: frozenset(),
}

SERVER_TRANSITIONS: dict[ServerStatus, frozenset[ServerStatus]] = {
    S.PENDING: frozenset({S.IN_PROGRESS, S.LAUNCHED, S.FAILED}),
    S.IN_PROGRESS: frozenset({S.LAUNCHED, S.FAILED}),
    S.LAUNCHED: frozenset({S.TERMINATED}),
    S.FAILED: frozenset({S.TERMINATED}),
    S.TERMINATED: frozenset(),
}

TERMINAL_EXECUTION = frozenset({E.COMPLETED, E.FAILED, E.CANCELLED})
#: A wave in one of these has launched its servers: waves depending on it may start.
WAVE_HAS_LAUNCHED = frozenset({W.LAUNCHED, W.POST_ACTIONS, W.COMPLETED})
WAVE_FINISHED = frozenset({W.COMPLETED, W.FAILED, W.SKIPPED})
#: Waves holding DRS jobs that may still be running.
WAVE_ACTIVE = frozenset({W.LAUNCHING})

_TABLES = {
    ExecutionStatus: EXECUTION_TRANSITIONS,
    WaveStatus: WAVE_TRANSITIONS,
    ServerStatus: SERVER_TRANSITIONS,
}


StatusT = TypeVar("StatusT", ExecutionStatus, WaveStatus, ServerStatus)


def transition(current: StatusT, new: StatusT) -> StatusT:
    """``new`` if the table allows ``current`` -> ``new`` (or they are equal); else raise."""
    if current == new:
        return new
    table = _TABLES[type(current)]
    if new not in table[current]:
        kind = type(current).__name__.removesuffix("Status").lower()
        msg = f"{kind} cannot go from {current} to {new}"
        raise InvalidTransitionError(msg)
    return new
