"""The audit trail: who asked the API to change what, when, and what came of it.

Every request to an audited operation (each that changes something, and a readiness
evaluation asked for by hand: ``x-audit`` in the OpenAPI document) leaves records that are
only ever added, never changed:

- an **intent**, written after the caller's roles and the body were checked and before the
  operation runs: who, when, the action, its object, the object as it was (``before``) and
  the request. If it cannot be written, the operation does not run (the API answers 503).
- an **outcome**, written once the operation answered: the intent's facts again (so an
  outcome stands alone), the object as it is now (``after``) and the result. A request
  refused before it ran (no role, invalid body) has an outcome only: nothing was changed.

A request whose function died between the two, or whose outcome could not be written, is
shown by its intent with the outcome ``unknown``: the object itself then says what
happened. Both records of a request share its moment and id, so in every listing (newest first) a
request's outcome comes right before its intent and ``merge`` joins them.

Pure: records in, entries out.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

#: The partition of every record: one trail per deployment, newest first by ``sk``.
TRAIL = "api"
INTENT = "1-intent"
OUTCOME = "2-outcome"
#: A request body larger than this is kept as its digest and size only (an item must stay
#: under DynamoDB's 400 KB with the object before and after).
MAX_KEPT_BODY_BYTES = 64 * 1024
#: What each kind of object is called in the trail, by the path parameter naming it.
OBJECT_TYPES = {
    "groupId": "protection-group",
    "planId": "recovery-plan",
    "executionId": "execution",
}
#: The id a create answers with, by the type of object it creates.
CREATED_IDS = {"protection-group": "groupId", "recovery-plan": "planId"}


@dataclass(frozen=True)
class Actor:
    """Who asked: the Cognito user (``cognito:username``, else the e-mail, else ``sub``)."""

    user: str
    sub: str
    groups: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"user": self.user, "sub": self.sub, "groups": list(self.groups)}


def actor_from(claims: dict[str, Any], groups: set[str]) -> Actor:
    sub = str(claims.get("sub") or "")
    user = str(claims.get("cognito:username") or claims.get("email") or sub or "unknown")
    return Actor(user=user, sub=sub, groups=tuple(sorted(groups)))


@dataclass(frozen=True)
class Request:
    """An audited request as it came: who asked which operation of what."""

    request_id: str
    actor: Actor
    operation_id: str
    method: str
    path: str
    path_parameters: dict[str, str]
    body: Any = None

    @property
    def action(self) -> str:
        return action_of(self.operation_id, self.body)

    @property
    def target(self) -> tuple[str, str | None]:
        """The type and id of the object the request names (``object_of``)."""
        return object_of(self.path_parameters, self.path)


def action_of(operation_id: str, body: Any) -> str:
    """The action's name: the operation's, except a start, which says what it starts."""
    if operation_id == "startExecution" and isinstance(body, dict):
        return "startRecovery" if body.get("mode") == "RECOVERY" else "startDrill"
    return operation_id


#: The type of object a collection's path creates, by its first segment.
COLLECTIONS = {"protection-groups": "protection-group", "recovery-plans": "recovery-plan"}


def object_of(path_parameters: dict[str, str], path: str = "") -> tuple[str, str | None]:
    """The type and id of the object the path names (the innermost of them); a create's
    type is its collection's, its id known only from its answer (``created_object``)."""
    for name in ("executionId", "planId", "groupId"):
        if path_parameters.get(name):
            return OBJECT_TYPES[name], path_parameters[name]
    return COLLECTIONS.get(path.strip("/").split("/")[0], ""), None


def kept_body(body: Any) -> Any:
    """The request body as the trail keeps it: whole up to ``MAX_KEPT_BODY_BYTES``, else
    its SHA-256 and size."""
    if body in (None, {}):
        return None
    text = json.dumps(body, sort_keys=True, default=str)
    if len(text.encode()) <= MAX_KEPT_BODY_BYTES:
        return body
    return {"sha256": hashlib.sha256(text.encode()).hexdigest(), "bytes": len(text.encode())}


def sort_key(at: str, request_id: str, phase: str) -> str:
    return f"{at}#{request_id}#{phase}"


def outcome_of(status: int, *, uncertain: bool = False) -> str:
    """``uncertain``: the operation failed on an AWS call that may have taken effect (its
    answer lost): the trail says ``unknown`` rather than claim it failed."""
    if status < 400:  # noqa: PLR2004 - HTTP classes
        return "succeeded"
    if status < 500:  # noqa: PLR2004
        return "refused"
    return "unknown" if uncertain else "failed"


def intent(
    request: Request,
    *,
    at: str,
    plan_id: str | None,
    before: Any,
    expires_at: int,
) -> dict[str, Any]:
    """The record written before the operation runs."""
    object_type, object_id = request.target
    record = {
        "trail": TRAIL,
        "sk": sort_key(at, request.request_id, INTENT),
        "phase": INTENT,
        "requestId": request.request_id,
        "at": at,
        "actor": request.actor.user,
        "actorSub": request.actor.sub,
        "actorGroups": list(request.actor.groups),
        "action": request.action,
        "method": request.method,
        "path": request.path,
        "objectType": object_type,
        "expiresAt": expires_at,
    }
    optional = {
        "objectId": object_id,
        "planId": plan_id,
        "before": before,
        "request": kept_body(request.body),
    }
    return record | {k: v for k, v in optional.items() if v is not None}


def outcome(
    written: dict[str, Any],
    status: int,
    *,
    after: Any = None,
    message: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    plan_id: str | None = None,
    uncertain: bool = False,
) -> dict[str, Any]:
    """The record written once the operation answered: the intent's facts, the result and
    the object as it is now. ``object_*`` and ``plan_id`` name what the answer revealed
    (a created group or plan, a started execution); ``uncertain`` (a failure that may have
    taken effect) makes the outcome ``unknown``, ``after`` then saying what is so."""
    record = {
        **{k: v for k, v in written.items() if k not in ("before", "request")},
        "sk": sort_key(written["at"], written["requestId"], OUTCOME),
        "phase": OUTCOME,
        "status": status,
        "outcome": outcome_of(status, uncertain=uncertain),
    }
    for key in ("before", "request"):
        if key in written:
            record[key] = written[key]
    extra = {
        "objectType": object_type,
        "objectId": object_id,
        "planId": plan_id,
        "after": after,
        "message": message,
    }
    return record | {k: v for k, v in extra.items() if v is not None}


def refused(
    request: Request, *, at: str, status: int, message: str, expires_at: int
) -> dict[str, Any]:
    """The one record of a request refused before it ran (no role for it, invalid body):
    nothing was read or changed, so no object state and no request body."""
    written = intent(
        replace(request, body=None) if request.body is not None else request,
        at=at,
        plan_id=request.path_parameters.get("planId"),
        before=None,
        expires_at=expires_at,
    )
    written["action"] = request.action  # what was asked for, body or not
    return outcome(written, status, message=message)


def created_object(object_type: str, answer: Any) -> tuple[str, str | None, str | None]:
    """What a successful answer reveals: a created group or plan, a started execution
    (its plan stays the record's ``planId``). (type, id, plan id) — None where unknown."""
    if not isinstance(answer, dict):
        return object_type, None, None
    started = object_type == "recovery-plan" or answer.get("mode") == "FAILBACK"
    if "executionId" in answer and started:
        # A start (of a plan, or a failback of a recovery) made the execution it answers.
        return "execution", str(answer["executionId"]), answer.get("planId")
    key = CREATED_IDS.get(object_type)
    if key and answer.get(key):
        plan = answer[key] if object_type == "recovery-plan" else None
        return object_type, str(answer[key]), plan
    return object_type, None, None


#: What the trail shows of a request (the public shape, ``AuditEntry`` in the document).
_ENTRY_FIELDS = (
    "requestId",
    "at",
    "action",
    "method",
    "path",
    "objectType",
    "objectId",
    "planId",
    "before",
    "after",
    "request",
    "status",
    "message",
)


def entry(records: list[dict[str, Any]]) -> dict[str, Any]:
    """One request's records as one entry: its outcome (which carries the intent's facts),
    or its intent alone with the outcome ``unknown``."""
    chosen = next((r for r in records if r["phase"] == OUTCOME), records[0])
    shown = {k: chosen[k] for k in _ENTRY_FIELDS if chosen.get(k) is not None}
    return {
        **shown,
        "actor": {
            "user": chosen["actor"],
            "sub": chosen.get("actorSub", ""),
            "groups": list(chosen.get("actorGroups") or []),
        },
        "outcome": chosen.get("outcome", "unknown"),
    }


def merge(records: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
    """Entries from records listed newest first, each with the sort key a listing goes on
    after. A request's records are adjacent, its outcome first (``2-outcome`` sorts after
    ``1-intent``): an outcome is a whole entry, and the listing goes on after its intent
    (wherever that is: the next page, or another partition), so no request shows twice."""
    entries: list[tuple[dict[str, Any], str]] = []
    start = 0
    while start < len(records):
        end = start
        while end < len(records) and records[end]["requestId"] == records[start]["requestId"]:
            end += 1
        group = records[start:end]
        first = group[0]
        after = sort_key(first["at"], first["requestId"], INTENT)
        entries.append((entry(group), after))
        start = end
    return entries
