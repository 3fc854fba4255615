"""Recording the API's audited requests (``domain/audit.py``): the intent before the
operation, the outcome after it, or one record of a refusal.

The intent is written first and must be: an operation whose intent could not be written
does not run (the caller gets the ``StoreError``, answered 503). An outcome that cannot be
written is logged whole and does not undo or hide the operation's answer: its intent
stays in the trail, shown with the outcome ``unknown``.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from drs_orchestrator.domain import audit
from drs_orchestrator.errors import NotFoundError, OrchestratorError

if TYPE_CHECKING:
    from collections.abc import Callable

    from drs_orchestrator.adapters.audit import AuditTrail
    from drs_orchestrator.domain.audit import Request

#: Fields of an execution the trail keeps as its state (the whole item can be 350 KB).
EXECUTION_FIELDS = ("executionId", "planId", "mode", "status", "reason")


def summary(object_type: str, record: Any) -> Any:
    """What the trail keeps of an object or an answer: an execution's state, a readiness
    evaluation's verdict, anything else whole (bounded like a request body)."""
    if not isinstance(record, dict):
        return None
    if object_type == "execution" or "executionId" in record:
        return {k: record[k] for k in EXECUTION_FIELDS if record.get(k) is not None}
    if "findings" in record and "state" in record:
        return {
            "state": record["state"],
            "evaluatedAt": record.get("evaluatedAt"),
            "findings": len(record.get("findings") or ()),
        }
    return audit.kept_body(record)


class AuditRecorder:
    """Writes the trail's records for one deployment's API."""

    def __init__(
        self,
        trail: AuditTrail,
        retention_days: int,
        read_object: Callable[[str, str], dict[str, Any]],
        clock: Callable[[], str],
        logger: logging.Logger | Any = None,
    ) -> None:
        self._trail = trail
        self._retention_seconds = retention_days * 86400
        self._read_object = read_object
        self._clock = clock
        self._logger = logger or logging.getLogger(__name__)

    def _expires_at(self) -> int:
        return int(time.time()) + self._retention_seconds

    def begin(self, request: Request) -> dict[str, Any]:
        """Write the intent (the object as it is now included) and return it."""
        object_type, object_id = request.target
        before = None
        plan_id = request.path_parameters.get("planId")
        if object_id and request.method != "GET":
            try:
                current = self._read_object(object_type, object_id)
            except NotFoundError:
                current = None
            before = summary(object_type, current)
            if isinstance(current, dict) and not plan_id:
                plan_id = current.get("planId")
        written = audit.intent(
            request,
            at=self._clock(),
            plan_id=plan_id,
            before=before,
            expires_at=self._expires_at(),
        )
        self._trail.add(written)
        return written

    def finish(
        self,
        written: dict[str, Any],
        status: int,
        answer: Any,
        message: str | None,
        *,
        uncertain: bool = False,
    ) -> None:
        """Write the outcome; a failure is logged with the whole record, never raised.
        ``uncertain``: the operation failed on a call that may have taken effect; the
        outcome is ``unknown`` and ``after`` is the object as it is now, read again."""
        object_type, object_id, plan_id = written["objectType"], None, None
        after = None
        if status < 400:  # noqa: PLR2004
            object_type, object_id, plan_id = audit.created_object(object_type, answer)
            after = summary(object_type, answer)
        elif uncertain and written.get("objectId"):
            after = self._now_or_none(object_type, str(written["objectId"]))
        record = audit.outcome(
            written,
            status,
            after=after,
            message=message,
            object_type=object_type,
            object_id=object_id,
            plan_id=plan_id,
            uncertain=uncertain,
        )
        self._add_logged(record)

    def _now_or_none(self, object_type: str, object_id: str) -> Any:
        """The object as it is now, for an outcome in doubt (None if it cannot be read)."""
        try:
            return summary(object_type, self._read_object(object_type, object_id))
        except OrchestratorError:  # gone, or unreadable just now (NotFoundError is one)
            return None

    def refuse(self, request: Request, status: int, message: str) -> None:
        """The one record of a request refused before it ran."""
        record = audit.refused(
            request, at=self._clock(), status=status, message=message, expires_at=self._expires_at()
        )
        self._add_logged(record)

    def _add_logged(self, record: dict[str, Any]) -> None:
        try:
            self._trail.add(record)
        except OrchestratorError as exc:
            # The answer stands; the record is kept in the function's log instead.
            self._logger.error(
                "audit record not written",
                extra={"error": str(exc), "auditRecord": record},
            )
