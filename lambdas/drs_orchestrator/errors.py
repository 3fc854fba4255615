"""Exceptions of the orchestrator runtime, raised by adapters and domain code alike, and the
REST API's answer to each: ``ApiError.status``, and ``UNAVAILABLE`` for AWS trouble."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from drs_orchestrator.domain.plans import Problem


class OrchestratorError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigurationError(OrchestratorError):
    """Raised when a handler starts without an environment variable it needs."""


class DrsError(OrchestratorError):
    """Raised when a DRS call fails for a reason the caller cannot fix by retrying now."""

    def __init__(self, operation: str, code: str, message: str) -> None:
        self.operation = operation
        self.code = code
        super().__init__(f"DRS {operation} failed with {code}: {message}")


class DrsThrottledError(DrsError):
    """Raised when DRS still throttles a call after the client's retries with backoff."""


class DrsRequestRejectedError(DrsError):
    """Raised when DRS rejects a request as invalid (ValidationException, not found)."""


class DrsAccessDeniedError(DrsError):
    """Raised when the function's role may not make a DRS call, or DRS is not initialised."""


class Ec2Error(OrchestratorError):
    """Raised when an EC2 call (launch templates, subnets, instance types) fails for a
    reason other than a missing template; ``code`` is EC2's."""

    def __init__(self, operation: str, code: str, message: str) -> None:
        self.operation = operation
        self.code = code
        super().__init__(f"EC2 {operation} failed with {code}: {message}")


class IamError(OrchestratorError):
    """Raised when IAM refuses a policy simulation (the role may not simulate, or the role
    simulated does not exist); ``code`` is IAM's."""

    def __init__(self, operation: str, code: str, message: str) -> None:
        self.operation = operation
        self.code = code
        super().__init__(f"IAM {operation} failed with {code}: {message}")


class TargetUnreachableError(OrchestratorError):
    """Raised when the role of a DRS target cannot be assumed. ``transient`` when trying
    again later may work (throttled, no answer); otherwise the target is unreachable as
    configured (access denied: trust, external id or region) and what needs it fails."""

    def __init__(self, target: str, reason: str, transient: bool) -> None:
        self.target = target
        self.reason = reason
        self.transient = transient
        super().__init__(f"DRS target {target} cannot be reached: {reason}")


#: DynamoDB failures after which a write may have taken effect: the service failed on its
#: side, or its answer was lost on the way (botocore names those by exception class).
UNCERTAIN_STORE_CODES = frozenset(
    {
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "ReadTimeoutError",
        "ConnectionClosedError",
        "ResponseParserError",
    }
)


class StoreError(OrchestratorError):
    """Raised when a DynamoDB call fails for a reason other than a failed condition."""

    def __init__(self, operation: str, code: str, message: str) -> None:
        self.operation = operation
        self.code = code
        super().__init__(f"DynamoDB {operation} failed with {code}: {message}")

    @property
    def outcome_unknown(self) -> bool:
        """A write that may have taken effect all the same (not throttled, not refused)."""
        return self.code in UNCERTAIN_STORE_CODES


class ReportStoreError(OrchestratorError):
    """Raised when S3 refuses to store or describe an execution report (after the client's
    retries)."""

    def __init__(self, operation: str, code: str) -> None:
        self.operation = operation
        self.code = code
        super().__init__(f"S3 {operation} of an execution report failed with {code}")


class MalformedExecutionError(OrchestratorError):
    """Raised when an execution item lacks what the finder needs to track its jobs."""


class OutcomeUnknownError(OrchestratorError):
    """Raised when a call's answer was lost (time-out, dropped connection, a 5xx): the call
    may or may not have taken effect, so the caller must reconcile before repeating it."""

    def __init__(self, operation: str, detail: str) -> None:
        self.operation = operation
        super().__init__(f"{operation}: outcome unknown ({detail})")


class ApiError(OrchestratorError):
    """Base of the errors the API maps to HTTP statuses."""

    status = 500

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        self.problems = problems or []
        super().__init__(message)


class BadRequestError(ApiError):
    """Raised when a request is invalid; ``problems`` name each field and reason."""

    status = 400


class ForbiddenError(ApiError):
    """Raised when the caller's Cognito groups do not allow the operation."""

    status = 403


class NotFoundError(ApiError):
    """Raised when the id in the path names no record."""

    status = 404


class ConflictError(ApiError):
    """Raised on a stale version, or a request that clashes with other records."""

    status = 409


class ServiceUnavailableError(ApiError):
    """Raised when an AWS service the request needs refused it; nothing was left half done."""

    status = 503


#: AWS trouble that outlasted the clients' retries: the API answers 503 (a retry is safe,
#: every write path checks before it writes).
UNAVAILABLE: tuple[type[OrchestratorError], ...] = (
    StoreError,
    DrsError,
    Ec2Error,
    IamError,
    ReportStoreError,
)


def outcome_unknown(error: Exception) -> bool:
    """Whether a failed call may have taken effect: its answer was lost, or the service
    failed on its side (a throttled or refused call certainly did not)."""
    if isinstance(error, OutcomeUnknownError):
        return True
    return isinstance(error, StoreError) and error.outcome_unknown
