"""Exceptions of the orchestrator runtime, raised by adapters and domain code alike."""

from __future__ import annotations


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


class StoreError(OrchestratorError):
    """Raised when a DynamoDB call fails for a reason other than a failed condition."""

    def __init__(self, operation: str, code: str, message: str) -> None:
        self.operation = operation
        self.code = code
        super().__init__(f"DynamoDB {operation} failed with {code}: {message}")


class MalformedExecutionError(OrchestratorError):
    """Raised when an execution item lacks what the finder needs to track its jobs."""


class OutcomeUnknownError(OrchestratorError):
    """Raised when a call's answer was lost (time-out, dropped connection, a 5xx): the call
    may or may not have taken effect, so the caller must reconcile before repeating it."""

    def __init__(self, operation: str, detail: str) -> None:
        self.operation = operation
        super().__init__(f"{operation}: outcome unknown ({detail})")
